// Optimizer construction from Train.optimizer.* and per-step LR assignment.
#pragma once
#include <torch/torch.h>

#include <memory>

namespace paddlex {

class Config;

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const Config& cfg, std::vector<torch::Tensor> params);
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace paddlex
