#include "paddlex/trainers/ema.h"

#include <cmath>
#include <filesystem>

#include "paddlex/core/errors.h"
#include "paddlex/io/tensor_file.h"

namespace fs = std::filesystem;

namespace paddlex {
namespace {
const char* kUpdatesKey = "_paddlex.ema_updates";
}

EmaDecayType parse_ema_decay_type(const std::string& name) {
  if (name == "threshold") return EmaDecayType::kThreshold;
  if (name == "exponential") return EmaDecayType::kExponential;
  if (name == "normal") return EmaDecayType::kNormal;
  throw RunError("unknown EMA decay type '" + name + "' (threshold, exponential or normal)");
}

double ema_decay_at(double decay, EmaDecayType type, int64_t n) {
  const double step = static_cast<double>(n);
  switch (type) {
    case EmaDecayType::kThreshold: return std::min(decay, (1.0 + step) / (10.0 + step));
    case EmaDecayType::kExponential: return decay * (1.0 - std::exp(-(step + 1.0) / 2000.0));
    case EmaDecayType::kNormal: break;
  }
  return decay;
}

ModelEma::ModelEma(double decay, EmaDecayType type, Network& model, std::shared_ptr<Network> averaged)
    : decay_(decay), type_(type), averaged_(std::move(averaged)) {
  torch::NoGradGuard no_grad;
  const TensorDict mine = state_dict(model), theirs = state_dict(*averaged_);
  if (mine.size() != theirs.size()) throw RunError("internal: the EMA network differs from the trained one");
  for (size_t i = 0; i < mine.size(); ++i) {
    names_.push_back(mine[i].first);
    model_tensors_.push_back(mine[i].second);
    averaged_tensors_.push_back(theirs[i].second);
    const bool averaged_kind = at::isFloatingType(mine[i].second.scalar_type());
    sums_.push_back(averaged_kind ? torch::zeros_like(mine[i].second, torch::kFloat32) : torch::Tensor());
  }
}

void ModelEma::update() {
  torch::NoGradGuard no_grad;
  const double d = ema_decay_at(decay_, type_, updates_);
  for (size_t i = 0; i < sums_.size(); ++i)
    if (sums_[i].defined()) sums_[i].mul_(d).add_(model_tensors_[i].detach(), 1.0 - d);
  ++updates_;
  applied_ = false;
}

void ModelEma::apply() const {
  if (applied_) return;
  torch::NoGradGuard no_grad;
  // The zero start weighs the average by (1 - prod(d)); PaddleDetection corrects by the last decay instead.
  const double correction = updates_ == 0 || type_ == EmaDecayType::kExponential
                                ? 1.0
                                : 1.0 - std::pow(ema_decay_at(decay_, type_, updates_ - 1), static_cast<double>(updates_));
  for (size_t i = 0; i < sums_.size(); ++i) {
    if (sums_[i].defined() && updates_ > 0) averaged_tensors_[i].copy_(sums_[i] / correction);
    else averaged_tensors_[i].copy_(model_tensors_[i]);
  }
  applied_ = true;
}

Network& ModelEma::averaged() {
  apply();
  return *averaged_;
}

void ModelEma::save(const std::string& dir) const {
  apply();
  save_tensor_dict(state_dict(*averaged_), dir + "/ema.pt");
  TensorDict state;
  for (size_t i = 0; i < sums_.size(); ++i)
    if (sums_[i].defined()) state.emplace_back(names_[i], sums_[i]);
  state.emplace_back(kUpdatesKey, torch::tensor(updates_, torch::kInt64));
  save_tensor_dict(state, dir + "/ema_state.pt");
}

void ModelEma::load(const std::string& dir) {
  const std::string path = dir + "/ema_state.pt";
  if (!fs::exists(path))
    throw RunError("'" + dir + "' holds no EMA state (ema_state.pt): it was trained with Train.ema=False");
  TensorDict state = load_tensor_dict(path);
  std::map<std::string, torch::Tensor> by_name(state.begin(), state.end());
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < sums_.size(); ++i) {
    if (!sums_[i].defined()) continue;
    auto it = by_name.find(names_[i]);
    if (it == by_name.end() || it->second.sizes() != sums_[i].sizes())
      throw RunError("'" + path + "' does not fit the model (tensor " + names_[i] + ")");
    sums_[i].copy_(it->second);
  }
  auto updates = by_name.find(kUpdatesKey);
  if (updates == by_name.end()) throw RunError("'" + path + "' has no update count");
  updates_ = updates->second.item<int64_t>();
  applied_ = false;
}

}  // namespace paddlex
