// Optimizer construction from Train.optimizer.*, per-step LR assignment, and its checkpoint state.
#pragma once
#include <torch/torch.h>

#include <memory>

#include "paddlex/nn/network.h"
#include "paddlex/trainers/checkpoint.h"

namespace paddlex {

class Config;

// The optimizer of a run and the learning-rate multiple of each of its parameter groups.
struct TrainOptimizer {
  std::unique_ptr<torch::optim::Optimizer> torch;
  std::vector<double> lr_scales;  // one per param group
  void set_learning_rate(double lr);
};

// The optimizer of Train.optimizer.* over the trainable parameters of `model` (frozen ones, e.g. a fixed query
// embedding, are left out), grouped by how the model says each trains (Network::parameter_training). With
// Train.optimizer.one_dim_param_no_weight_decay, one-dimensional parameters (biases, norm scales) get no weight
// decay unless the model sets theirs.
TrainOptimizer make_optimizer(const Config& cfg, const Network& model);

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
