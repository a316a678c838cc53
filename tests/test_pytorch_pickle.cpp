// Reading PyTorch state_dict files without Python (paddlex/io/pickle_reader.h) and load_tensor_dict.
// The fixtures in tests/data/pytorch_pickle/ were written by tests/data/make_pickle_fixtures.py with Python
// torch 1.13; every tensor there is ar(shape, dtype, scale, offset) below, so the expected values are exact.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"
#include "paddlex/core/errors.h"
#include "paddlex/io/tensor_file.h"
#include "paddlex/io/pickle_reader.h"

using namespace paddlex::testing;

#ifndef PADDLEX_SOURCE_DIR
#define PADDLEX_SOURCE_DIR "."
#endif

namespace {

namespace fs = std::filesystem;
using paddlex::read_pytorch_state_dict;
using Entries = std::vector<std::pair<std::string, torch::Tensor>>;

std::string fixture(const std::string& name) {
  return std::string(PADDLEX_SOURCE_DIR) + "/tests/data/pytorch_pickle/" + name;
}

// Mirror of `ar` in make_pickle_fixtures.py: (arange(numel) * scale + offset) in double, cast, reshaped.
torch::Tensor ar(std::vector<int64_t> shape, torch::Dtype dtype = torch::kFloat, double scale = 1.0,
                 double offset = 0.0) {
  int64_t numel = 1;
  for (int64_t s : shape) numel *= s;
  return (torch::arange(numel, torch::kDouble) * scale + offset).to(dtype).reshape(shape);
}

void expect_entry(const Entries& entries, size_t index, const std::string& name, const torch::Tensor& expected) {
  ASSERT_LT(index, entries.size()) << name;
  const auto& [actual_name, actual] = entries[index];
  EXPECT_EQ(actual_name, name);
  EXPECT_EQ(actual.scalar_type(), expected.scalar_type()) << name;
  EXPECT_EQ(actual.sizes(), expected.sizes()) << name;
  EXPECT_TRUE(actual.device().is_cpu()) << name;
  EXPECT_FALSE(actual.requires_grad()) << name;
  if (actual.scalar_type() == expected.scalar_type() && actual.sizes() == expected.sizes()) {
    EXPECT_TRUE(torch::equal(actual, expected)) << name << ":\n" << actual << "\nexpected\n" << expected;
  }
}

std::string error_of(const std::string& path) {
  try {
    read_pytorch_state_dict(path);
  } catch (const paddlex::RunError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not a RunError: ") + e.what();
  }
  return "no error";
}

void expect_error(const std::string& path, const std::vector<std::string>& parts) {
  const std::string message = error_of(path);
  EXPECT_NE(message.find(path), std::string::npos) << "the message should name the path: " << message;
  for (const auto& part : parts)
    EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
}


void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// nn.Sequential(Conv2d(2, 3, 3), BatchNorm2d(3), Linear(4, 2)).state_dict(), entry i = ar(shape, dtype, 0.5, i).
void expect_sequential(const Entries& e) {
  ASSERT_EQ(e.size(), 9u);
  expect_entry(e, 0, "0.weight", ar({3, 2, 3, 3}, torch::kFloat, 0.5, 0));
  expect_entry(e, 1, "0.bias", ar({3}, torch::kFloat, 0.5, 1));
  expect_entry(e, 2, "1.weight", ar({3}, torch::kFloat, 0.5, 2));
  expect_entry(e, 3, "1.bias", ar({3}, torch::kFloat, 0.5, 3));
  expect_entry(e, 4, "1.running_mean", ar({3}, torch::kFloat, 0.5, 4));
  expect_entry(e, 5, "1.running_var", ar({3}, torch::kFloat, 0.5, 5));
  expect_entry(e, 6, "1.num_batches_tracked", ar({}, torch::kLong, 0.5, 6));
  expect_entry(e, 7, "2.weight", ar({2, 4}, torch::kFloat, 0.5, 7));
  expect_entry(e, 8, "2.bias", ar({2}, torch::kFloat, 0.5, 8));
  EXPECT_EQ(e[6].second.item<int64_t>(), 6);
  EXPECT_EQ(e[0].second[2][1][2][2].item<float>(), 26.5f);  // element 53 of 54
}

TEST(PytorchPickle, OrderedDictStateDictOfSequential) {
  expect_sequential(read_pytorch_state_dict(fixture("sequential_state_dict.pt")));
}

TEST(PytorchPickle, Protocol4FromNewerTorch) {  // FRAME, SHORT_BINUNICODE, STACK_GLOBAL, MEMOIZE
  expect_sequential(read_pytorch_state_dict(fixture("protocol4.pt")));
}

TEST(PytorchPickle, PlainDictWithOneTensor) {  // a one-item dict is pickled with SETITEM
  Entries e = read_pytorch_state_dict(fixture("plain_dict_one.pt"));
  ASSERT_EQ(e.size(), 1u);
  expect_entry(e, 0, "x", ar({5}));
}

TEST(PytorchPickle, StateDictWrapperIgnoresOtherEntries) {
  // {"state_dict": OrderedDict, "epoch": 3, float, str, list, torch.Size, torch.device, argparse.Namespace,
  //  big int, negative int, tuple, bytes}
  Entries e = read_pytorch_state_dict(fixture("wrapper_state_dict.pt"));
  ASSERT_EQ(e.size(), 2u);
  expect_entry(e, 0, "fc.weight", ar({2, 3}));
  expect_entry(e, 1, "fc.bias", ar({2}, torch::kFloat, 1, 10));
}

TEST(PytorchPickle, ModelWrapper) {
  Entries e = read_pytorch_state_dict(fixture("wrapper_model.pt"));
  ASSERT_EQ(e.size(), 1u);
  expect_entry(e, 0, "a", ar({2}, torch::kFloat, 1, 1));
}

TEST(PytorchPickle, ModulePrefixKeptByReaderStrippedByLoadTensorDict) {
  Entries raw = read_pytorch_state_dict(fixture("module_prefix.pt"));
  ASSERT_EQ(raw.size(), 2u);
  expect_entry(raw, 0, "module.fc.weight", ar({2, 2}));
  expect_entry(raw, 1, "module.fc.bias", ar({2}, torch::kFloat, 1, 4));
  paddlex::TensorDict loaded = paddlex::load_tensor_dict(fixture("module_prefix.pt"));
  ASSERT_EQ(loaded.size(), 2u);
  expect_entry(loaded, 0, "fc.weight", ar({2, 2}));
  expect_entry(loaded, 1, "fc.bias", ar({2}, torch::kFloat, 1, 4));
}

TEST(PytorchPickle, StridedViewsKeepTheirGeometry) {
  // base = ar((4, 6)); {"base": base, "view": base[1:, ::2], "transposed": base.t()}: one shared storage.
  Entries e = read_pytorch_state_dict(fixture("strided_view.pt"));
  ASSERT_EQ(e.size(), 3u);
  expect_entry(e, 0, "base", ar({4, 6}));
  expect_entry(e, 1, "view", torch::tensor({6.f, 8.f, 10.f, 12.f, 14.f, 16.f, 18.f, 20.f, 22.f}).reshape({3, 3}));
  expect_entry(e, 2, "transposed", ar({4, 6}).t());
  const torch::Tensor& view = e[1].second;
  EXPECT_EQ(view.strides(), (std::vector<int64_t>{6, 2}));
  EXPECT_EQ(view.storage_offset(), 6);
  EXPECT_EQ(e[2].second.strides(), (std::vector<int64_t>{1, 6}));
  EXPECT_TRUE(view.is_alias_of(e[0].second));  // like torch.load: views share the saved storage
}

TEST(PytorchPickle, DtypesAndShapes) {
  Entries e = read_pytorch_state_dict(fixture("dtypes.pt"));
  ASSERT_EQ(e.size(), 11u);
  expect_entry(e, 0, "half", ar({2, 3}, torch::kHalf, 0.5));
  expect_entry(e, 1, "bool", torch::tensor({true, false, true, false, true}));
  expect_entry(e, 2, "bfloat16", ar({4}, torch::kBFloat16));
  expect_entry(e, 3, "float64", ar({3}, torch::kDouble, 0.25));
  expect_entry(e, 4, "int64", ar({2, 2}, torch::kLong, 1, 1099511627776.0));
  expect_entry(e, 5, "int32", torch::tensor({-2, -1, 0, 1}, torch::kInt));
  expect_entry(e, 6, "int16", ar({3}, torch::kShort, 1, -300));
  expect_entry(e, 7, "int8", ar({4}, torch::kChar, 1, -2));
  expect_entry(e, 8, "uint8", torch::tensor({250, 251, 252, 253}, torch::kByte));
  expect_entry(e, 9, "empty", torch::zeros({0, 3}));
  expect_entry(e, 10, "scalar", torch::tensor(2.5f));
  EXPECT_EQ(e[0].second[1][2].item<float>(), 2.5f);
}

TEST(PytorchPickle, ParametersBecomePlainTensors) {  // torch._utils._rebuild_parameter
  Entries e = read_pytorch_state_dict(fixture("parameters.pt"));
  ASSERT_EQ(e.size(), 2u);
  expect_entry(e, 0, "p", ar({2, 2}));
  expect_entry(e, 1, "q", ar({3}, torch::kFloat, 1, 1));
}

TEST(PytorchPickle, UntypedStorageOnCudaLoadsToCpuAsBytes) {
  Entries e = read_pytorch_state_dict(fixture("untyped_storage_cuda.pt"));
  ASSERT_EQ(e.size(), 1u);
  expect_entry(e, 0, "u", ar({2, 3}, torch::kByte));
}

TEST(PytorchPickle, HandAssembledOpcodes) {
  // DUP, POP, POP_MARK, BININT/1/2, LONG1, BINFLOAT, BIN/SHORT_BINSTRING, BIN/SHORT_BINBYTES, BINUNICODE8,
  // NEWOBJ, TUPLE1-3, LONG_BINPUT/GET, MEMOIZE, STACK_GLOBAL, torch.Size, torch.device, BUILD on a dict.
  Entries e = read_pytorch_state_dict(fixture("handmade_ops.pt"));
  ASSERT_EQ(e.size(), 2u);
  expect_entry(e, 0, "t", torch::tensor({0.f, 1.f, 2.f, 3.f}).reshape({2, 2}));
  expect_entry(e, 1, "t2", torch::tensor({1.f, 2.f, 3.f}));
  EXPECT_EQ(e[1].second.storage_offset(), 1);
}

TEST(PytorchPickle, RejectsWithPreciseReasons) {
  expect_error(fixture("no_such_file.pt"), {"weights file not found"});
  expect_error(fixture("legacy_format.pt"), {"legacy (pre-1.6", "re-save it with a current torch.save"});
  expect_error(fixture("unsupported_opcode.pt"), {"unsupported pickle opcode DICT (0x64)"});
  expect_error(fixture("unsupported_global.pt"), {"entry 'f'", "unsupported global 'fractions.Fraction'"});
  expect_error(fixture("missing_record.pt"), {"missing storage record 'data/0'"});
  expect_error(fixture("not_tensor.pt"), {"entry 'epoch' is an int, not a tensor"});
  expect_error(fixture("whole_module.pt"), {"unsupported global 'torch.nn.modules.linear.Linear'", "not a dict"});
  expect_error(fixture("torchscript.pt"), {"TorchScript"});

  TempDir dir("pytorch_pickle");
  write_file(dir.file("empty.pt"), "");
  expect_error(dir.file("empty.pt"), {"empty"});
  write_file(dir.file("text.pt"), "hello world\n");
  expect_error(dir.file("text.pt"), {"not a zip archive"});
  std::ifstream in(fixture("plain_dict_one.pt"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  write_file(dir.file("truncated.pt"), bytes.substr(0, bytes.size() / 2));
  expect_error(dir.file("truncated.pt"), {"cannot read weights"});
}

TEST(PytorchPickle, LoadTensorDictOfLegacyFileIsARunError) {
  EXPECT_THROW(paddlex::load_tensor_dict(fixture("legacy_format.pt")), paddlex::RunError);
}

TEST(PytorchPickle, RoundTripThroughSaveTensorDict) {
  paddlex::TensorDict tensors = {
      {"conv.weight", ar({4, 3}).t()},  // non-contiguous: saved contiguous
      {"bn.num_batches_tracked", torch::tensor(int64_t{7})},
      {"half", ar({2, 2}, torch::kHalf, 0.5)},
      {"mask", torch::tensor({true, false})},
      {"empty", torch::zeros({0, 2})},
      {"wide", ar({3}, torch::kLong, 1, -5)},
  };
  TempDir dir("pytorch_pickle");
  const std::string path = dir.file("model.pt");
  paddlex::save_tensor_dict(tensors, path);
  for (const Entries& loaded : {paddlex::load_tensor_dict(path), read_pytorch_state_dict(path)}) {
    ASSERT_EQ(loaded.size(), tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) expect_entry(loaded, i, tensors[i].first, tensors[i].second);
  }
}

}  // namespace
