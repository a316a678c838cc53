#include "paddlex/trainers/train_step.h"

#include <cmath>

#include "paddlex/trainers/distributed.h"
#include "paddlex/trainers/optimizer.h"

namespace paddlex {

void prepare_model_for_compute(Network& model, const torch::Device& device, bool channels_last) {
  model.to(device);
  if (!channels_last) return;
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
}

TrainStep::TrainStep(Network& model, Criterion criterion, TrainOptimizer& optimizer, torch::Device device,
                     bool channels_last, DistContext* dist)
    : model_(model),
      criterion_(std::move(criterion)),
      optimizer_(optimizer),
      device_(device),
      channels_last_(channels_last),
      dist_(dist) {}

StepLosses TrainStep::run(const Batch& batch, double lr, bool stop_here) {
  optimizer_.set_learning_rate(lr);
  // Dropping the gradients (PyTorch's zero_grad(set_to_none=True)) spares a memset per parameter: backward
  // then writes fresh gradients instead of accumulating into zeros.
  for (auto& group : optimizer_.torch->param_groups())
    for (auto& p : group.params()) p.mutable_grad() = torch::Tensor();
  const TensorMap outputs = model_.forward(network_inputs(model_, batch, device_, channels_last_));
  const LossTerms terms = criterion_(outputs, batch);
  if (terms.empty()) throw RunError("internal: the task's loss returned no terms");
  std::vector<torch::Tensor> parts;
  for (const auto& term : terms) parts.push_back(term.second.detach().reshape({}));
  // One transfer for every term's value.
  const torch::Tensor values = torch::stack(parts).to(torch::kCPU, torch::kDouble);
  StepLosses losses;
  int bad = -1;
  for (size_t i = 0; i < terms.size(); ++i) {
    const double v = values[static_cast<int64_t>(i)].item<double>();
    losses.terms.emplace_back(terms[i].first, v);
    losses.total += v;
    if (bad < 0 && !std::isfinite(v)) bad = static_cast<int>(i);
  }
  // Every rank stops together: one rank's NaN would otherwise leave the others waiting in the all-reduce.
  bool any_bad = bad >= 0;
  losses.stop = stop_here;
  if (dist_) {
    const std::vector<bool> anywhere = dist_->any({any_bad, stop_here});
    any_bad = anywhere[0];
    losses.stop = anywhere[1];
  }
  if (any_bad) throw bad >= 0 ? NonFiniteLoss(terms[bad].first, losses.terms[bad].second) : NonFiniteLoss("", NAN);
  torch::Tensor total = terms.front().second;
  for (size_t i = 1; i < terms.size(); ++i) total = total + terms[i].second;
  total.backward();
  if (dist_) dist_->average_gradients(model_);
  optimizer_.torch->step();
  return losses;
}

}  // namespace paddlex
