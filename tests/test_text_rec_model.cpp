// The PP-OCRv4 recognizer's network: PaddleOCR's parameter names and shapes, eval and train outputs, the
// use_guide gradient cut, the per-parameter training rules, and the deployment fusion of the rep layers.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

#include "paddlex/inference/onednn_runner.h"
#include "paddlex/inference/onnx_runner.h"
#include "paddlex/io/pickle_reader.h"
#include "paddlex/io/tensor_file.h"
#include "paddlex/modules/text_recognition/models/text_recognizer.h"
#include "paddlex/task/task.h"
#include "tests/test_util.h"

namespace paddlex::ocr {
namespace {

constexpr int64_t kClasses = 38;  // blank + 36 characters + space

std::map<std::string, std::vector<int64_t>> shapes(const Network& net) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& p : net.named_parameters()) out[p.key()] = p.value().sizes().vec();
  for (const auto& b : net.named_buffers()) out[b.key()] = b.value().sizes().vec();
  return out;
}

TEST(TextRecognizer, HasPaddleOcrParameterNamesAndShapes) {
  torch::manual_seed(0);
  auto net = create_text_recognizer("PP-OCRv4_mobile_rec", kClasses);
  const auto s = shapes(*net);
  // Shapes from docs/design/ocr_rec_reference.md section 3 (Paddle Linear weights are [in, out]; ours [out, in]).
  const std::map<std::string, std::vector<int64_t>> expected = {
      {"backbone.conv1.conv.weight", {16, 3, 3, 3}},
      {"backbone.conv1.bn.running_var", {16}},
      {"backbone.blocks2.0.dw_conv.conv_kxk.3.conv.weight", {16, 1, 3, 3}},
      {"backbone.blocks2.0.dw_conv.conv_1x1.conv.weight", {16, 1, 1, 1}},
      {"backbone.blocks2.0.dw_conv.identity.weight", {16}},
      {"backbone.blocks2.0.dw_conv.lab.scale", {1}},
      {"backbone.blocks2.0.dw_conv.act.lab.bias", {1}},
      {"backbone.blocks2.0.pw_conv.conv_kxk.0.conv.weight", {32, 16, 1, 1}},
      {"backbone.blocks5.0.dw_conv.conv_kxk.0.conv.weight", {128, 1, 3, 3}},
      {"backbone.blocks5.1.dw_conv.conv_kxk.0.conv.weight", {240, 1, 5, 5}},
      {"backbone.blocks6.0.se.conv1.weight", {60, 240, 1, 1}},
      {"backbone.blocks6.1.se.conv2.bias", {480}},
      {"backbone.blocks6.3.pw_conv.identity.running_mean", {480}},
      {"head.ctc_encoder.encoder.conv1.conv.weight", {60, 480, 1, 3}},
      {"head.ctc_encoder.encoder.conv1.norm.weight", {60}},
      {"head.ctc_encoder.encoder.svtr_block.1.mixer.qkv.weight", {360, 120}},
      {"head.ctc_encoder.encoder.svtr_block.0.mlp.fc1.weight", {240, 120}},
      {"head.ctc_encoder.encoder.norm.weight", {120}},
      {"head.ctc_encoder.encoder.conv4.conv.weight", {60, 960, 1, 3}},
      {"head.ctc_encoder.encoder.conv1x1.norm.running_mean", {120}},
      {"head.ctc_head.fc.weight", {kClasses, 120}},
      {"head.before_gtc.1.fc.weight", {384, 480}},
      {"head.gtc_head.embedding.embedding.weight", {kClasses + 4, 384}},
      {"head.gtc_head.positional_encoding.pe", {5000, 1, 384}},
      {"head.gtc_head.decoder.3.self_attn.qkv.weight", {1152, 384}},
      {"head.gtc_head.decoder.0.cross_attn.kv.weight", {768, 384}},
      {"head.gtc_head.decoder.2.mlp.fc2.weight", {384, 1536}},
      {"head.gtc_head.decoder.1.norm3.bias", {384}},
      {"head.gtc_head.tgt_word_prj.weight", {kClasses + 4, 384}},
  };
  for (const auto& [name, shape] : expected) {
    auto it = s.find(name);
    ASSERT_NE(it, s.end()) << name;
    EXPECT_EQ(it->second, shape) << name;
  }
  // Identity branches only where the stride is a plain 1 and the width does not change.
  EXPECT_EQ(s.count("backbone.blocks4.0.dw_conv.identity.weight"), 0u);
  EXPECT_EQ(s.count("backbone.blocks6.2.dw_conv.identity.weight"), 0u);
  EXPECT_EQ(s.count("backbone.blocks6.2.pw_conv.identity.weight"), 1u);
  EXPECT_EQ(s.count("backbone.blocks2.0.pw_conv.identity.weight"), 0u);
  EXPECT_EQ(s.count("backbone.blocks2.0.pw_conv.conv_1x1.conv.weight"), 0u);
}

TEST(TextRecognizer, EvalGivesCtcProbabilitiesTrainGivesBothHeads) {
  torch::manual_seed(1);
  auto net = create_text_recognizer("PP-OCRv4_mobile_rec", kClasses);
  net->eval();
  torch::NoGradGuard no_grad;
  const auto probs = net->forward({{"image", torch::randn({2, 3, 48, 320})}}).at("probs");
  EXPECT_EQ(probs.sizes().vec(), (std::vector<int64_t>{2, 40, kClasses}));
  EXPECT_TRUE(torch::allclose(probs.sum(2), torch::ones({2, 40}), 1e-4, 1e-4));
  // Any width: T = W / 8.
  EXPECT_EQ(net->forward({{"image", torch::randn({1, 3, 48, 96})}}).at("probs").size(1), 12);

  net->train();
  auto label = torch::zeros({2, 25}, torch::kInt64);
  label.index_put_({0, torch::indexing::Slice(0, 5)}, torch::tensor({2, 7, 8, 9, 3}));
  label.index_put_({1, torch::indexing::Slice(0, 4)}, torch::tensor({2, 10, 11, 3}));
  const auto out =
      net->forward({{"image", torch::randn({2, 3, 32, 320})}, {"label_gtc", label}, {"length", torch::tensor({3, 2})}});
  EXPECT_EQ(out.at("ctc_logits").sizes().vec(), (std::vector<int64_t>{2, 40, kClasses}));
  // <s> plus the longest label's 3 characters.
  EXPECT_EQ(out.at("nrtr_logits").sizes().vec(), (std::vector<int64_t>{2, 4, kClasses + 4}));
}

TEST(TextRecognizer, CtcLossDoesNotReachTheBackbone) {
  torch::manual_seed(2);
  auto net = create_text_recognizer("PP-OCRv4_mobile_rec", kClasses);
  net->train();
  auto label = torch::zeros({1, 25}, torch::kInt64);
  label.index_put_({0, torch::indexing::Slice(0, 3)}, torch::tensor({2, 7, 3}));
  const auto out =
      net->forward({{"image", torch::randn({1, 3, 48, 320})}, {"label_gtc", label}, {"length", torch::tensor({1})}});
  out.at("ctc_logits").sum().backward();
  for (const auto& p : net->named_parameters()) {
    if (p.key().rfind("backbone.", 0) != 0) continue;
    const auto& g = p.value().grad();
    EXPECT_TRUE(!g.defined() || g.abs().sum().item<double>() == 0) << p.key();
  }
  EXPECT_GT(net->named_parameters()["head.ctc_head.fc.weight"].grad().abs().sum().item<double>(), 0);
}

TEST(TextRecognizer, PaddleTrainingRulesPerParameter) {
  auto net = create_text_recognizer("PP-OCRv4_mobile_rec", kClasses);
  const auto lab = net->parameter_training("backbone.blocks3.1.pw_conv.act.lab.scale");
  EXPECT_DOUBLE_EQ(lab.lr_scale, 0.1);
  EXPECT_FALSE(lab.weight_decay.has_value());
  EXPECT_EQ(net->parameter_training("backbone.blocks3.1.dw_conv.conv_kxk.2.bn.weight").weight_decay, 0.0);
  EXPECT_EQ(net->parameter_training("backbone.conv1.bn.bias").weight_decay, 0.0);
  // The identity BN keeps the global decay, as in PaddleOCR.
  EXPECT_FALSE(net->parameter_training("backbone.blocks3.1.dw_conv.identity.weight").weight_decay.has_value());
  EXPECT_EQ(net->parameter_training("head.ctc_head.fc.weight").weight_decay, 1e-5);
  EXPECT_DOUBLE_EQ(net->parameter_training("head.gtc_head.decoder.0.norm1.weight").lr_scale, 1.0);
}

TEST(TextRecognizer, FusedDeploymentFormMatchesTheTrainedForm) {
  torch::manual_seed(3);
  auto net = create_text_recognizer("PP-OCRv4_mobile_rec", kClasses);
  // Non-trivial BN statistics and LAB values, so every folded term matters.
  {
    torch::NoGradGuard no_grad;
    for (auto& b : net->named_buffers())
      if (b.key().find("running_var") != std::string::npos)
        b.value().uniform_(0.5, 2.0);
      else if (b.key().find("running_mean") != std::string::npos)
        b.value().uniform_(-0.2, 0.2);
    for (auto& p : net->named_parameters())
      if (p.key().find("lab.") != std::string::npos || p.key().find(".bn.") != std::string::npos ||
          p.key().find("identity.") != std::string::npos)
        p.value().uniform_(0.5, 1.5);
  }
  net->eval();
  torch::NoGradGuard no_grad;
  const auto image = torch::randn({2, 3, 48, 160});
  const auto before = net->forward({{"image", image}}).at("probs");
  net->fold_batchnorm();
  for (const auto& p : net->named_parameters()) {
    EXPECT_EQ(p.key().find("conv_kxk"), std::string::npos) << p.key();
    EXPECT_EQ(p.key().find(".bn."), std::string::npos) << p.key();
  }
  const auto after = net->forward({{"image", image}}).at("probs");
  EXPECT_LT((before - after).abs().max().item<double>(), 1e-4);
}

// PaddleOCR's own network on PaddlePaddle (tests/data/make_ocr_fixtures.py: seeded weights and BN statistics, a
// 36-character dict) against ours loaded from its .pdparams.
const std::string kFixtureDir = std::string(PADDLEX_PADDLE_FIXTURES) + "/ocr";

// Loads the weights of PaddleOCR's fixture network into `net` and puts it in eval mode.
void load_fixture_weights(Network& net) {
  const std::string weights = kFixtureDir + "/PP-OCRv4_mobile_rec.pdparams";
  ASSERT_TRUE(std::filesystem::exists(weights)) << weights << " is missing: scripts/paddle_fixtures.sh makes it";
  load_network_weights(net, read_weights_for(net, weights), weights);
  net.eval();
}

TEST(TextRecognizer, EvalOutputEqualsPaddleOcrWithin1e4) {
  auto net = create_text_recognizer("PP-OCRv4_mobile_rec", kClasses);
  ASSERT_NO_FATAL_FAILURE(load_fixture_weights(*net));
  torch::NoGradGuard no_grad;
  const auto io = read_paddle_state_dict(kFixtureDir + "/PP-OCRv4_mobile_rec.io.pdparams");
  const auto expected = testing::tensor_named(io, "output");
  const auto probs = net->forward({{"image", testing::tensor_named(io, "input")}}).at("probs");
  ASSERT_EQ(probs.sizes(), expected.sizes());
  EXPECT_LE((probs - expected).abs().max().item<double>(), 1e-4);
  // The outputs must be peaked for the bound to mean anything.
  EXPECT_GE(expected.max().item<double>(), 0.5);
  // And the deployment form (rep layers fused) still agrees.
  net->fold_batchnorm();
  EXPECT_LE((net->forward({{"image", testing::tensor_named(io, "input")}}).at("probs") - expected).abs().max().item<double>(),
            1e-4);
}

// The fused recognizer exported to ONNX (PaddleOCR's weights from the fixture, so the probabilities are peaked) runs
// as LibTorch does on the oneDNN runner and in onnxruntime, at two widths and batch sizes and the first again, and in
// OpenCV dnn at batch 1 (OpenCV 4.6 cannot run the attention's batched MatMul beyond one image).
TEST(TextRecognizer, OnnxExportRunsAsLibTorchInEveryRuntime) {
  auto net = create_text_recognizer("PP-OCRv4_mobile_rec", kClasses);
  ASSERT_NO_FATAL_FAILURE(load_fixture_weights(*net));
  net->fold_batchnorm();
  testing::TempDir tmp("rec_onnx");
  const std::string onnx = tmp.file("rec.onnx");
  {
    nn::OnnxGraph graph("rec");
    net->to_onnx(graph);
    graph.check();
    std::ofstream(onnx, std::ios::binary) << graph.serialize();
  }
  torch::NoGradGuard no_grad;
  const auto io = read_paddle_state_dict(kFixtureDir + "/PP-OCRv4_mobile_rec.io.pdparams");
  const std::vector<torch::Tensor> inputs = {testing::tensor_named(io, "input"), torch::rand({1, 3, 48, 320}) * 2 - 1,
                                             testing::tensor_named(io, "input")};
  std::vector<torch::Tensor> expected;
  for (const auto& x : inputs) expected.push_back(net->forward({{"image", x}}).at("probs"));
  const auto expect_close = [](const torch::Tensor& got, const torch::Tensor& want, const std::string& what) {
    ASSERT_EQ(got.sizes(), want.sizes()) << what;
    EXPECT_LE((got - want).abs().max().item<double>(), 1e-4) << what;
  };
  OnnxRunner opencv(onnx, {"image"}, {"probs"});
  OneDnnRunner onednn(onnx, {"image"}, {"probs"});
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto first = inputs[i].slice(0, 0, 1);
    expect_close(opencv.run({{"image", first}}).at("probs"), expected[i].slice(0, 0, 1),
                 "OpenCV dnn, input " + std::to_string(i));
    expect_close(onednn.run({{"image", inputs[i]}}).at("probs"), expected[i], "oneDNN, input " + std::to_string(i));
  }
  const std::string python = std::string(PADDLEX_SOURCE_DIR) + "/.venv-paddle/bin/python";
  const auto input = inputs[1].contiguous();
  std::ofstream(tmp.file("in.bin"), std::ios::binary)
      .write(static_cast<const char*>(input.data_ptr()), input.numel() * sizeof(float));
  const nlohmann::json cases = nlohmann::json::array({{{"model", onnx},
                                                       {"input", tmp.file("in.bin")},
                                                       {"input_name", "image"},
                                                       {"shape", input.sizes().vec()},
                                                       {"output", tmp.file("out.bin")},
                                                       {"output_name", "probs"}}});
  tmp.write("cases.json", cases.dump());
  const std::string command = python + " " + PADDLEX_SOURCE_DIR + "/tests/data/run_onnxruntime.py " +
                              tmp.file("cases.json") + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  auto got = torch::empty(expected[1].sizes(), torch::kFloat);
  std::ifstream(tmp.file("out.bin"), std::ios::binary)
      .read(static_cast<char*>(got.data_ptr()), got.numel() * sizeof(float));
  expect_close(got, expected[1], "onnxruntime");
}

}  // namespace
}  // namespace paddlex::ocr
