// Top-k accuracy (val.top1, val.top5) as PaddleClas reports it: the fraction of samples whose label is
// among the k highest scores.
#pragma once
#include "paddlex/trainers/task.h"

namespace paddlex::cls {

class TopkEvaluator : public Evaluator {
 public:
  void update(const torch::Tensor& logits, const Batch& batch) override;
  std::map<std::string, double> compute() const override;

 private:
  int64_t samples_ = 0, top1_ = 0, top5_ = 0;
};

}  // namespace paddlex::cls
