// Top-k postprocessing (predict) and top-k accuracy (val.top1, val.top5, as PaddleClas reports them: the
// fraction of samples whose label is among the k highest scores), sharing one ranking.
#pragma once
#include <utility>
#include <vector>

#include "paddlex/task/task.h"

namespace paddlex::cls {

// The k best classes of each row of `logits` [N,C], best first, as (class id, softmax probability).
std::vector<std::vector<std::pair<int64_t, double>>> top_classes(const torch::Tensor& logits, int64_t k);

class TopkEvaluator : public Evaluator {
 public:
  void reset() override;
  void process(const Batch& batch, const TensorMap& outputs) override;
  TensorMap state() const override;
  void merge(const TensorMap& other) override;
  Metrics evaluate() const override;

 private:
  int64_t samples_ = 0, top1_ = 0, top5_ = 0;
};

}  // namespace paddlex::cls
