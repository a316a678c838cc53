#include "paddlex/modules/image_classification/models/pp_lcnet.h"

#include <string>
#include <vector>

namespace paddlex::cls {
namespace {

using nn::Activation;
using nn::make_divisible;

struct BlockSpec {
  int64_t kernel, in, out, stride;
  bool se;
};

// PaddleClas NET_CONFIG for blocks2..blocks6, channels before scaling.
const std::vector<std::vector<BlockSpec>> kStages = {
    {{3, 16, 32, 1, false}},
    {{3, 32, 64, 2, false}, {3, 64, 64, 1, false}},
    {{3, 64, 128, 2, false}, {3, 128, 128, 1, false}},
    {{3, 128, 256, 2, false},
     {5, 256, 256, 1, false},
     {5, 256, 256, 1, false},
     {5, 256, 256, 1, false},
     {5, 256, 256, 1, false},
     {5, 256, 256, 1, false}},
    {{5, 256, 512, 2, true}, {5, 512, 512, 1, true}},
};
constexpr int64_t kStemChannels = 16;
constexpr int64_t kLastStageChannels = 512;
// PP-LCNet's SE gate is the standard hardsigmoid (x/6 + 0.5).
constexpr double kSESlope = 1.0 / 6.0;

// Depthwise kxk (stride) -> optional SE on the input channels -> pointwise 1x1, hardswish after
// both.
class DepthwiseSeparableImpl : public torch::nn::Module, public nn::OnnxExportable {
 public:
  DepthwiseSeparableImpl(int64_t in, int64_t out, const BlockSpec& spec) {
    dw_conv = register_module(
        "dw_conv", nn::ConvBNAct(in, in, spec.kernel, spec.stride, in, Activation::kHardswish));
    if (spec.se) se = register_module("se", nn::SEModule(in, kSESlope));
    pw_conv = register_module("pw_conv", nn::ConvBNAct(in, out, 1, 1, 1, Activation::kHardswish));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = dw_conv(x);
    if (se) x = se(x);
    return pw_conv(x);
  }

  std::string to_onnx(nn::OnnxGraph& g, const std::string& input) const override {
    auto x = g.emit(*dw_conv, "dw_conv", input);
    if (se) x = g.emit(*se, "se", x);
    return g.emit(*pw_conv, "pw_conv", x);
  }

 private:
  nn::ConvBNAct dw_conv{nullptr};
  nn::SEModule se{nullptr};
  nn::ConvBNAct pw_conv{nullptr};
};
TORCH_MODULE(DepthwiseSeparable);

}  // namespace

PPLCNetImpl::PPLCNetImpl(double scale, int64_t num_classes, nn::ClassifierHead head_kind) {
  conv1 = register_module("conv1", nn::ConvBNAct(3, make_divisible(kStemChannels * scale), 3, 2, 1,
                                                 Activation::kHardswish));
  for (size_t i = 0; i < kStages.size(); ++i) {
    torch::nn::Sequential stage;
    for (const auto& spec : kStages[i]) {
      stage->push_back(DepthwiseSeparable(make_divisible(spec.in * scale),
                                          make_divisible(spec.out * scale), spec));
    }
    stages_.push_back(register_module("blocks" + std::to_string(i + 2), stage));
  }
  const int64_t channels = make_divisible(kLastStageChannels * scale);
  head.register_on(*this, channels, num_classes, head_kind);
  nn::init_conv_bn(*this);
  if (head.ml_decoder) head.ml_decoder->reset_parameters();  // its own initialisation, not the backbone's
}

torch::Tensor PPLCNetImpl::logits(torch::Tensor x) {
  x = conv1(x);
  for (auto& stage : stages_) x = stage->forward(x);
  return head.forward(x, is_training());
}

std::string PPLCNetImpl::logits_onnx(nn::OnnxGraph& g, const std::string& image) const {
  auto x = g.emit(*conv1, "conv1", image);
  for (size_t i = 0; i < stages_.size(); ++i) x = g.emit(*stages_[i], "blocks" + std::to_string(i + 2), x);
  return head.to_onnx(g, x);
}

void PPLCNetImpl::fold_batchnorm() { nn::fold_all_conv_bn_act(*this); }

}  // namespace paddlex::cls
