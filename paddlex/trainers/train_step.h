// One optimization step and the memory-format handling around it; shared by the trainer and benchmarks.
#pragma once
#include <torch/torch.h>

#include "paddlex/datasets/data_loader.h"
#include "paddlex/nn/network.h"

namespace paddlex {

class Config;
class DistContext;
class Task;

// Moves the model to `device`, and to NHWC (channels_last) when asked: faster convolutions on CPU.
void prepare_model_for_compute(Network& model, const torch::Device& device, bool channels_last);
// A batch tensor on `device`, NHWC when channels_last.
torch::Tensor to_compute(const torch::Tensor& input, const torch::Device& device, bool channels_last);

class TrainStep {
 public:
  // With `dist`, gradients are averaged over the ranks before each optimizer step.
  TrainStep(const Config& cfg, Task& task, Network& model, torch::optim::Optimizer& optimizer,
            torch::Device device, bool channels_last, DistContext* dist = nullptr);
  // zero_grad, forward, loss, backward, (all-reduce,) step at learning rate `lr`; returns this rank's loss.
  // Throws RunError when the loss is not finite.
  double run(const Batch& batch, double lr);

 private:
  const Config& cfg_;
  Task& task_;
  Network& model_;
  torch::optim::Optimizer& optimizer_;
  torch::Device device_;
  bool channels_last_;
  DistContext* dist_;
};

}  // namespace paddlex
