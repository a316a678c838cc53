// The PP-OCRv4 mobile text detector's network: PaddleOCR's parameter names and shapes, its eval output against
// PaddleOCR's on PaddlePaddle (generated fixture), the training maps, and the BatchNorm-folded deployment form.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "paddlex/io/pickle_reader.h"
#include "paddlex/modules/text_detection/models/text_detector.h"
#include "paddlex/task/task.h"
#include "tests/test_util.h"

namespace paddlex::ocr {
namespace {

TEST(TextDetector, EvalOutputEqualsPaddleOcrWithin1e4) {
  const std::string dir = std::string(PADDLEX_PADDLE_FIXTURES) + "/ocr";
  const std::string weights = dir + "/PP-OCRv4_mobile_det.pdparams";
  ASSERT_TRUE(std::filesystem::exists(weights)) << weights << " is missing: scripts/paddle_fixtures.sh makes it";
  auto net = create_text_detector("PP-OCRv4_mobile_det");
  // Every tensor of PaddleOCR's file fits ours, and every one of ours is in the file.
  load_network_weights(*net, read_weights_for(*net, weights), weights);
  net->eval();
  torch::NoGradGuard no_grad;
  const auto io = read_paddle_state_dict(dir + "/PP-OCRv4_mobile_det.io.pdparams");
  const auto expected = testing::tensor_named(io, "output");
  const auto image = testing::tensor_named(io, "input");
  const auto maps = net->forward({{"image", image}}).at("maps");
  ASSERT_EQ(maps.sizes(), expected.sizes());
  EXPECT_LE((maps - expected).abs().max().item<double>(), 1e-4);
  EXPECT_GE((expected - expected.mean()).abs().max().item<double>(), 0.1) << "a flat fixture proves nothing";
  net->fold_batchnorm();
  for (const auto& p : net->named_parameters()) EXPECT_EQ(p.key().find("conv_bn"), std::string::npos) << p.key();
  EXPECT_LE((net->forward({{"image", image}}).at("maps") - expected).abs().max().item<double>(), 1e-4);
}

TEST(TextDetector, TrainingGivesShrinkThresholdAndBinaryMaps) {
  torch::manual_seed(0);
  auto net = create_text_detector("PP-OCRv4_mobile_det");
  net->train();
  const auto maps = net->forward({{"image", torch::randn({2, 3, 64, 96})}}).at("maps");
  ASSERT_EQ(maps.sizes().vec(), (std::vector<int64_t>{2, 3, 64, 96}));
  // The binary map is DB's step function of the other two: 1 / (1 + exp(-50 (P - T))).
  const auto binary = torch::sigmoid(50 * (maps.select(1, 0) - maps.select(1, 1)));
  EXPECT_LE((maps.select(1, 2) - binary).abs().max().item<double>(), 1e-6);
  EXPECT_DOUBLE_EQ(net->parameter_training("backbone.blocks4.1.pw_conv.lab.scale").lr_scale, 0.1);
  EXPECT_EQ(net->parameter_training("backbone.blocks4.1.pw_conv.conv_kxk.0.bn.weight").weight_decay, 0.0);
  EXPECT_FALSE(net->parameter_training("neck.ins_conv.0.in_conv.weight").weight_decay.has_value());
}

}  // namespace
}  // namespace paddlex::ocr
