#include "paddlex/modules/image_classification/models/mobilenet_v3.h"

#include <vector>

namespace paddlex::cls {
namespace {

using nn::Activation;
using nn::make_divisible;

struct UnitSpec {
  int64_t kernel, expand, out;
  bool se;
  Activation act;
  int64_t stride;
};

constexpr Activation kRe = Activation::kReLU;
constexpr Activation kHs = Activation::kHardswish;

// PaddleClas NET_CONFIG: kernel, expanded channels, output channels, SE, activation, stride.
const std::vector<UnitSpec> kLargeConfig = {
    {3, 16, 16, false, kRe, 1},  {3, 64, 24, false, kRe, 2},  {3, 72, 24, false, kRe, 1},
    {5, 72, 40, true, kRe, 2},   {5, 120, 40, true, kRe, 1},  {5, 120, 40, true, kRe, 1},
    {3, 240, 80, false, kHs, 2}, {3, 200, 80, false, kHs, 1}, {3, 184, 80, false, kHs, 1},
    {3, 184, 80, false, kHs, 1}, {3, 480, 112, true, kHs, 1}, {3, 672, 112, true, kHs, 1},
    {5, 672, 160, true, kHs, 2}, {5, 960, 160, true, kHs, 1}, {5, 960, 160, true, kHs, 1},
};
const std::vector<UnitSpec> kSmallConfig = {
    {3, 16, 16, true, kRe, 2},  {3, 72, 24, false, kRe, 2}, {3, 88, 24, false, kRe, 1},
    {5, 96, 40, true, kHs, 2},  {5, 240, 40, true, kHs, 1}, {5, 240, 40, true, kHs, 1},
    {5, 120, 48, true, kHs, 1}, {5, 144, 48, true, kHs, 1}, {5, 288, 96, true, kHs, 2},
    {5, 576, 96, true, kHs, 1}, {5, 576, 96, true, kHs, 1},
};
constexpr int64_t kStemChannels = 16;
constexpr int64_t kLastSecondConvLarge = 960;
constexpr int64_t kLastSecondConvSmall = 576;
// MobileNetV3's SE gate is Paddle's hardsigmoid(slope=0.2), not the standard 1/6.
constexpr double kSESlope = 0.2;

// Inverted residual: 1x1 expand -> kxk depthwise (stride) -> optional SE -> linear 1x1 projection.
class ResidualUnitImpl : public torch::nn::Module, public nn::OnnxExportable {
 public:
  ResidualUnitImpl(int64_t in, int64_t mid, int64_t out, const UnitSpec& spec)
      : shortcut_(spec.stride == 1 && in == out) {
    expand_conv = register_module("expand_conv", nn::ConvBNAct(in, mid, 1, 1, 1, spec.act));
    bottleneck_conv = register_module(
        "bottleneck_conv", nn::ConvBNAct(mid, mid, spec.kernel, spec.stride, mid, spec.act));
    if (spec.se) mid_se = register_module("mid_se", nn::SEModule(mid, kSESlope));
    linear_conv =
        register_module("linear_conv", nn::ConvBNAct(mid, out, 1, 1, 1, Activation::kNone));
  }

  torch::Tensor forward(torch::Tensor x) {
    auto y = bottleneck_conv(expand_conv(x));
    if (mid_se) y = mid_se(y);
    y = linear_conv(y);
    return shortcut_ ? x + y : y;
  }

  std::string to_onnx(nn::OnnxGraph& g, const std::string& x) const override {
    auto y = g.emit(*bottleneck_conv, "bottleneck_conv", g.emit(*expand_conv, "expand_conv", x));
    if (mid_se) y = g.emit(*mid_se, "mid_se", y);
    y = g.emit(*linear_conv, "linear_conv", y);
    return shortcut_ ? g.node("Add", {x, y}) : y;
  }

 private:
  bool shortcut_;
  nn::ConvBNAct expand_conv{nullptr};
  nn::ConvBNAct bottleneck_conv{nullptr};
  nn::SEModule mid_se{nullptr};
  nn::ConvBNAct linear_conv{nullptr};
};
TORCH_MODULE(ResidualUnit);

}  // namespace

MobileNetV3Impl::MobileNetV3Impl(MobileNetV3Size size, double scale, int64_t num_classes) {
  const bool large = size == MobileNetV3Size::kLarge;
  const auto& config = large ? kLargeConfig : kSmallConfig;
  const int64_t class_squeeze = large ? kLastSecondConvLarge : kLastSecondConvSmall;

  int64_t channels = make_divisible(kStemChannels * scale);
  conv = register_module("conv", nn::ConvBNAct(3, channels, 3, 2, 1, Activation::kHardswish));
  blocks = torch::nn::Sequential();
  for (const auto& spec : config) {
    const int64_t out = make_divisible(spec.out * scale);
    blocks->push_back(ResidualUnit(channels, make_divisible(spec.expand * scale), out, spec));
    channels = out;
  }
  register_module("blocks", blocks);
  const int64_t squeeze = make_divisible(class_squeeze * scale);
  last_second_conv = register_module(
      "last_second_conv", nn::ConvBNAct(channels, squeeze, 1, 1, 1, Activation::kHardswish));
  head.register_on(*this, squeeze, num_classes, nn::ClassifierHead::kLinear);
  nn::init_conv_bn(*this);
}

torch::Tensor MobileNetV3Impl::logits(torch::Tensor x) {
  x = last_second_conv(blocks->forward(conv(x)));
  return head.forward(x, is_training());
}

std::string MobileNetV3Impl::logits_onnx(nn::OnnxGraph& g, const std::string& image) const {
  auto x = g.emit(*blocks, "blocks", g.emit(*conv, "conv", image));
  return head.to_onnx(g, g.emit(*last_second_conv, "last_second_conv", x));
}

void MobileNetV3Impl::fold_batchnorm() { nn::fold_all_conv_bn_act(*this); }

}  // namespace paddlex::cls
