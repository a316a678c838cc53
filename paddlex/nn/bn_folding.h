// BatchNorm folding for deployment: conv(x) then bn(.) == conv'(x) with folded weight and bias.
#pragma once
#include <torch/torch.h>

namespace paddlex {

// Rewrites `conv` in place so that conv'(x) == bn(conv(x)) in eval mode (running statistics). The conv
// must have a bias (LibTorch cannot add one in place; nn::with_zero_bias makes such a copy). The caller
// then drops `bn` from its module.
void fold_conv_bn(torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl& bn);

}  // namespace paddlex
