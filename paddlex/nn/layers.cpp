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

}  // namespace paddlex::nn
