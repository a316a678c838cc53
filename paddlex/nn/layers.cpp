#include "paddlex/nn/layers.h"

#include <algorithm>

#include "paddlex/nn/bn_folding.h"

namespace paddlex::nn {

int64_t make_divisible(double v, int64_t divisor) {
  int64_t rounded = std::max(divisor, static_cast<int64_t>(v + divisor / 2.0) / divisor * divisor);
  if (rounded < 0.9 * v) rounded += divisor;
  return rounded;
}

torch::Tensor activate(torch::Tensor x, Activation act) {
  switch (act) {
    case Activation::kReLU:
      return x.relu_();
    case Activation::kHardswish:
      return torch::hardswish(x);
    case Activation::kNone:
      break;
  }
  return x;
}

std::string activate_onnx(OnnxGraph& g, const std::string& x, Activation act) {
  switch (act) {
    case Activation::kReLU:
      return g.node("Relu", {x});
    case Activation::kHardswish:
      return g.node("HardSwish", {x});
    case Activation::kNone:
      break;
  }
  return x;
}

void require_folded(const OnnxGraph& g, const torch::nn::BatchNorm2d& bn) {
  if (bn) throw OnnxUnsupported("layer '" + g.path() + "': BatchNorm must be folded before ONNX emission");
}

torch::Tensor hardsigmoid(const torch::Tensor& x, double slope, double offset) {
  return torch::clamp(x * slope + offset, 0.0, 1.0);
}

torch::nn::Conv2d with_zero_bias(const torch::nn::Conv2d& conv) {
  const auto& from = conv->options;
  torch::nn::Conv2d biased(
      torch::nn::Conv2dOptions(from.in_channels(), from.out_channels(), from.kernel_size())
          .stride(from.stride())
          .padding(from.padding())
          .dilation(from.dilation())
          .groups(from.groups())
          .padding_mode(from.padding_mode())
          .bias(true));
  biased->to(conv->weight.device(), conv->weight.scalar_type());
  biased->train(conv->is_training());
  torch::NoGradGuard no_grad;
  biased->weight.copy_(conv->weight);
  biased->bias.zero_();
  return biased;
}

void fold_and_drop_bn(torch::nn::Module& owner, const std::string& conv_name,
                      torch::nn::Conv2d& conv, const std::string& bn_name,
                      torch::nn::BatchNorm2d& bn) {
  if (!bn) return;
  if (!conv->bias.defined()) conv = owner.replace_module(conv_name, with_zero_bias(conv));
  fold_conv_bn(*conv, *bn);
  owner.unregister_module(bn_name);
  bn = nullptr;
}

ConvBNActImpl::ConvBNActImpl(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                             int64_t stride, int64_t groups, Activation act)
    : act_(act) {
  conv = register_module(
      "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, kernel_size)
                                    .stride(stride)
                                    .padding((kernel_size - 1) / 2)
                                    .groups(groups)
                                    .bias(false)));
  bn = register_module(
      "bn",
      torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(out_channels).eps(1e-5).momentum(0.1)));
}

torch::Tensor ConvBNActImpl::forward(torch::Tensor x) {
  x = conv(x);
  if (bn) x = bn(x);
  return activate(x, act_);
}

std::string ConvBNActImpl::to_onnx(OnnxGraph& g, const std::string& x) const {
  require_folded(g, bn);
  return activate_onnx(g, g.emit(*conv, "conv", x), act_);
}

void ConvBNActImpl::fold_batchnorm() { fold_and_drop_bn(*this, "conv", conv, "bn", bn); }

SEModuleImpl::SEModuleImpl(int64_t channels, double hardsigmoid_slope)
    : hardsigmoid_slope_(hardsigmoid_slope) {
  const int64_t hidden = channels / 4;
  conv1 =
      register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, hidden, 1)));
  conv2 =
      register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(hidden, channels, 1)));
}

torch::Tensor SEModuleImpl::forward(torch::Tensor x) {
  auto scale = torch::adaptive_avg_pool2d(x, {1, 1});
  scale = torch::relu(conv1(scale));
  scale = hardsigmoid(conv2(scale), hardsigmoid_slope_);
  return x * scale;
}

std::string SEModuleImpl::to_onnx(OnnxGraph& g, const std::string& x) const {
  auto scale = g.node("GlobalAveragePool", {x});
  scale = g.node("Relu", {g.emit(*conv1, "conv1", scale)});
  // OpenCV 4.6 runs HardSigmoid with the default slope 0.2 whatever the attribute says, so the gate is emitted
  // with that slope and conv2 is scaled by slope / 0.2 to compensate.
  constexpr double kDefaultSlope = 0.2;
  const double to_default = hardsigmoid_slope_ / kDefaultSlope;
  {
    auto s = g.scope("conv2");
    scale = g.conv1x1(scale, conv2->weight.flatten(1) * to_default, conv2->bias * to_default);
  }
  scale = g.node("HardSigmoid", {scale}, {{"alpha", static_cast<float>(kDefaultSlope)}, {"beta", 0.5f}});
  return g.node("Mul", {x, scale});
}

void fold_all_conv_bn_act(torch::nn::Module& root) {
  for (const auto& module : root.modules(/*include_self=*/false)) {
    if (auto block = std::dynamic_pointer_cast<ConvBNActImpl>(module)) block->fold_batchnorm();
  }
}

void init_conv_bn(torch::nn::Module& root) {
  torch::NoGradGuard no_grad;
  for (const auto& module : root.modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
      if (conv->bias.defined()) torch::nn::init::zeros_(conv->bias);
    } else if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::ones_(bn->weight);
      torch::nn::init::zeros_(bn->bias);
    }
  }
}

void ClassExpandHead::register_on(torch::nn::Module& owner, int64_t in_channels, int64_t num_classes,
                                  ClassifierHead head) {
  last_conv = owner.register_module(
      "last_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, kChannels, 1).bias(false)));
  if (head == ClassifierHead::kMLDecoder) {
    MLDecoderOptions o;
    o.in_channels = kChannels;
    o.num_classes = num_classes;
    o.query_num = num_classes;
    ml_decoder = owner.register_module("fc", MLDecoder(o));
  } else {
    fc = owner.register_module("fc", torch::nn::Linear(kChannels, num_classes));
  }
}

torch::Tensor ClassExpandHead::forward(const torch::Tensor& features, bool training) {
  if (ml_decoder) return ml_decoder(downscale_dropout(torch::hardswish(last_conv(features)), kDropout, training));
  auto x = torch::hardswish(last_conv(torch::adaptive_avg_pool2d(features, {1, 1})));
  return fc(downscale_dropout(x, kDropout, training).flatten(1));
}

std::string ClassExpandHead::to_onnx(OnnxGraph& g, const std::string& features) const {
  // Eval-mode dropout is a scale by (1 - p), folded into the layer after it (no broadcast constant).
  const double keep = 1.0 - kDropout;
  if (ml_decoder) {
    const auto x = g.node("HardSwish", {g.emit(*last_conv, "last_conv", features)});
    auto s = g.scope("fc");
    return ml_decoder->to_onnx(g, x, keep);
  }
  auto x = g.node("HardSwish", {g.emit(*last_conv, "last_conv", g.node("GlobalAveragePool", {features}))});
  x = g.node("Flatten", {x}, {{"axis", int64_t{1}}});
  auto s = g.scope("fc");
  // As the weight's factor, not Gemm's alpha: OpenCV 4.6 ignores alpha.
  return g.node("Gemm", {x, g.constant(fc->weight * keep, "weight"), g.constant(fc->bias, "bias")},
                {{"transB", int64_t{1}}});
}

}  // namespace paddlex::nn
