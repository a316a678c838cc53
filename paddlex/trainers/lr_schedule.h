// Learning rate as a pure function of the global step, so resume needs no scheduler state.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace paddlex {

// Lengths are in schedule units (Train.schedule_unit): an epoch is steps_per_unit optimizer steps, an
// iteration one.
struct LrScheduleSpec {
  std::string type = "Cosine";  // Cosine | Piecewise | Constant
  double base_lr = 0.1;
  int64_t steps_per_unit = 1;
  int64_t total_units = 1;
  int64_t warmup_units = 0;
  double warmup_start_lr = 0.0;
  double eta_min = 0.0;                  // Cosine
  // Cosine: the cosine's period counts the warmup steps too (PaddleOCR's Cosine: T_max = all steps, so it ends
  // above eta_min) instead of only the steps after warmup (PaddleClas's).
  bool cosine_spans_warmup = false;
  std::vector<int64_t> milestones;       // Piecewise, in units
  double gamma = 0.1;                    // Piecewise
};

// PaddleClas semantics: linear warmup from warmup_start_lr to base_lr over warmup_units*steps_per_unit
// steps; then Cosine decays per step to eta_min over the remaining steps, Piecewise multiplies by gamma at
// each milestone, Constant stays at base_lr.
double learning_rate_at(const LrScheduleSpec& spec, int64_t global_step);

}  // namespace paddlex
