#include "paddlex/modules/image_multilabel_classification/asymmetric_loss.h"

namespace paddlex::mlcls {

torch::Tensor asymmetric_loss(const torch::Tensor& logits, const torch::Tensor& targets,
                              const AsymmetricLossOptions& o) {
  const torch::Tensor y = targets.to(logits.dtype());
  const torch::Tensor p = torch::sigmoid(logits);
  const torch::Tensor negative_pt = o.clip > 0 ? torch::clamp_max(1 - p + o.clip, 1.0) : 1 - p;
  const torch::Tensor pt = negative_pt * (1 - y) + p * y;
  torch::Tensor weight;
  {
    torch::NoGradGuard no_grad;
    weight = torch::pow(1 - pt, o.gamma_pos * y + o.gamma_neg * (1 - y));
  }
  return (-torch::log(torch::clamp_min(pt, o.epsilon)) * weight).sum();
}

}  // namespace paddlex::mlcls
