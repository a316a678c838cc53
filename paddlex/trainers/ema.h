// Exponential moving average of the weights, with PaddleDetection's ModelEMA semantics: every parameter and
// floating-point buffer (BatchNorm statistics included) is averaged in float32 from zero,
//   avg <- d_n * avg + (1 - d_n) * w   after each optimizer step, n = updates so far,
// with the decay warm-up of Train.ema_decay_type (threshold: min(decay, (1+n)/(10+n)); exponential:
// decay*(1-exp(-(n+1)/2000)); normal: decay), and the zero start corrected when applied: avg / (1 - d^N) for
// threshold and normal (d the last decay, N the updates), none for exponential. Integer buffers are copied.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "paddlex/nn/network.h"
#include "paddlex/trainers/checkpoint.h"

namespace paddlex {

enum class EmaDecayType { kThreshold, kExponential, kNormal };
EmaDecayType parse_ema_decay_type(const std::string& name);

// The decay of update number `n` (0-based).
double ema_decay_at(double decay, EmaDecayType type, int64_t n);

class ModelEma : public StatefulComponent {
 public:
  // Averages `model`'s weights into `averaged`, a network of the same architecture (device, memory format and
  // eval mode already set).
  ModelEma(double decay, EmaDecayType type, Network& model, std::shared_ptr<Network> averaged);
  void update();
  // The averaged network, its weights brought up to date.
  Network& averaged();
  int64_t updates() const { return updates_; }
  // ema.pt: the averaged weights (what evaluate, export and predict load); ema_state.pt: the running sums and
  // the update count, for an exact resume.
  void save(const std::string& dir) const override;
  void load(const std::string& dir) override;

 private:
  void apply() const;

  double decay_;
  EmaDecayType type_;
  std::vector<std::string> names_;
  std::vector<torch::Tensor> model_tensors_;     // the trained model's parameters and buffers
  std::vector<torch::Tensor> sums_;              // float32 running averages; undefined for integer tensors
  std::shared_ptr<Network> averaged_;
  std::vector<torch::Tensor> averaged_tensors_;  // the averaged network's parameters and buffers
  int64_t updates_ = 0;
  mutable bool applied_ = false;                 // averaged_ holds the current average
};

}  // namespace paddlex
