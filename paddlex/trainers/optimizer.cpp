#include "paddlex/trainers/optimizer.h"

#include <sstream>

#include "paddlex/core/config.h"
#include "paddlex/core/errors.h"
#include "paddlex/core/files.h"

namespace paddlex {
namespace {

template <typename Options>
std::vector<torch::optim::OptimizerParamGroup> param_groups(const Config& cfg, const torch::nn::Module& model,
                                                            const Options& defaults) {
  std::vector<torch::Tensor> decayed, undecayed;
  const bool split = cfg.get_bool("Train.optimizer.one_dim_param_no_weight_decay");
  for (const auto& p : model.parameters())
    if (p.requires_grad()) (split && p.dim() == 1 ? undecayed : decayed).push_back(p);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decayed, std::make_unique<Options>(defaults));
  if (!undecayed.empty()) {
    auto no_decay = std::make_unique<Options>(defaults);
    no_decay->weight_decay(0.0);
    groups.emplace_back(undecayed, std::move(no_decay));
  }
  return groups;
}

}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const Config& cfg, const torch::nn::Module& model) {
  const double lr = cfg.get_float("Train.learning_rate");
  const double wd = cfg.get_float("Train.optimizer.weight_decay");
  if (cfg.get_string("Train.optimizer.type") == "AdamW") {
    torch::optim::AdamWOptions o(lr);
    o.betas({cfg.get_float("Train.optimizer.beta1"), cfg.get_float("Train.optimizer.beta2")})
        .eps(cfg.get_float("Train.optimizer.epsilon"))
        .weight_decay(wd);
    return std::make_unique<torch::optim::AdamW>(param_groups(cfg, model, o), o);
  }
  torch::optim::SGDOptions o(lr);
  o.momentum(cfg.get_float("Train.optimizer.momentum")).weight_decay(wd);
  return std::make_unique<torch::optim::SGD>(param_groups(cfg, model, o), o);
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

void OptimizerState::save(const std::string& dir) const {
  torch::serialize::OutputArchive archive;
  optimizer_.save(archive);
  std::ostringstream os;
  archive.save_to(os);
  const std::string bytes = os.str();
  write_bytes_atomic(dir + "/optimizer.pt", std::vector<char>(bytes.begin(), bytes.end()));
}

void OptimizerState::load(const std::string& dir) {
  const std::string path = dir + "/optimizer.pt";
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    optimizer_.load(archive);
  } catch (const c10::Error& e) {
    std::string what = e.what();
    throw RunError("cannot load optimizer state '" + path + "': " + what.substr(0, what.find('\n')));
  }
}

}  // namespace paddlex
