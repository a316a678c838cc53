// Classification networks: sizes, output shapes, torchvision naming and BatchNorm folding.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <string>
#include <vector>

#include "paddlex/core/errors.h"
#include "paddlex/modules/image_classification/models/classifier.h"
#include "tests/test_util.h"

namespace {

using paddlex::cls::Classifier;
using paddlex::cls::create_classifier;
using paddlex::testing::randomize_batchnorms;

int64_t parameter_count(const Classifier& model) {
  int64_t total = 0;
  for (const auto& p : model->parameters()) total += p.numel();
  return total;
}

// The keys a state_dict would have (parameters and buffers), sorted: LibTorch and PyTorch list
// them in different orders, loading goes by name.
std::vector<std::string> state_dict_keys(const Classifier& model) {
  std::vector<std::string> keys = model->named_parameters().keys();
  for (const auto& key : model->named_buffers().keys()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

bool has_key_containing(const Classifier& model, const std::string& part) {
  for (const auto& key : state_dict_keys(model)) {
    if (key.find(part) != std::string::npos) return true;
  }
  return false;
}

bool has_key(const Classifier& model, const std::string& key) {
  const auto keys = state_dict_keys(model);
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

TEST(ClsModels, NamesInOrder) {
  const std::vector<std::string> expected = {
      "ResNet18",
      "ResNet34",
      "ResNet50",
      "MobileNetV3_small_x1_0",
      "MobileNetV3_large_x1_0",
      "PP-LCNet_x0_25",
      "PP-LCNet_x0_5",
      "PP-LCNet_x1_0",
  };
  EXPECT_EQ(paddlex::cls::classifier_names(), expected);
}

TEST(ClsModels, ParameterCountsMatchPublishedFigures) {
  // Millions of parameters at 1000 classes, from the PaddleClas model zoo.
  const std::vector<std::pair<std::string, double>> published = {
      {"ResNet18", 11.69},
      {"ResNet34", 21.80},
      {"ResNet50", 25.56},
      {"MobileNetV3_large_x1_0", 5.47},
      {"MobileNetV3_small_x1_0", 2.94},
      {"PP-LCNet_x0_25", 1.52},
      {"PP-LCNet_x0_5", 1.89},
      {"PP-LCNet_x1_0", 2.96},
  };
  for (const auto& [name, millions] : published) {
    const double measured = parameter_count(create_classifier(name, 1000)) / 1e6;
    EXPECT_NEAR(measured, millions, 0.01 * millions) << name;
  }
}

TEST(ClsModels, OutputShapeForSmallAndOddInputs) {
  for (const auto& name : paddlex::cls::classifier_names()) {
    auto model = create_classifier(name, 7);
    // Training mode with autograd at 64x64, eval mode at the 32x32 minimum and a non-square size.
    auto logits = model->logits(torch::randn({2, 3, 64, 64}));
    EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 7})) << name;
    logits.sum().backward();
    model->eval();
    torch::NoGradGuard no_grad;
    EXPECT_EQ(model->logits(torch::randn({2, 3, 32, 32})).sizes(), (std::vector<int64_t>{2, 7}))
        << name;
    EXPECT_EQ(model->logits(torch::randn({1, 3, 40, 72})).sizes(), (std::vector<int64_t>{1, 7}))
        << name;
  }
}

TEST(ClsModels, OutputShapeAt224) {
  auto model = create_classifier("ResNet18", 10);
  model->eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(model->logits(torch::randn({2, 3, 224, 224})).sizes(), (std::vector<int64_t>{2, 10}));
}

TEST(ClsModels, ResNet18KeysAreTorchvisionsPlusPaddleClasFirstShortcut) {
  // list(torchvision.models.resnet18().state_dict().keys()), torchvision 0.14, plus the projection shortcut that
  // PaddleClas's ResNet18 has on its first block (layer1.0.downsample).
  // clang-format off
  std::vector<std::string> expected = {
      "conv1.weight",
      "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
      "layer1.0.conv1.weight",
      "layer1.0.bn1.weight", "layer1.0.bn1.bias", "layer1.0.bn1.running_mean",
      "layer1.0.bn1.running_var", "layer1.0.bn1.num_batches_tracked",
      "layer1.0.conv2.weight",
      "layer1.0.bn2.weight", "layer1.0.bn2.bias", "layer1.0.bn2.running_mean",
      "layer1.0.bn2.running_var", "layer1.0.bn2.num_batches_tracked",
      "layer1.1.conv1.weight",
      "layer1.1.bn1.weight", "layer1.1.bn1.bias", "layer1.1.bn1.running_mean",
      "layer1.1.bn1.running_var", "layer1.1.bn1.num_batches_tracked",
      "layer1.1.conv2.weight",
      "layer1.1.bn2.weight", "layer1.1.bn2.bias", "layer1.1.bn2.running_mean",
      "layer1.1.bn2.running_var", "layer1.1.bn2.num_batches_tracked",
      "layer2.0.conv1.weight",
      "layer2.0.bn1.weight", "layer2.0.bn1.bias", "layer2.0.bn1.running_mean",
      "layer2.0.bn1.running_var", "layer2.0.bn1.num_batches_tracked",
      "layer2.0.conv2.weight",
      "layer2.0.bn2.weight", "layer2.0.bn2.bias", "layer2.0.bn2.running_mean",
      "layer2.0.bn2.running_var", "layer2.0.bn2.num_batches_tracked",
      "layer2.0.downsample.0.weight",
      "layer2.0.downsample.1.weight", "layer2.0.downsample.1.bias",
      "layer2.0.downsample.1.running_mean",
      "layer2.0.downsample.1.running_var", "layer2.0.downsample.1.num_batches_tracked",
      "layer2.1.conv1.weight",
      "layer2.1.bn1.weight", "layer2.1.bn1.bias", "layer2.1.bn1.running_mean",
      "layer2.1.bn1.running_var", "layer2.1.bn1.num_batches_tracked",
      "layer2.1.conv2.weight",
      "layer2.1.bn2.weight", "layer2.1.bn2.bias", "layer2.1.bn2.running_mean",
      "layer2.1.bn2.running_var", "layer2.1.bn2.num_batches_tracked",
      "layer3.0.conv1.weight",
      "layer3.0.bn1.weight", "layer3.0.bn1.bias", "layer3.0.bn1.running_mean",
      "layer3.0.bn1.running_var", "layer3.0.bn1.num_batches_tracked",
      "layer3.0.conv2.weight",
      "layer3.0.bn2.weight", "layer3.0.bn2.bias", "layer3.0.bn2.running_mean",
      "layer3.0.bn2.running_var", "layer3.0.bn2.num_batches_tracked",
      "layer3.0.downsample.0.weight",
      "layer3.0.downsample.1.weight", "layer3.0.downsample.1.bias",
      "layer3.0.downsample.1.running_mean",
      "layer3.0.downsample.1.running_var", "layer3.0.downsample.1.num_batches_tracked",
      "layer3.1.conv1.weight",
      "layer3.1.bn1.weight", "layer3.1.bn1.bias", "layer3.1.bn1.running_mean",
      "layer3.1.bn1.running_var", "layer3.1.bn1.num_batches_tracked",
      "layer3.1.conv2.weight",
      "layer3.1.bn2.weight", "layer3.1.bn2.bias", "layer3.1.bn2.running_mean",
      "layer3.1.bn2.running_var", "layer3.1.bn2.num_batches_tracked",
      "layer4.0.conv1.weight",
      "layer4.0.bn1.weight", "layer4.0.bn1.bias", "layer4.0.bn1.running_mean",
      "layer4.0.bn1.running_var", "layer4.0.bn1.num_batches_tracked",
      "layer4.0.conv2.weight",
      "layer4.0.bn2.weight", "layer4.0.bn2.bias", "layer4.0.bn2.running_mean",
      "layer4.0.bn2.running_var", "layer4.0.bn2.num_batches_tracked",
      "layer4.0.downsample.0.weight",
      "layer4.0.downsample.1.weight", "layer4.0.downsample.1.bias",
      "layer4.0.downsample.1.running_mean",
      "layer4.0.downsample.1.running_var", "layer4.0.downsample.1.num_batches_tracked",
      "layer4.1.conv1.weight",
      "layer4.1.bn1.weight", "layer4.1.bn1.bias", "layer4.1.bn1.running_mean",
      "layer4.1.bn1.running_var", "layer4.1.bn1.num_batches_tracked",
      "layer4.1.conv2.weight",
      "layer4.1.bn2.weight", "layer4.1.bn2.bias", "layer4.1.bn2.running_mean",
      "layer4.1.bn2.running_var", "layer4.1.bn2.num_batches_tracked",
      "fc.weight", "fc.bias",
  };
  // clang-format on
  for (const char* key : {"layer1.0.downsample.0.weight", "layer1.0.downsample.1.weight", "layer1.0.downsample.1.bias",
                          "layer1.0.downsample.1.running_mean", "layer1.0.downsample.1.running_var",
                          "layer1.0.downsample.1.num_batches_tracked"})
    expected.push_back(key);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(state_dict_keys(create_classifier("ResNet18", 1000)), expected);
}

// Folding must keep eval-mode outputs and leave no BN state behind.
void check_fold(const std::string& name, const std::vector<std::string>& bn_key_parts,
                const std::vector<std::string>& new_bias_keys) {
  SCOPED_TRACE(name);
  torch::manual_seed(0);
  auto model = create_classifier(name, 10);
  randomize_batchnorms(*model);
  model->eval();
  torch::NoGradGuard no_grad;
  const auto input = torch::randn({2, 3, 64, 64});
  const auto reference = model->logits(input);

  model->fold_batchnorm();
  const auto folded = model->logits(input);
  EXPECT_TRUE(torch::allclose(folded, reference, 1e-4, 1e-5))
      << "max abs diff " << (folded - reference).abs().max().item<double>();
  for (const auto& part : bn_key_parts) EXPECT_FALSE(has_key_containing(model, part)) << part;
  for (const auto& key : new_bias_keys) EXPECT_TRUE(has_key(model, key)) << key;

  model->fold_batchnorm();  // a second fold has nothing left to do
  EXPECT_TRUE(torch::equal(model->logits(input), folded));
}

TEST(ClsModels, FoldBatchNormResNet) {
  check_fold("ResNet50", {"bn", "running_", "downsample.1"},
             {"conv1.bias", "layer1.0.conv3.bias", "layer2.0.downsample.0.bias"});
}

TEST(ClsModels, FoldBatchNormMobileNetV3) {
  check_fold("MobileNetV3_small_x1_0", {"bn", "running_"},
             {"conv.conv.bias", "blocks.0.linear_conv.conv.bias", "last_second_conv.conv.bias"});
}

TEST(ClsModels, FoldBatchNormPPLCNet) {
  check_fold("PP-LCNet_x0_5", {"bn", "running_"},
             {"conv1.conv.bias", "blocks6.1.dw_conv.conv.bias", "blocks6.1.pw_conv.conv.bias"});
}

TEST(ClsModels, UnknownNameListsKnownNames) {
  try {
    create_classifier("ResNet19", 10);
    FAIL() << "expected paddlex::ConfigError";
  } catch (const paddlex::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("ResNet18"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("PP-LCNet_x1_0"), std::string::npos) << e.what();
  }
}

TEST(ClsModels, NonPositiveClassCountIsAConfigError) {
  EXPECT_THROW(create_classifier("ResNet18", 0), paddlex::ConfigError);
}

}  // namespace
