#include "paddlex/trainers/optimizer.h"

#include <algorithm>
#include <sstream>

#include "paddlex/core/config.h"
#include "paddlex/core/errors.h"
#include "paddlex/core/files.h"

namespace paddlex {
namespace {

template <typename Options>
struct OptimizerOf;
template <>
struct OptimizerOf<torch::optim::SGDOptions> {
  using type = torch::optim::SGD;
};
template <>
struct OptimizerOf<torch::optim::AdamOptions> {
  using type = torch::optim::Adam;
};
template <>
struct OptimizerOf<torch::optim::AdamWOptions> {
  using type = torch::optim::AdamW;
};

template <typename Options>
TrainOptimizer grouped(const Config& cfg, const Network& model, const Options& defaults) {
  const bool one_dim_no_decay = cfg.get_bool("Train.optimizer.one_dim_param_no_weight_decay");
  // Groups in order of first appearance, so the layout of optimizer.pt is a function of the model alone.
  std::vector<std::pair<ParameterTraining, std::vector<torch::Tensor>>> groups;
  for (const auto& item : model.named_parameters()) {
    const torch::Tensor& p = item.value();
    if (!p.requires_grad()) continue;
    ParameterTraining how = model.parameter_training(item.key());
    if (!how.weight_decay && one_dim_no_decay && p.dim() == 1) how.weight_decay = 0.0;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) {
      return !(g.first < how) && !(how < g.first);
    });
    if (it == groups.end()) it = groups.insert(groups.end(), {how, {}});
    it->second.push_back(p);
  }
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  TrainOptimizer result;
  for (auto& [how, params] : groups) {
    auto options = std::make_unique<Options>(defaults);
    if (how.weight_decay) options->weight_decay(*how.weight_decay);
    param_groups.emplace_back(std::move(params), std::move(options));
    result.lr_scales.push_back(how.lr_scale);
  }
  result.torch = std::make_unique<typename OptimizerOf<Options>::type>(std::move(param_groups), defaults);
  return result;
}

}  // namespace

TrainOptimizer make_optimizer(const Config& cfg, const Network& model) {
  const double lr = cfg.get_float("Train.learning_rate");
  const double wd = cfg.get_float("Train.optimizer.weight_decay");
  const std::string type = cfg.get_string("Train.optimizer.type");
  const std::tuple<double, double> betas = {cfg.get_float("Train.optimizer.beta1"),
                                            cfg.get_float("Train.optimizer.beta2")};
  if (type == "AdamW") {
    torch::optim::AdamWOptions o(lr);
    o.betas(betas).eps(cfg.get_float("Train.optimizer.epsilon")).weight_decay(wd);
    return grouped(cfg, model, o);
  }
  if (type == "Adam") {
    // torch's Adam adds weight_decay * w to the gradient: PaddlePaddle's L2Decay regularizer with Adam.
    torch::optim::AdamOptions o(lr);
    o.betas(betas).eps(cfg.get_float("Train.optimizer.epsilon")).weight_decay(wd);
    return grouped(cfg, model, o);
  }
  torch::optim::SGDOptions o(lr);
  o.momentum(cfg.get_float("Train.optimizer.momentum")).weight_decay(wd);
  return grouped(cfg, model, o);
}

void TrainOptimizer::set_learning_rate(double lr) {
  auto& groups = torch->param_groups();
  for (size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(lr * lr_scales.at(i));
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
