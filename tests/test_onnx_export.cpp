// ONNX export of every classification and multi-label model: the graph passes onnx::checker and runs, in OpenCV's
// dnn module, in our oneDNN runner and in onnxruntime, as LibTorch's eval mode (BatchNorm unfolded) at batch 1 and
// 3, square and not.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>

#include "paddlex/core/errors.h"
#include "paddlex/inference/onednn_runner.h"
#include "paddlex/inference/onnx_runner.h"
#include "paddlex/nn/onnx_graph.h"
#include "tests/test_util.h"

namespace paddlex {
namespace {

using testing::all_classifier_names;
using testing::TempDir;

std::string export_onnx(const Network& model, const std::string& path) {
  nn::OnnxGraph graph("test");
  model.to_onnx(graph);
  graph.check();
  std::ofstream(path, std::ios::binary) << graph.serialize();
  return path;
}

// A model with random weights and BatchNorm statistics, its eval-mode logits on `inputs`, then folded and
// exported to `path`.
std::vector<torch::Tensor> export_with_reference(const std::string& name, const std::vector<torch::Tensor>& inputs,
                                                 const std::string& path) {
  torch::manual_seed(7);
  auto model = testing::make_any_classifier(name, 6);
  testing::randomize_batchnorms(*model);
  model->eval();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> expected;
  for (const auto& x : inputs) expected.push_back(model->logits(x));
  model->fold_batchnorm();
  export_onnx(*model, path);
  return expected;
}

// Random weights with random BatchNorm statistics give logits up to a few hundred (ResNet50): the bound is relative
// to them here; trained models are held to 1e-4 absolute in test_e2e_deploy.cpp.
void expect_close(const torch::Tensor& got, const torch::Tensor& expected, const std::string& what) {
  ASSERT_EQ(got.sizes(), expected.sizes()) << what;
  const double diff = (got - expected).abs().max().item<double>();
  EXPECT_LE(diff, 1e-4 * std::max(1.0, expected.abs().max().item<double>()))
      << what << ": logits up to " << expected.abs().max().item<double>();
  EXPECT_TRUE(torch::equal(got.argmax(1), expected.argmax(1))) << what;
}

class OnnxExportTest : public ::testing::TestWithParam<std::string> {
 protected:
  // Runs the exported model in `Runner` on inputs of two shapes, then the first shape again (a plan built for one
  // shape must survive another's and give the same result when reused).
  template <typename Runner>
  void expect_runs_as_libtorch() {
    const std::vector<torch::Tensor> inputs = {torch::randn({1, 3, 64, 64}), torch::randn({3, 3, 96, 64}),
                                               torch::randn({1, 3, 64, 64})};
    TempDir dir("onnx_export");
    const auto expected = export_with_reference(GetParam(), inputs, dir.file("m.onnx"));
    Runner runner(dir.file("m.onnx"), {"image"}, {"logits"});
    for (size_t i = 0; i < inputs.size(); ++i)
      expect_close(runner.run({{"image", inputs[i]}}).at("logits"), expected[i],
                   "input " + std::to_string(i) + " " + c10::str(inputs[i].sizes()));
  }
};

TEST_P(OnnxExportTest, OpenCvRunsItAsLibTorchEvalMode) { expect_runs_as_libtorch<OnnxRunner>(); }

TEST_P(OnnxExportTest, OneDnnRunsItAsLibTorchEvalMode) { expect_runs_as_libtorch<OneDnnRunner>(); }

INSTANTIATE_TEST_SUITE_P(EveryModel, OnnxExportTest, ::testing::ValuesIn(all_classifier_names()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

void write_raw(const torch::Tensor& t, const std::string& path) {
  const auto c = t.contiguous();
  std::ofstream(path, std::ios::binary).write(static_cast<const char*>(c.data_ptr()), c.numel() * sizeof(float));
}

torch::Tensor read_raw(const std::string& path, at::IntArrayRef shape) {
  auto t = torch::empty(shape, torch::kFloat);
  std::ifstream in(path, std::ios::binary);
  in.read(static_cast<char*>(t.data_ptr()), t.numel() * sizeof(float));
  EXPECT_EQ(in.gcount(), static_cast<std::streamsize>(t.numel() * sizeof(float))) << path;
  return t;
}

// onnxruntime from PyPI, in the test environment scripts/paddle_fixtures.sh makes (.venv-paddle).
TEST(OnnxRuntime, RunsEveryExportAsLibTorchEvalMode) {
  const std::string python = std::string(PADDLEX_SOURCE_DIR) + "/.venv-paddle/bin/python";
  if (std::system((python + " -c 'import onnxruntime' 2>/dev/null").c_str()) != 0)
    FAIL() << python << " cannot import onnxruntime: scripts/setup.sh --tests installs it (scripts/paddle_fixtures.sh)";
  TempDir dir("onnxruntime");
  const auto input = torch::randn({2, 3, 80, 64});
  write_raw(input, dir.file("input.bin"));
  nlohmann::json cases = nlohmann::json::array();
  std::map<std::string, torch::Tensor> expected;
  for (const auto& name : all_classifier_names()) {
    expected[name] = export_with_reference(name, {input}, dir.file(name + ".onnx")).front();
    cases.push_back({{"model", dir.file(name + ".onnx")}, {"input", dir.file("input.bin")}, {"input_name", "image"},
                     {"shape", input.sizes().vec()}, {"output", dir.file(name + ".out")}, {"output_name", "logits"}});
  }
  dir.write("cases.json", cases.dump());
  const std::string command = python + " " + PADDLEX_SOURCE_DIR + "/tests/data/run_onnxruntime.py " +
                              dir.file("cases.json") + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  for (const auto& [name, logits] : expected)
    expect_close(read_raw(dir.file(name + ".out"), logits.sizes()), logits, name + " in onnxruntime");
}

// What OnnxUnsupported says when `network` is emitted; "" when it emits.
std::string unsupported_message(const Network& network) {
  nn::OnnxGraph graph("t");
  try {
    network.to_onnx(graph);
  } catch (const nn::OnnxUnsupported& e) {
    return e.what();
  }
  return "";
}

TEST(OnnxExport, LayerWithoutDescriptionIsNamed) {
  struct Plain : Network {
    Plain() { register_module("pool", torch::nn::MaxPool2d(2)); }
    std::vector<std::string> input_names() const override { return {"image"}; }
    std::vector<std::string> output_names() const override { return {"out"}; }
    TensorMap forward(const TensorMap& in) override { return in; }
    void fold_batchnorm() override {}
    void to_onnx(nn::OnnxGraph& g) const override {
      g.add_input("image", {"batch", 3, 8, 8});
      g.add_output("out", g.emit(*named_children()[0].value(), "pool", "image"), {"batch", 3, 4, 4});
    }
  } plain;
  const std::string message = unsupported_message(plain);
  ASSERT_FALSE(message.empty()) << "no error";
  EXPECT_TRUE(testing::Contains(message, "layer 'pool'"));
  EXPECT_TRUE(testing::Contains(message, "MaxPool2d"));
}

TEST(OnnxExport, UnfoldedBatchNormIsRefused) {
  const std::string message = unsupported_message(*testing::make_any_classifier("PP-LCNet_x0_25", 3));
  ASSERT_FALSE(message.empty()) << "no error";
  EXPECT_TRUE(testing::Contains(message, "conv1"));
  EXPECT_TRUE(testing::Contains(message, "BatchNorm must be folded"));
}

// What OneDnnRunner says when it loads `path`; "" when it loads.
std::string onednn_load_message(const std::string& path) {
  try {
    OneDnnRunner runner(path, {"image"}, {"out"});
  } catch (const RunError& e) {
    return e.what();
  }
  return "";
}

TEST(OneDnnRunner, OperatorItDoesNotImplementIsNamedAtLoad) {
  TempDir dir("onednn_op");
  nn::OnnxGraph graph("t");
  graph.add_input("image", {"batch", 3, 8, 8});
  {
    auto s = graph.scope("head");
    graph.add_output("out", graph.node("Tanh", {"image"}), {"batch", 3, 8, 8});
  }
  graph.check();
  std::ofstream(dir.file("m.onnx"), std::ios::binary) << graph.serialize();
  const std::string message = onednn_load_message(dir.file("m.onnx"));
  EXPECT_TRUE(testing::Contains(message, dir.file("m.onnx"))) << message;
  EXPECT_TRUE(testing::Contains(message, "node 'out' (Tanh)")) << message;
  EXPECT_TRUE(testing::Contains(message, "run_mode=onnx")) << message;
}

TEST(OneDnnRunner, CorruptFileAndUnknownNamesAreRefused) {
  TempDir dir("onednn_bad");
  std::ofstream(dir.file("bad.onnx"), std::ios::binary) << "not a protobuf \x01\x02";
  EXPECT_TRUE(testing::Contains(onednn_load_message(dir.file("bad.onnx")), "not a readable ONNX model"));
  EXPECT_TRUE(testing::Contains(onednn_load_message(dir.file("missing.onnx")), "not a readable ONNX model"));
  auto model = testing::make_any_classifier("PP-LCNet_x0_25", 3);
  model->eval();
  model->fold_batchnorm();
  export_onnx(*model, dir.file("m.onnx"));
  EXPECT_TRUE(testing::Contains(onednn_load_message(dir.file("m.onnx")), "the model has no output 'out'"));
}

TEST(OnnxExport, GraphNamesFollowModulePathsAndOpsetIsStated) {
  auto model = testing::make_any_classifier("ResNet18", 3);
  model->eval();
  model->fold_batchnorm();
  nn::OnnxGraph graph("ResNet18");
  model->to_onnx(graph);
  graph.check();
  const std::string bytes = graph.serialize();
  for (const char* name : {"layer1.0.conv1.weight", "layer2.0.downsample.0.weight", "fc.weight", "image", "logits"})
    EXPECT_NE(bytes.find(name), std::string::npos) << name;
  EXPECT_EQ(nn::OnnxGraph::kOpset, 14);
}

}  // namespace
}  // namespace paddlex
