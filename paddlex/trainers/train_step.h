// One optimization step and the memory-format handling around it; shared by the trainer and benchmarks.
#pragma once
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "paddlex/core/errors.h"
#include "paddlex/task/task.h"
#include "paddlex/trainers/optimizer.h"

namespace paddlex {

class DistContext;

// Moves the model to `device`, and to NHWC (channels_last) when asked: faster convolutions on CPU.
void prepare_model_for_compute(Network& model, const torch::Device& device, bool channels_last);

// A loss term that is NaN or infinite, caught before the step changes any weight.
class NonFiniteLoss : public RunError {
 public:
  NonFiniteLoss(std::string term, double value)
      : RunError("loss term '" + term + "' is " + std::to_string(value)), term(std::move(term)), value(value) {}
  std::string term;  // empty: it happened on another rank
  double value;
};

struct StepLosses {
  std::vector<std::pair<std::string, double>> terms;  // this rank's value of each term
  double total = 0.0;                                 // their sum, which was optimized
  bool stop = false;  // some rank was asked to stop (run's `stop_here`): all stop after this step together
};

class TrainStep {
 public:
  // With `dist`, gradients are averaged over the ranks before each optimizer step.
  TrainStep(Network& model, Criterion criterion, TrainOptimizer& optimizer, torch::Device device,
            bool channels_last, DistContext* dist = nullptr);
  // zero_grad, forward, loss terms, backward, (all-reduce,) step at learning rate `lr`. Throws NonFiniteLoss
  // (on every rank of a distributed run) before backward when a term is not finite. `stop_here`: this rank was
  // asked to stop; in a distributed run the ranks agree on both in one collective before backward.
  StepLosses run(const Batch& batch, double lr, bool stop_here = false);

 private:
  Network& model_;
  Criterion criterion_;
  TrainOptimizer& optimizer_;
  torch::Device device_;
  bool channels_last_;
  DistContext* dist_;
};

}  // namespace paddlex
