#include "paddlex/trainers/optimizer.h"

#include "paddlex/core/config.h"

namespace paddlex {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const Config& cfg, std::vector<torch::Tensor> params) {
  const double lr = cfg.get_float("Train.learning_rate");
  const double wd = cfg.get_float("Train.optimizer.weight_decay");
  if (cfg.get_string("Train.optimizer.type") == "AdamW") {
    torch::optim::AdamWOptions o(lr);
    o.betas({cfg.get_float("Train.optimizer.beta1"), cfg.get_float("Train.optimizer.beta2")})
        .eps(cfg.get_float("Train.optimizer.epsilon"))
        .weight_decay(wd);
    return std::make_unique<torch::optim::AdamW>(std::move(params), o);
  }
  torch::optim::SGDOptions o(lr);
  o.momentum(cfg.get_float("Train.optimizer.momentum")).weight_decay(wd);
  return std::make_unique<torch::optim::SGD>(std::move(params), o);
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace paddlex
