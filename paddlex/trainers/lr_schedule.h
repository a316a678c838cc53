// Learning rate as a pure function of the global step, so resume needs no scheduler state.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace paddlex {

struct LrScheduleSpec {
  std::string type = "Cosine";  // Cosine | Piecewise | Constant
  double base_lr = 0.1;
  int64_t steps_per_epoch = 1;
  int64_t total_epochs = 1;
  int64_t warmup_epochs = 0;
  double warmup_start_lr = 0.0;
  double eta_min = 0.0;                  // Cosine
  std::vector<int64_t> milestones;       // Piecewise, in epochs
  double gamma = 0.1;                    // Piecewise
};

// PaddleClas semantics: linear warmup from warmup_start_lr to base_lr over warmup_epochs*steps_per_epoch
// steps; then Cosine decays per step to eta_min over the remaining steps, Piecewise multiplies by gamma at
// each milestone epoch, Constant stays at base_lr.
double learning_rate_at(const LrScheduleSpec& spec, int64_t global_step);

}  // namespace paddlex
