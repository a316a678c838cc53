#include "paddlex/modules/image_classification/topk.h"

#include <algorithm>

namespace paddlex::cls {

std::vector<std::vector<std::pair<int64_t, double>>> top_classes(const torch::Tensor& logits, int64_t k) {
  k = std::min<int64_t>(k, logits.size(1));
  // Ranked by the logits (PaddleClas's accuracy ranks its raw output), reported as probabilities.
  const torch::Tensor x = logits.to(torch::kFloat32);
  const torch::Tensor ids = std::get<1>(x.topk(k, 1));
  const torch::Tensor scores = torch::softmax(x, 1).gather(1, ids);
  std::vector<std::vector<std::pair<int64_t, double>>> out(static_cast<size_t>(logits.size(0)));
  auto s = scores.accessor<float, 2>();
  auto i = ids.accessor<int64_t, 2>();
  for (int64_t row = 0; row < logits.size(0); ++row)
    for (int64_t j = 0; j < k; ++j) out[static_cast<size_t>(row)].emplace_back(i[row][j], s[row][j]);
  return out;
}

void TopkEvaluator::reset() { samples_ = top1_ = top5_ = 0; }

void TopkEvaluator::process(const Batch& batch, const TensorMap& outputs) {
  const torch::Tensor& logits = outputs.at("logits");
  const auto ranked = top_classes(logits, 5);
  auto labels = batch.at("label").to(torch::kInt64);
  auto label = labels.accessor<int64_t, 1>();
  for (size_t row = 0; row < ranked.size(); ++row) {
    const auto& r = ranked[row];
    const int64_t truth = label[static_cast<int64_t>(row)];
    top1_ += r.front().first == truth;
    top5_ += std::any_of(r.begin(), r.end(), [&](const auto& p) { return p.first == truth; });
  }
  samples_ += logits.size(0);
}

TensorMap TopkEvaluator::state() const { return {{"counts", torch::tensor({samples_, top1_, top5_}, torch::kInt64)}}; }

void TopkEvaluator::merge(const TensorMap& other) {
  auto c = other.at("counts").accessor<int64_t, 1>();
  samples_ += c[0], top1_ += c[1], top5_ += c[2];
}

Metrics TopkEvaluator::evaluate() const {
  const double n = static_cast<double>(std::max<int64_t>(samples_, 1));
  return {{{"val.top1", top1_ / n}, {"val.top5", top5_ / n}}, "val.top1", true};
}

}  // namespace paddlex::cls
