// PaddlePaddle weights: the .pdparams reader (paddlex/io/pickle_reader.h) on the hand-made files in
// tests/data/pdparams/ (committed; written by tests/data/make_paddle_fixtures.py --bad-inputs), and numerical
// parity of every model named like a PaddleX model with PaddleClas's implementation on PaddlePaddle, on fixtures
// that scripts/setup.sh --tests generates into .paddle-fixtures/ (scripts/paddle_fixtures.sh runs
// tests/data/make_paddle_fixtures.py).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "paddlex/core/errors.h"
#include "paddlex/io/paddle_layout.h"
#include "paddlex/io/pickle_reader.h"
#include "paddlex/modules/image_classification/models/classifier.h"
#include "paddlex/modules/image_multilabel_classification/models/ml_classifier.h"
#include "paddlex/modules/registry.h"
#include "paddlex/task/task.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace paddlex::testing;

namespace {

std::string bad_input(const std::string& name) {
  return std::string(PADDLEX_SOURCE_DIR) + "/tests/data/pdparams/" + name;
}

// The RunError message of reading `path`, or "" when it reads.
std::string read_error(const std::string& path) {
  try {
    paddlex::read_paddle_state_dict(path);
  } catch (const paddlex::RunError& e) {
    return e.what();
  }
  return "";
}

TEST(PdparamsReader, ReadsNumpyArraysInFileOrder) {
  for (const char* file : {"good.pdparams", "good_protocol2.pdparams"}) {
    const auto dict = paddlex::read_paddle_state_dict(bad_input(file));
    ASSERT_EQ(dict.size(), 2u) << file;
    EXPECT_EQ(dict[0].first, "fc.weight");
    EXPECT_EQ(dict[1].first, "fc.bias");
    EXPECT_TRUE(torch::equal(dict[0].second, torch::arange(6, torch::kFloat).reshape({2, 3}))) << file;
    EXPECT_TRUE(torch::equal(dict[1].second, torch::zeros({3}))) << file;
  }
}

TEST(PdparamsReader, FortranOrderArraysKeepTheirLogicalLayout) {
  const auto dict = paddlex::read_paddle_state_dict(bad_input("fortran_order.pdparams"));
  ASSERT_EQ(dict.size(), 1u);
  EXPECT_TRUE(torch::equal(dict[0].second, torch::arange(6, torch::kFloat).reshape({2, 3})));
}

TEST(PdparamsReader, BadFilesGiveClearErrorsNamingTheFile) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"truncated.pdparams", "truncated pickle"},
      {"not_numpy.pdparams", "'fc.weight' is a list, not a numpy array"},
      {"object_array.pdparams", "numpy object array"},
      {"big_endian.pdparams", "big-endian"},
      {"complex.pdparams", "numpy dtype 'c8' is not supported"},
      {"not_a_dict.pdparams", "holds a list, not a dict"},
      {"calls_os_system.pdparams", "global 'posix.system' is not allowed"},
      {"calls_and_pops.pdparams", "global 'posix.system' is not allowed"},
      {"uint16.pdparams", "numpy dtype 'u2' is not supported"},
      {"size_mismatch.pdparams", "needs 20 bytes, the file holds 16"},
  };
  for (const auto& [file, reason] : cases) {
    const std::string error = read_error(bad_input(file));
    EXPECT_TRUE(Contains(error, bad_input(file))) << file;
    EXPECT_TRUE(Contains(error, reason)) << file;
  }

  TempDir dir("pdparams");
  EXPECT_TRUE(Contains(read_error(dir.write("empty.pdparams", "")), "the file is empty"));
  EXPECT_TRUE(Contains(read_error(dir.write("text.pdparams", "hello")), "not a PaddlePaddle weight file"));
  EXPECT_TRUE(Contains(read_error(dir.file("absent.pdparams")), "weights file not found"));
  fs::copy_file(std::string(PADDLEX_SOURCE_DIR) + "/tests/data/pytorch_pickle/parameters.pt", dir.file("zip.pdparams"));
  EXPECT_TRUE(Contains(read_error(dir.file("zip.pdparams")), "a zip archive (a torch.save file?)"));
}

TEST(PdparamsReader, EmptyAndZeroDimensionalArrays) {
  const auto empty = paddlex::read_paddle_state_dict(bad_input("empty_protocol2.pdparams"));
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0].second.sizes(), (std::vector<int64_t>{0, 3}));
  const auto scalar = paddlex::read_paddle_state_dict(bad_input("scalar.pdparams"));
  ASSERT_EQ(scalar.size(), 1u);
  EXPECT_EQ(scalar[0].second.dim(), 0);
  EXPECT_EQ(scalar[0].second.item<float>(), 2.5f);
}

TEST(PdparamsReader, DeepNestingIsAnErrorNotAStackOverflow) {
  TempDir dir("pdparams_deep");
  std::string pickle = "\x80\x04)";  // PROTO 4, EMPTY_TUPLE
  pickle += std::string(300000, '\x85');  // TUPLE1, nesting the tuple 300000 deep
  pickle += ".";
  EXPECT_TRUE(Contains(read_error(dir.write("deep.pdparams", pickle)), "holds a tuple, not a dict"));
}

TEST(PdparamsReader, OptimizerAndProgressFilesAreNamedForWhatTheyAre) {
  try {
    paddlex::paddle_weights_at(bad_input("optimizer.pdopt"), "Train.pretrain_weight_path");
    FAIL() << "a .pdopt file was accepted as weights";
  } catch (const paddlex::RunError& e) {
    EXPECT_TRUE(Contains(e.what(), "Train.pretrain_weight_path"));
    EXPECT_TRUE(Contains(e.what(), "optimizer state"));
    EXPECT_TRUE(Contains(e.what(), "optimizer.pdparams"));
  }
  EXPECT_THROW(paddlex::paddle_weights_at("x/best_model.pdstates", "Evaluate.weight_path"), paddlex::RunError);
}

TEST(PdparamsReader, FindsTheWeightsOfAPaddleXCheckpointDirectory) {
  TempDir dir("pdx_dir");
  fs::create_directories(dir.file("best_model"));
  EXPECT_EQ(paddlex::paddle_weights_at(dir.file("best_model"), "k"), "");  // nothing there
  fs::copy_file(bad_input("good.pdparams"), dir.file("best_model/best_model.pdparams"));
  dir.write("best_model/best_model.pdstates", "");
  EXPECT_EQ(paddlex::paddle_weights_at(dir.file("best_model"), "k"), dir.file("best_model/best_model.pdparams"));
  fs::copy_file(bad_input("good.pdparams"), dir.file("best_model/other.pdparams"));
  try {
    paddlex::paddle_weights_at(dir.file("best_model"), "Evaluate.weight_path");
    FAIL() << "an ambiguous directory was accepted";
  } catch (const paddlex::RunError& e) {
    EXPECT_TRUE(Contains(e.what(), "several PaddlePaddle weight files (best_model.pdparams, other.pdparams)"));
  }
  dir.write("best_model/model.yml", "");  // our checkpoint directory: not PaddlePaddle's
  EXPECT_EQ(paddlex::paddle_weights_at(dir.file("best_model"), "k"), "");
}

TEST(PaddleLayout, RenamesStatisticsTransposesLinearAndAddsBatchCounters) {
  torch::nn::Sequential model(torch::nn::Linear(3, 2), torch::nn::BatchNorm2d(2));
  paddlex::TensorDict paddle = {{"0.weight", torch::arange(6, torch::kFloat).reshape({3, 2})},
                                {"0.bias", torch::ones({2})},
                                {"1.weight", torch::ones({2})},
                                {"1.bias", torch::zeros({2})},
                                {"1._mean", torch::full({2}, 0.5)},
                                {"1._variance", torch::full({2}, 2.0)}};
  const auto ours = paddlex::from_paddle_layout(*model, {}, paddle);
  EXPECT_TRUE(torch::equal(tensor_named(ours, "0.weight"), torch::arange(6, torch::kFloat).reshape({3, 2}).t()));
  EXPECT_TRUE(torch::equal(tensor_named(ours, "1.running_mean"), torch::full({2}, 0.5)));
  EXPECT_TRUE(torch::equal(tensor_named(ours, "1.running_var"), torch::full({2}, 2.0)));
  EXPECT_NO_THROW(paddlex::load_exact(*model, ours, "layout test"));
}

TEST(PaddleLayout, OlderResNet18WeightsWithoutTheFirstShortcutAreExplained) {
  auto model = paddlex::cls::create_classifier("ResNet18", 3);
  paddlex::TensorDict older;
  for (const auto& [name, t] : paddlex::state_dict(*model))
    if (name.rfind("layer1.0.downsample.", 0) != 0) older.emplace_back(name, t.clone());
  try {
    paddlex::load_network_weights(*model, older, "older/model.pt");
    FAIL() << "weights without layer1.0.downsample loaded";
  } catch (const paddlex::RunError& e) {
    EXPECT_TRUE(Contains(e.what(), "the file lacks only layer1.0.downsample"));
  }
}

TEST(PaddleLayout, TwoNamesMappingToOneAreAnError) {
  auto model = paddlex::cls::create_classifier("ResNet18", 3);
  paddlex::TensorDict paddle = {{"stem.0.conv.weight", torch::zeros({64, 3, 7, 7})},
                                {"conv1.weight", torch::zeros({64, 3, 7, 7})}};
  EXPECT_THROW(paddlex::from_paddle_layout(*model, model->paddle_name_prefixes(), paddle), paddlex::RunError);
}

// ---- parity with PaddleClas on PaddlePaddle ----------------------------------------------------------------

std::string fixture_dir() { return PADDLEX_PADDLE_FIXTURES; }

nlohmann::json fixture_manifest() {
  const std::string path = fixture_dir() + "/fixtures.json";
  if (!fs::exists(path))
    ADD_FAILURE() << path << " is missing: scripts/setup.sh --tests generates it (scripts/paddle_fixtures.sh)";
  return fs::exists(path) ? read_json(path) : nlohmann::json();
}

TEST(PaddleParity, EveryPaddleXModelHasAFixture) {
  const nlohmann::json manifest = fixture_manifest();
  ASSERT_TRUE(manifest.is_object());
  std::set<std::string> fixtures;
  for (const auto& m : manifest["models"]) fixtures.insert(m["name"].get<std::string>());
  // PaddleOCR's models have their own manifest (tests/data/make_ocr_fixtures.py).
  const std::string ocr = fixture_dir() + "/ocr/fixtures.json";
  const nlohmann::json ocr_manifest = fs::exists(ocr) ? read_json(ocr) : nlohmann::json::object();
  for (const auto& m : ocr_manifest.value("models", nlohmann::json::array())) fixtures.insert(m["name"].get<std::string>());
  for (const auto& task : paddlex::make_all_tasks())
    for (const auto& name : task->model_names())
      EXPECT_TRUE(fixtures.count(name)) << name << " (" << task->name() << ") has no PaddlePaddle parity fixture";
}

TEST(PaddleParity, EvalOutputsEqualPaddleClasWithin1e4) {
  const nlohmann::json manifest = fixture_manifest();
  ASSERT_TRUE(manifest.is_object());
  torch::NoGradGuard no_grad;
  for (const auto& entry : manifest["models"]) {
    const std::string name = entry["name"];
    const std::string weights = fixture_dir() + "/" + name + ".pdparams";
    auto model = make_any_classifier(name, manifest["num_classes"].get<int64_t>());
    paddlex::load_exact(*model, paddlex::read_weights_for(*model, weights), weights);
    model->eval();
    const auto io = paddlex::read_paddle_state_dict(fixture_dir() + "/" + name + ".io.pdparams");
    const torch::Tensor expected = tensor_named(io, "logits");
    const torch::Tensor logits = model->forward({{"image", tensor_named(io, "image")}}).at("logits");
    ASSERT_EQ(logits.sizes(), expected.sizes()) << name;
    const double diff = (logits - expected).abs().max().item<double>();
    EXPECT_LE(diff, 1e-4) << name << ": max abs diff " << diff << " from PaddlePaddle's output";
    // The tolerance means something only if the outputs are not all tiny.
    EXPECT_GE(expected.abs().max().item<double>(), 0.1) << name;
  }
}

TEST(PaddleParity, WrongModelWeightsListTheMismatches) {
  const nlohmann::json manifest = fixture_manifest();
  ASSERT_TRUE(manifest.is_object());
  const std::string weights = fixture_dir() + "/ResNet18.pdparams";
  auto model = make_any_classifier("PP-LCNet_x0_25", manifest["num_classes"].get<int64_t>());
  try {
    paddlex::load_exact(*model, paddlex::read_weights_for(*model, weights), weights);
    FAIL() << "ResNet18 weights loaded into PP-LCNet_x0_25";
  } catch (const paddlex::RunError& e) {
    EXPECT_TRUE(Contains(e.what(), weights));
    EXPECT_TRUE(Contains(e.what(), "weights of another model?"));
    EXPECT_TRUE(Contains(e.what(), "fc.weight: shape [7, 512] in file, [7, 1280] in model"));
    EXPECT_TRUE(Contains(e.what(), "blocks.0.conv0.conv.weight: not in the model"));
    EXPECT_TRUE(Contains(e.what(), "blocks2.0.dw_conv.conv.weight: not in the file"));
  }
}

}  // namespace
