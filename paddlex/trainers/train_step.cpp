#include "paddlex/trainers/train_step.h"

#include <cmath>

#include "paddlex/core/errors.h"
#include "paddlex/trainers/distributed.h"
#include "paddlex/trainers/optimizer.h"
#include "paddlex/trainers/task.h"

namespace paddlex {

void prepare_model_for_compute(Network& model, const torch::Device& device, bool channels_last) {
  model.to(device);
  if (!channels_last) return;
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
}

torch::Tensor to_compute(const torch::Tensor& input, const torch::Device& device, bool channels_last) {
  auto x = input.to(device);
  return channels_last && x.dim() == 4 ? x.contiguous(at::MemoryFormat::ChannelsLast) : x;
}

TrainStep::TrainStep(const Config& cfg, Task& task, Network& model, torch::optim::Optimizer& optimizer,
                     torch::Device device, bool channels_last, DistContext* dist)
    : cfg_(cfg),
      task_(task),
      model_(model),
      optimizer_(optimizer),
      device_(device),
      channels_last_(channels_last),
      dist_(dist) {}

double TrainStep::run(const Batch& batch, double lr) {
  set_learning_rate(optimizer_, lr);
  // Dropping the gradients (PyTorch's zero_grad(set_to_none=True)) spares a memset per parameter: backward
  // then writes fresh gradients instead of accumulating into zeros.
  for (auto& group : optimizer_.param_groups())
    for (auto& p : group.params()) p.mutable_grad() = torch::Tensor();
  auto output = model_.forward(to_compute(batch.input, device_, channels_last_));
  auto loss = task_.loss(cfg_, output, batch);
  const double value = loss.item<double>();
  if (!std::isfinite(value))
    throw RunError("training diverged: the loss is " + std::to_string(value) +
                   "; lower Train.learning_rate or check the data");
  loss.backward();
  if (dist_) dist_->average_gradients(model_);
  optimizer_.step();
  return value;
}

}  // namespace paddlex
