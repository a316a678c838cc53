#include "paddlex/modules/image_classification/topk_evaluator.h"

#include <algorithm>

namespace paddlex::cls {

void TopkEvaluator::update(const torch::Tensor& logits, const Batch& batch) {
  const int64_t k = std::min<int64_t>(5, logits.size(1));
  auto topk = std::get<1>(logits.topk(k, 1));                // [N, k]
  auto hits = topk.eq(batch.target.to(topk.device()).unsqueeze(1));  // [N, k]
  top1_ += hits.narrow(1, 0, 1).sum().item<int64_t>();
  top5_ += hits.sum().item<int64_t>();
  samples_ += logits.size(0);
}

std::map<std::string, double> TopkEvaluator::compute() const {
  const double n = std::max<int64_t>(samples_, 1);
  return {{"val.top1", top1_ / n}, {"val.top5", top5_ / n}};
}

}  // namespace paddlex::cls
