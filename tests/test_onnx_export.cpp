// ONNX export of every classification and multi-label model: the graph passes onnx::checker and, run in OpenCV's
// dnn module, gives LibTorch's eval-mode outputs (unfolded BatchNorm) at batch 1 and 3, square and not.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "paddlex/inference/onnx_runner.h"
#include "paddlex/modules/image_classification/models/classifier.h"
#include "paddlex/modules/image_multilabel_classification/models/ml_classifier.h"
#include "paddlex/nn/onnx_graph.h"
#include "tests/test_util.h"

namespace paddlex {
namespace {

using testing::randomize_batchnorms;
using testing::TempDir;

std::vector<std::string> all_model_names() {
  std::vector<std::string> names = cls::classifier_names();
  for (const auto& n : mlcls::ml_classifier_names()) names.push_back(n);
  return names;
}

cls::Classifier build(const std::string& name, int64_t classes) {
  const auto& ml = mlcls::ml_classifier_names();
  return std::find(ml.begin(), ml.end(), name) != ml.end() ? mlcls::create_ml_classifier(name, classes)
                                                            : cls::create_classifier(name, classes);
}

std::string export_onnx(const Network& model, const std::string& path) {
  nn::OnnxGraph graph("test");
  model.to_onnx(graph);
  graph.check();
  std::ofstream(path, std::ios::binary) << graph.serialize();
  return path;
}

class OnnxExportTest : public ::testing::TestWithParam<std::string> {};

TEST_P(OnnxExportTest, OpenCvRunsItAsLibTorchEvalMode) {
  torch::manual_seed(7);
  auto model = build(GetParam(), 6);
  randomize_batchnorms(*model);
  model->eval();
  torch::NoGradGuard no_grad;
  const std::vector<torch::Tensor> inputs = {torch::randn({1, 3, 64, 64}), torch::randn({3, 3, 96, 64})};
  std::vector<torch::Tensor> expected;
  for (const auto& x : inputs) expected.push_back(model->logits(x));
  model->fold_batchnorm();
  TempDir dir("onnx_export");
  OnnxRunner runner(export_onnx(*model, dir.file("m.onnx")), {"image"}, {"logits"});
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto got = runner.run({{"image", inputs[i]}}).at("logits");
    ASSERT_EQ(got.sizes(), expected[i].sizes()) << "input " << inputs[i].sizes();
    // Random weights with random BatchNorm statistics give logits up to a few hundred (ResNet50): the bound is
    // relative to them here; trained models are held to 1e-4 absolute in test_e2e_deploy.
    const double diff = (got - expected[i]).abs().max().item<double>();
    EXPECT_LE(diff, 1e-4 * std::max(1.0, expected[i].abs().max().item<double>())) << "input " << inputs[i].sizes() << ", logits up to "
                          << expected[i].abs().max().item<double>();
    EXPECT_TRUE(torch::equal(got.argmax(1), expected[i].argmax(1)));
  }
}

INSTANTIATE_TEST_SUITE_P(EveryModel, OnnxExportTest, ::testing::ValuesIn(all_model_names()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
}  // namespace paddlex
