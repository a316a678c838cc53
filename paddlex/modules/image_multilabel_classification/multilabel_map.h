// Multi-label postprocessing (PaddleX's MultiLabelThreshOutput) and evaluation: PaddleClas's MultiLabelMAP plus
// micro-averaged precision, recall and F1 of that same postprocessing.
#pragma once
#include <optional>
#include <utility>
#include <vector>

#include "paddlex/task/task.h"

namespace paddlex::mlcls {

// The classes of one image whose probability is >= threshold, best first (ties: higher class id first, as
// PaddleX's reversed argsort), as (class id, probability).
std::vector<std::pair<int64_t, double>> classes_above(const float* probabilities, int64_t num_classes, double threshold);

// Average precision of one class over records (score, is_positive) already in ranking order, as PaddleClas's
// "integral" mAP: walk the ranking, and wherever recall rises by more than 1e-6 add precision times the rise.
// Every record is its own point (no grouping of tied scores). Returns nullopt for a class without positives.
std::optional<double> integral_average_precision(const std::vector<std::pair<float, bool>>& ranked);

// MultiLabelMAP (PaddleClas, map_type integral): sigmoid of the logits over the whole val set; per class the
// records ranked by score, ties in PaddleClas's order (the earlier batch first; within a batch the higher dataset
// index first, as its reversed argsort); classes without positives are skipped; the mean over the rest (0 if
// none). Also "precision", "recall", "f1" at `threshold` over all (image, class) pairs. Per-image rows are kept
// by dataset index, so merging ranks' states reproduces a single process exactly.
class MultiLabelEvaluator : public Evaluator {
 public:
  explicit MultiLabelEvaluator(double threshold) : threshold_(threshold) {}
  void reset() override;
  void process(const Batch& batch, const TensorMap& outputs) override;
  TensorMap state() const override;
  void merge(const TensorMap& other) override;
  Metrics evaluate() const override;

 private:
  double threshold_;
  std::vector<torch::Tensor> index_, batch_first_, probabilities_, labels_;
};

}  // namespace paddlex::mlcls
