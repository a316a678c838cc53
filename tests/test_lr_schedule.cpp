// learning_rate_at: LR as a pure function of the global step (PaddleClas warmup + Cosine/Piecewise/Constant).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "paddlex/trainers/lr_schedule.h"

namespace {

using paddlex::learning_rate_at;
using paddlex::LrScheduleSpec;

constexpr double kTol = 1e-12;

// base 0.1, 5 steps per epoch, 12 epochs, 2 warmup epochs (10 steps) from 0.01.
LrScheduleSpec spec(const std::string& type) {
  LrScheduleSpec s;
  s.type = type;
  s.base_lr = 0.1;
  s.steps_per_unit = 5;
  s.total_units = 12;
  s.warmup_units = 2;
  s.warmup_start_lr = 0.01;
  s.eta_min = 0.002;
  s.milestones = {4, 8};
  s.gamma = 0.5;
  return s;
}

TEST(LrSchedule, WarmupIsLinearFromStartLr) {
  for (const char* type : {"Cosine", "Piecewise", "Constant"}) {
    const LrScheduleSpec s = spec(type);
    EXPECT_NEAR(learning_rate_at(s, 0), 0.01, kTol) << type;
    EXPECT_NEAR(learning_rate_at(s, 1), 0.01 + 0.09 * 1 / 10, kTol) << type;
    EXPECT_NEAR(learning_rate_at(s, 5), 0.055, kTol) << type;
    EXPECT_NEAR(learning_rate_at(s, 9), 0.01 + 0.09 * 9 / 10, kTol) << type;
    // Warmup ends exactly at base_lr.
    EXPECT_NEAR(learning_rate_at(s, 10), 0.1, kTol) << type;
  }
}

TEST(LrSchedule, CosineMidpointAndEnd) {
  const LrScheduleSpec s = spec("Cosine");
  // Decay runs over 12*5 - 10 = 50 steps after warmup.
  EXPECT_NEAR(learning_rate_at(s, 35), (0.1 + 0.002) / 2, kTol);
  EXPECT_NEAR(learning_rate_at(s, 60), 0.002, kTol);
  EXPECT_NEAR(learning_rate_at(s, 1000), 0.002, kTol);  // stays at eta_min past the end
  // A fifth of the way (step 20 = 10 decay steps of 50): eta_min + (base - eta_min) * (1 + cos(pi/5)) / 2.
  const double fifth = 0.002 + 0.098 * (1 + std::cos(M_PI / 5)) / 2;
  EXPECT_NEAR(learning_rate_at(s, 20), fifth, kTol);
  // Monotonically decreasing after warmup.
  for (int64_t step = 11; step <= 60; ++step) EXPECT_LT(learning_rate_at(s, step), learning_rate_at(s, step - 1));
}

TEST(LrSchedule, PiecewiseMultipliesByGammaAtMilestoneEpochs) {
  const LrScheduleSpec s = spec("Piecewise");
  EXPECT_NEAR(learning_rate_at(s, 10), 0.1, kTol);    // epoch 2
  EXPECT_NEAR(learning_rate_at(s, 19), 0.1, kTol);    // epoch 3, last step
  EXPECT_NEAR(learning_rate_at(s, 20), 0.05, kTol);   // epoch 4 = first milestone
  EXPECT_NEAR(learning_rate_at(s, 39), 0.05, kTol);   // epoch 7
  EXPECT_NEAR(learning_rate_at(s, 40), 0.025, kTol);  // epoch 8 = second milestone
  EXPECT_NEAR(learning_rate_at(s, 59), 0.025, kTol);
  EXPECT_NEAR(learning_rate_at(s, 500), 0.025, kTol);
}

TEST(LrSchedule, ConstantStaysAtBase) {
  const LrScheduleSpec s = spec("Constant");
  for (int64_t step : {10, 11, 35, 59, 60, 1000}) EXPECT_NEAR(learning_rate_at(s, step), 0.1, kTol) << step;
}

TEST(LrSchedule, NoWarmupStartsAtBase) {
  LrScheduleSpec cos = spec("Cosine");
  cos.warmup_units = 0;
  EXPECT_NEAR(learning_rate_at(cos, 0), 0.1, kTol);
  EXPECT_NEAR(learning_rate_at(cos, 30), (0.1 + 0.002) / 2, kTol);  // decay over all 60 steps
  EXPECT_NEAR(learning_rate_at(cos, 60), 0.002, kTol);
  LrScheduleSpec pw = spec("Piecewise");
  pw.warmup_units = 0;
  EXPECT_NEAR(learning_rate_at(pw, 0), 0.1, kTol);
  EXPECT_NEAR(learning_rate_at(pw, 20), 0.05, kTol);
  LrScheduleSpec constant = spec("Constant");
  constant.warmup_units = 0;
  EXPECT_NEAR(learning_rate_at(constant, 0), 0.1, kTol);
}

TEST(LrSchedule, PaddleOcrCosineCountsTheWarmupInItsPeriod) {
  // PaddleOCR's Cosine: LinearWarmup(W=10) around CosineAnnealingDecay(T_max = all 60 steps), stepped with s - W.
  LrScheduleSpec s = spec("Cosine");
  s.eta_min = 0;
  s.warmup_start_lr = 0;
  s.cosine_spans_warmup = true;
  EXPECT_NEAR(learning_rate_at(s, 5), 0.05, kTol);
  EXPECT_NEAR(learning_rate_at(s, 10), 0.1, kTol);
  EXPECT_NEAR(learning_rate_at(s, 40), 0.05, kTol);  // (40 - 10) / 60 = half the period
  // The last step (59): 0.05 * (1 + cos(pi * 49 / 60)), well above 0.
  EXPECT_NEAR(learning_rate_at(s, 59), 0.05 * (1 + std::cos(M_PI * 49.0 / 60.0)), kTol);
}

TEST(LrSchedule, IsAPureFunctionOfStep) {
  const LrScheduleSpec s = spec("Cosine");
  const double a = learning_rate_at(s, 33);
  learning_rate_at(s, 7);
  learning_rate_at(s, 50);
  EXPECT_EQ(learning_rate_at(s, 33), a);
}

}  // namespace
