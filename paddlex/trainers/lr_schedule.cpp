#include "paddlex/trainers/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace paddlex {

double learning_rate_at(const LrScheduleSpec& spec, int64_t step) {
  const int64_t warmup_steps = spec.warmup_units * spec.steps_per_unit;
  if (step < warmup_steps)
    return spec.warmup_start_lr + (spec.base_lr - spec.warmup_start_lr) * static_cast<double>(step) / warmup_steps;
  if (spec.type == "Cosine") {
    const int64_t total_steps = spec.total_units * spec.steps_per_unit;
    const int64_t decay_steps = std::max<int64_t>(1, spec.cosine_spans_warmup ? total_steps : total_steps - warmup_steps);
    const double t = std::min(1.0, static_cast<double>(step - warmup_steps) / decay_steps);
    return spec.eta_min + 0.5 * (spec.base_lr - spec.eta_min) * (1.0 + std::cos(M_PI * t));
  }
  if (spec.type == "Piecewise") {
    const int64_t unit = step / std::max<int64_t>(1, spec.steps_per_unit);
    const auto passed = std::upper_bound(spec.milestones.begin(), spec.milestones.end(), unit) - spec.milestones.begin();
    return spec.base_lr * std::pow(spec.gamma, static_cast<double>(passed));
  }
  return spec.base_lr;
}

}  // namespace paddlex
