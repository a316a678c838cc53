// PaddleClas's MultiLabelAsymmetricLoss (Ben-Baruch et al., ASL) with its *_ML configs' reduction: p =
// sigmoid(logits); pt = p for positives and min(1 - p + clip, 1) for negatives (probability shifting); loss =
// -log(max(pt, eps)) * (1 - pt)^(gamma_pos for positives, gamma_neg for negatives), the focusing weight held
// constant in backprop (disable_focal_loss_grad), summed over the batch and all classes.
#pragma once
#include <torch/torch.h>

namespace paddlex::mlcls {

struct AsymmetricLossOptions {
  double gamma_pos = 0.0;
  double gamma_neg = 4.0;
  double clip = 0.05;
  double epsilon = 1e-8;
};

// logits [N,C], targets [N,C] multi-hot -> scalar.
torch::Tensor asymmetric_loss(const torch::Tensor& logits, const torch::Tensor& targets,
                              const AsymmetricLossOptions& options);

}  // namespace paddlex::mlcls
