// Optimizer construction from Train.optimizer.*, per-step LR assignment, and its checkpoint state.
#pragma once
#include <torch/torch.h>

#include <memory>

#include "paddlex/trainers/checkpoint.h"

namespace paddlex {

class Config;

// The optimizer of Train.optimizer.* over the trainable parameters of `model` (frozen ones, e.g. a fixed query
// embedding, are left out). With Train.optimizer.one_dim_param_no_weight_decay, one-dimensional parameters
// (biases, norm scales) form a second group without weight decay.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const Config& cfg, const torch::nn::Module& model);
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

// optimizer.pt in checkpoints: momentum buffers or Adam moments.
class OptimizerState : public StatefulComponent {
 public:
  explicit OptimizerState(torch::optim::Optimizer& optimizer) : optimizer_(optimizer) {}
  void save(const std::string& dir) const override;
  void load(const std::string& dir) override;

 private:
  torch::optim::Optimizer& optimizer_;
};

}  // namespace paddlex
