#include "paddlex/nn/bn_folding.h"

namespace paddlex {

void fold_conv_bn(torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl& bn) {
  TORCH_CHECK(conv.bias.defined(), "fold_conv_bn needs a conv with a bias (see nn::with_zero_bias)");
  torch::NoGradGuard no_grad;
  // Fold in double so the deployment weights round once, not per operation.
  auto var = bn.running_var.to(torch::kDouble);
  auto mean = bn.running_mean.to(torch::kDouble);
  auto gamma = bn.weight.defined() ? bn.weight.to(torch::kDouble) : torch::ones_like(var);
  auto beta = bn.bias.defined() ? bn.bias.to(torch::kDouble) : torch::zeros_like(var);
  auto scale = gamma / torch::sqrt(var + bn.options.eps());
  auto w = conv.weight.to(torch::kDouble) * scale.reshape({-1, 1, 1, 1});
  auto b = (conv.bias.to(torch::kDouble) - mean) * scale + beta;
  auto dtype = conv.weight.scalar_type();
  conv.weight.set_data(w.to(dtype).contiguous());
  conv.bias.set_data(b.to(dtype));
}

}  // namespace paddlex
