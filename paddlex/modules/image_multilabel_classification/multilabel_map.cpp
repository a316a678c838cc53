#include "paddlex/modules/image_multilabel_classification/multilabel_map.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace paddlex::mlcls {

std::vector<std::pair<int64_t, double>> classes_above(const float* probabilities, int64_t num_classes,
                                                      double threshold) {
  std::vector<std::pair<int64_t, double>> out;
  for (int64_t c = 0; c < num_classes; ++c)
    if (probabilities[c] >= threshold) out.emplace_back(c, probabilities[c]);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first > b.first;
  });
  return out;
}

std::optional<double> integral_average_precision(const std::vector<std::pair<float, bool>>& ranked) {
  const auto positives = std::count_if(ranked.begin(), ranked.end(), [](const auto& r) { return r.second; });
  if (positives == 0) return std::nullopt;
  double ap = 0.0, previous_recall = 0.0;
  int64_t tp = 0, fp = 0;
  for (const auto& [score, positive] : ranked) {
    positive ? ++tp : ++fp;
    const double recall = static_cast<double>(tp) / static_cast<double>(positives);
    const double precision = static_cast<double>(tp) / static_cast<double>(tp + fp);
    if (std::abs(recall - previous_recall) > 1e-6) {
      ap += precision * std::abs(recall - previous_recall);
      previous_recall = recall;
    }
  }
  return ap;
}

void MultiLabelEvaluator::reset() { index_.clear(), batch_first_.clear(), probabilities_.clear(), labels_.clear(); }

void MultiLabelEvaluator::process(const Batch& batch, const TensorMap& outputs) {
  const torch::Tensor index = torch::tensor(batch.indices, torch::kInt64);
  index_.push_back(index);
  // Eval batches hold consecutive indices: the smallest one stands for the batch's position in PaddleClas's order.
  batch_first_.push_back(torch::full_like(index, index.min().item<int64_t>()));
  probabilities_.push_back(torch::sigmoid(outputs.at("logits").to(torch::kFloat32)).contiguous());
  labels_.push_back(batch.at("label").to(torch::kUInt8));
}

TensorMap MultiLabelEvaluator::state() const {
  if (index_.empty()) return {};
  return {{"index", torch::cat(index_)},
          {"batch_first", torch::cat(batch_first_)},
          {"probabilities", torch::cat(probabilities_)},
          {"labels", torch::cat(labels_)}};
}

void MultiLabelEvaluator::merge(const TensorMap& other) {
  if (other.empty()) return;
  index_.push_back(other.at("index"));
  batch_first_.push_back(other.at("batch_first"));
  probabilities_.push_back(other.at("probabilities"));
  labels_.push_back(other.at("labels"));
}

Metrics MultiLabelEvaluator::evaluate() const {
  Metrics m;
  m.primary = "MultiLabelMAP";
  m.higher_is_better = true;
  const TensorMap all = state();
  if (all.empty()) {
    m.values = {{"MultiLabelMAP", 0.0}, {"precision", 0.0}, {"recall", 0.0}, {"f1", 0.0}};
    return m;
  }
  const auto index = all.at("index").accessor<int64_t, 1>();
  const auto batch_first = all.at("batch_first").accessor<int64_t, 1>();
  const torch::Tensor probabilities = all.at("probabilities");
  const auto prob = probabilities.accessor<float, 2>();
  const auto label = all.at("labels").accessor<uint8_t, 2>();
  const int64_t n = probabilities.size(0), classes = probabilities.size(1);

  double ap_sum = 0.0;
  int64_t valid = 0;
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::vector<std::pair<float, bool>> ranked;
  for (int64_t c = 0; c < classes; ++c) {
    std::iota(order.begin(), order.end(), 0);
    // NaN (a diverged model) ranks last, keeping the order strict.
    auto score = [&](int64_t r) { return std::isnan(prob[r][c]) ? -1.0f : prob[r][c]; };
    std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      if (score(a) != score(b)) return score(a) > score(b);
      if (batch_first[a] != batch_first[b]) return batch_first[a] < batch_first[b];
      return index[a] > index[b];
    });
    ranked.clear();
    for (int64_t r : order) ranked.emplace_back(prob[r][c], label[r][c] != 0);
    if (auto ap = integral_average_precision(ranked)) ap_sum += *ap, ++valid;
  }

  int64_t tp = 0, fp = 0, fn = 0;
  for (int64_t r = 0; r < n; ++r) {
    std::vector<bool> predicted(static_cast<size_t>(classes), false);
    for (const auto& [c, score] : classes_above(&prob[r][0], classes, threshold_)) predicted[static_cast<size_t>(c)] = true;
    for (int64_t c = 0; c < classes; ++c) {
      const bool truth = label[r][c] != 0, guess = predicted[static_cast<size_t>(c)];
      tp += truth && guess, fp += !truth && guess, fn += truth && !guess;
    }
  }
  const double precision = tp + fp ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 0.0;
  const double recall = tp + fn ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 0.0;
  m.values = {{"MultiLabelMAP", valid ? ap_sum / static_cast<double>(valid) : 0.0},
              {"precision", precision},
              {"recall", recall},
              {"f1", precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0}};
  return m;
}

}  // namespace paddlex::mlcls
