// Multi-label image classification: PaddleClas's MultiLabelMAP (integral AP, tie order, skipped classes) and the
// threshold metrics of MultiLabelEvaluator, merging ranks' states, classes_above (PaddleX's
// MultiLabelThreshOutput), the asymmetric loss, the ML-Decoder head and the *_ML models.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "paddlex/core/errors.h"
#include "paddlex/datasets/sample.h"
#include "paddlex/io/tensor_file.h"
#include "paddlex/modules/image_classification/models/classifier.h"
#include "paddlex/modules/image_multilabel_classification/asymmetric_loss.h"
#include "paddlex/modules/image_multilabel_classification/models/ml_classifier.h"
#include "paddlex/modules/image_multilabel_classification/multilabel_map.h"
#include "paddlex/nn/layers.h"
#include "paddlex/nn/ml_decoder.h"

namespace {

using paddlex::Batch;
using paddlex::Metrics;
using paddlex::TensorMap;
using paddlex::mlcls::AsymmetricLossOptions;
using paddlex::mlcls::classes_above;
using paddlex::mlcls::integral_average_precision;
using paddlex::mlcls::MultiLabelEvaluator;

using Ranked = std::vector<std::pair<float, bool>>;

std::vector<int64_t> shape(const torch::Tensor& t) { return t.sizes().vec(); }

// ---------------------------------------------------------------------------------------------------------------
// integral_average_precision

TEST(MultiLabelAP, HandComputedRanking) {
  // recall 1/2 at precision 1, recall 1 at precision 2/3: (1 + 2/3) / 2.
  const auto ap = integral_average_precision({{0.9f, true}, {0.8f, false}, {0.7f, true}});
  ASSERT_TRUE(ap.has_value());
  EXPECT_DOUBLE_EQ(*ap, (1.0 + 2.0 / 3.0) / 2.0);
  EXPECT_NEAR(*ap, 0.8333333333333333, 1e-15);
}

TEST(MultiLabelAP, AllPositivesFirstIsOne) {
  const auto ap = integral_average_precision({{0.9f, true}, {0.8f, true}, {0.3f, false}, {0.1f, false}});
  ASSERT_TRUE(ap.has_value());
  EXPECT_DOUBLE_EQ(*ap, 1.0);
}

TEST(MultiLabelAP, PositiveLastAndMixed) {
  // The only positive at rank 3: precision 1/3.
  const auto last = integral_average_precision({{0.9f, false}, {0.8f, false}, {0.7f, true}});
  ASSERT_TRUE(last.has_value());
  EXPECT_DOUBLE_EQ(*last, 1.0 / 3.0);
  // Positives at ranks 2, 3, 5 of 5: (1/2 + 2/3 + 3/5) / 3.
  const auto mixed =
      integral_average_precision({{0.9f, false}, {0.8f, true}, {0.7f, true}, {0.6f, false}, {0.5f, true}});
  ASSERT_TRUE(mixed.has_value());
  EXPECT_NEAR(*mixed, (0.5 + 2.0 / 3.0 + 0.6) / 3.0, 1e-15);
}

TEST(MultiLabelAP, NoPositivesIsNullopt) {
  EXPECT_FALSE(integral_average_precision({{0.9f, false}, {0.1f, false}}).has_value());
  EXPECT_FALSE(integral_average_precision(Ranked{}).has_value());
}

TEST(MultiLabelAP, TiedScoresAreSeparatePointsInTheGivenOrder) {
  // No grouping of equal scores (sklearn would give 0.5 for both): the order of the ties decides.
  const auto positive_first = integral_average_precision({{0.5f, true}, {0.5f, false}});
  const auto negative_first = integral_average_precision({{0.5f, false}, {0.5f, true}});
  ASSERT_TRUE(positive_first.has_value());
  ASSERT_TRUE(negative_first.has_value());
  EXPECT_DOUBLE_EQ(*positive_first, 1.0);
  EXPECT_DOUBLE_EQ(*negative_first, 0.5);

  const auto a = integral_average_precision({{0.9f, true}, {0.4f, true}, {0.4f, false}, {0.4f, false}});
  const auto b = integral_average_precision({{0.9f, true}, {0.4f, false}, {0.4f, false}, {0.4f, true}});
  EXPECT_DOUBLE_EQ(*a, 1.0);
  EXPECT_DOUBLE_EQ(*b, (1.0 + 2.0 / 4.0) / 2.0);
}

// ---------------------------------------------------------------------------------------------------------------
// MultiLabelEvaluator
//
// 8 images (dataset indices 0..7), 3 classes, eval batches [0,1,2], [3,4], [5,6,7]. Class 2 has no positives.
// Ties: class 0 has logits 20, 30, 25 (sigmoid exactly 1.0f) at indices 3,4 (same batch) and 5 (later batch), and
// 0.5 at indices 1,2 (same batch) and 7 (later batch); class 1 has logit 0 (sigmoid exactly 0.5, also the
// threshold) at indices 0,1 (batch 0), 4 (batch 1) and 6 (batch 2).
//
// PaddleClas's ranking (within a batch the higher index first, across batches the earlier batch first):
//   class 0: idx 4(+) 3(-) 5(-) 0(+) 2(+) 1(-) 7(-) 6(+)  -> AP = (1/1 + 2/4 + 3/5 + 4/8) / 4 = 0.65
//   class 1: idx 7(-) 3(+) 1(+) 0(-) 4(-) 6(+) 2(-) 5(-)  -> AP = (1/2 + 2/3 + 3/6) / 3 = 5/9
//   class 2: no positives, skipped                         -> mAP = (0.65 + 5/9) / 2
// (With the within-batch ties the other way round, class 0 would rank 3(-) 4(+) 5(-) 0(+) 1(-) 2(+) 7(-) 6(+),
// AP 0.5; counting class 2 as 0 would give (0.65 + 5/9) / 3.)
//
// The expected mAP 0.6027777777777779 was also computed by a numpy reimplementation of PaddleClas's
// MultiLabelMAP (ppcls/metric/metrics.py): per batch, scores = torch.sigmoid(float32 logits); per class
// np.argsort(score)[::-1] order appended as [score, is_pos]; then Python's stable sorted(key=score, reverse=True)
// over the accumulated list, and the integral AP with the recall gap > 1e-6 rule; mean over classes with a
// positive. It printed 0.6027777777777779, per class [0.65, 0.5555555555555556, None].
//
// Threshold 0.5, positive iff sigmoid >= 0.5 (i.e. logit >= 0), over all 24 image-class pairs:
//   class 0: predicted idx 0,1,2,3,4,5,7 -> TP {0,2,4} = 3, FP {1,3,5,7} = 4, FN {6} = 1
//   class 1: predicted idx 0,1,3,4,6,7   -> TP {1,3,6} = 3, FP {0,4,7} = 3, FN 0
//   class 2: predicted idx 0 (1.5), 4 (0.2) -> FP 2
//   TP 6, FP 9, FN 1: precision 6/15 = 0.4, recall 6/7, F1 = 2*6/(2*6+9+1) = 6/11.
constexpr float kLogits[8][3] = {
    {2.0f, 0.0f, 1.5f},    // 0  batch 0
    {0.5f, 0.0f, -1.0f},   // 1
    {0.5f, -2.0f, -1.0f},  // 2
    {20.0f, 1.0f, -0.5f},  // 3  batch 1
    {30.0f, 0.0f, 0.2f},   // 4
    {25.0f, -3.0f, -4.0f}, // 5  batch 2
    {-1.0f, 0.0f, -2.0f},  // 6
    {0.5f, 3.0f, -1.0f},   // 7
};
constexpr float kLabels[8][3] = {
    {1, 0, 0}, {0, 1, 0}, {1, 0, 0}, {0, 1, 0}, {1, 0, 0}, {0, 0, 0}, {1, 1, 0}, {0, 0, 0},
};
const std::vector<std::vector<int64_t>> kBatches = {{0, 1, 2}, {3, 4}, {5, 6, 7}};

constexpr double kExpectedMAP = 0.6027777777777779;

torch::Tensor all_logits() { return torch::from_blob(const_cast<float*>(&kLogits[0][0]), {8, 3}, torch::kFloat32).clone(); }
torch::Tensor all_labels() { return torch::from_blob(const_cast<float*>(&kLabels[0][0]), {8, 3}, torch::kFloat32).clone(); }

// Feeds batch `b` (restricted to the class columns `classes`, all when empty) to `evaluator`.
void feed(MultiLabelEvaluator& evaluator, size_t b, const std::vector<int64_t>& classes = {}) {
  const std::vector<int64_t>& rows = kBatches.at(b);
  const torch::Tensor row_index = torch::tensor(rows, torch::kInt64);
  torch::Tensor logits = all_logits().index_select(0, row_index);
  torch::Tensor labels = all_labels().index_select(0, row_index);
  if (!classes.empty()) {
    const torch::Tensor column_index = torch::tensor(classes, torch::kInt64);
    logits = logits.index_select(1, column_index).contiguous();
    labels = labels.index_select(1, column_index).contiguous();
  }
  Batch batch;
  batch.indices = rows;
  batch.tensors["label"] = labels;
  evaluator.process(batch, TensorMap{{"logits", logits}});
}

Metrics evaluate_all(const std::vector<size_t>& order, const std::vector<int64_t>& classes = {}) {
  MultiLabelEvaluator evaluator(0.5);
  for (size_t b : order) feed(evaluator, b, classes);
  return evaluator.evaluate();
}

TEST(MultiLabelEvaluator, SigmoidTiesAreExactInFloat32) {
  // The premise of the tie cases below.
  const torch::Tensor p = torch::sigmoid(torch::tensor({20.0f, 25.0f, 30.0f, 0.0f}));
  EXPECT_EQ(p[0].item<float>(), 1.0f);
  EXPECT_EQ(p[1].item<float>(), 1.0f);
  EXPECT_EQ(p[2].item<float>(), 1.0f);
  EXPECT_EQ(p[3].item<float>(), 0.5f);
}

TEST(MultiLabelEvaluator, HandComputedMAPWithTiesAndAClassWithoutPositives) {
  const Metrics m = evaluate_all({0, 1, 2});
  EXPECT_EQ(m.primary, "MultiLabelMAP");
  EXPECT_TRUE(m.higher_is_better);
  ASSERT_EQ(m.values.count("MultiLabelMAP"), 1u);
  EXPECT_DOUBLE_EQ(m.values.at("MultiLabelMAP"), kExpectedMAP);
  EXPECT_NEAR(m.values.at("MultiLabelMAP"), (0.65 + 5.0 / 9.0) / 2.0, 1e-12);
  EXPECT_DOUBLE_EQ(m.primary_value(), m.values.at("MultiLabelMAP"));
}

TEST(MultiLabelEvaluator, PerClassAPPinsTheTieOrder) {
  EXPECT_NEAR(evaluate_all({0, 1, 2}, {0}).values.at("MultiLabelMAP"), 0.65, 1e-12);
  EXPECT_NEAR(evaluate_all({0, 1, 2}, {1}).values.at("MultiLabelMAP"), 5.0 / 9.0, 1e-12);
  // Only the class without positives: no valid class, mAP 0.
  EXPECT_EQ(evaluate_all({0, 1, 2}, {2}).values.at("MultiLabelMAP"), 0.0);
  // Class 2 contributes nothing to the mean (skipped, not a 0).
  EXPECT_DOUBLE_EQ(evaluate_all({0, 1, 2}, {0, 2}).values.at("MultiLabelMAP"),
                   evaluate_all({0, 1, 2}, {0}).values.at("MultiLabelMAP"));
}

TEST(MultiLabelEvaluator, PrecisionRecallF1AtThresholdInclusive) {
  const Metrics m = evaluate_all({0, 1, 2});
  EXPECT_DOUBLE_EQ(m.values.at("precision"), 6.0 / 15.0);
  EXPECT_DOUBLE_EQ(m.values.at("recall"), 6.0 / 7.0);
  EXPECT_NEAR(m.values.at("f1"), 6.0 / 11.0, 1e-12);
  // Threshold 0.8 keeps sigmoid(2.0) = 0.881, sigmoid(1.5) = 0.818, sigmoid(3.0) = 0.953 and the three 1.0s:
  // class 0 TP {0,4} FP {3,5}; class 1 FP {7}; class 2 FP {0}. 7 positives overall: TP 2, FP 4, FN 5.
  MultiLabelEvaluator strict(0.8);
  for (size_t b = 0; b < 3; ++b) feed(strict, b);
  const Metrics s = strict.evaluate();
  EXPECT_DOUBLE_EQ(s.values.at("precision"), 2.0 / 6.0);
  EXPECT_DOUBLE_EQ(s.values.at("recall"), 2.0 / 7.0);
  EXPECT_NEAR(s.values.at("f1"), 4.0 / 13.0, 1e-12);
  // The ranking metric does not depend on the threshold.
  EXPECT_DOUBLE_EQ(s.values.at("MultiLabelMAP"), kExpectedMAP);
}

TEST(MultiLabelEvaluator, ProcessingOrderOfBatchesDoesNotMatter) {
  // The tie order follows the dataset position of the batch, not the order process() saw them in.
  const Metrics reference = evaluate_all({0, 1, 2});
  for (const auto& order : std::vector<std::vector<size_t>>{{2, 0, 1}, {1, 2, 0}, {2, 1, 0}}) {
    const Metrics m = evaluate_all(order);
    for (const auto& [name, value] : reference.values) EXPECT_EQ(m.values.at(name), value) << name;
  }
}

TEST(MultiLabelEvaluator, EmptyEvaluatorGivesZeros) {
  MultiLabelEvaluator evaluator(0.5);
  EXPECT_TRUE(evaluator.state().empty());
  const Metrics m = evaluator.evaluate();
  EXPECT_EQ(m.primary, "MultiLabelMAP");
  EXPECT_EQ(m.values.at("MultiLabelMAP"), 0.0);
  EXPECT_EQ(m.values.at("precision"), 0.0);
  EXPECT_EQ(m.values.at("recall"), 0.0);
  EXPECT_EQ(m.values.at("f1"), 0.0);
}

TensorMap over_the_wire(const TensorMap& state) {
  return paddlex::tensor_map_from_bytes(paddlex::tensor_map_to_bytes(state));
}

void expect_same_metrics(const Metrics& got, const Metrics& want) {
  EXPECT_EQ(got.primary, want.primary);
  EXPECT_EQ(got.higher_is_better, want.higher_is_better);
  ASSERT_EQ(got.values.size(), want.values.size());
  for (const auto& [name, value] : want.values) {
    ASSERT_EQ(got.values.count(name), 1u) << name;
    EXPECT_EQ(got.values.at(name), value) << name;  // bit-identical
  }
}

TEST(MultiLabelEvaluator, MergingRanksIsExact) {
  MultiLabelEvaluator single(0.5);
  for (size_t b = 0; b < 3; ++b) feed(single, b);
  const Metrics want = single.evaluate();

  // Two ranks with kBatches sharding: rank 0 batches 0 and 2, rank 1 batch 1.
  MultiLabelEvaluator rank0(0.5), rank1(0.5);
  feed(rank0, 0);
  feed(rank0, 2);
  feed(rank1, 1);
  const TensorMap state0 = over_the_wire(rank0.state());
  const TensorMap state1 = over_the_wire(rank1.state());
  rank0.merge(state1);
  rank1.merge(state0);
  expect_same_metrics(rank0.evaluate(), want);
  expect_same_metrics(rank1.evaluate(), want);
  EXPECT_DOUBLE_EQ(rank0.evaluate().values.at("MultiLabelMAP"), kExpectedMAP);
}

TEST(MultiLabelEvaluator, MergingAnEmptyStateAndIntoAnEmptyEvaluator) {
  MultiLabelEvaluator single(0.5);
  for (size_t b = 0; b < 3; ++b) feed(single, b);
  const Metrics want = single.evaluate();

  MultiLabelEvaluator idle(0.5);  // a rank that got no batch
  const TensorMap idle_state = over_the_wire(idle.state());
  EXPECT_TRUE(idle_state.empty());
  single.merge(idle_state);
  expect_same_metrics(single.evaluate(), want);

  idle.merge(over_the_wire(single.state()));
  expect_same_metrics(idle.evaluate(), want);
}

TEST(MultiLabelEvaluator, ResetClears) {
  MultiLabelEvaluator evaluator(0.5);
  for (size_t b = 0; b < 3; ++b) feed(evaluator, b);
  const Metrics first = evaluator.evaluate();
  evaluator.reset();
  EXPECT_TRUE(evaluator.state().empty());
  const Metrics cleared = evaluator.evaluate();
  EXPECT_EQ(cleared.values.at("MultiLabelMAP"), 0.0);
  EXPECT_EQ(cleared.values.at("precision"), 0.0);
  // Only batch 1 after the reset: class 0 ranks 4(+) 3(-) -> AP 1; class 1 ranks 3(+) 4(-) -> AP 1.
  feed(evaluator, 1);
  EXPECT_DOUBLE_EQ(evaluator.evaluate().values.at("MultiLabelMAP"), 1.0);
  evaluator.reset();
  for (size_t b = 0; b < 3; ++b) feed(evaluator, b);
  expect_same_metrics(evaluator.evaluate(), first);
}

TEST(MultiLabelEvaluator, StateHoldsOneRowPerImage) {
  MultiLabelEvaluator evaluator(0.5);
  feed(evaluator, 0);
  feed(evaluator, 2);
  const TensorMap state = evaluator.state();
  for (const char* key : {"index", "batch_first", "probabilities", "labels"}) {
    ASSERT_EQ(state.count(key), 1u) << key;
    EXPECT_EQ(state.at(key).size(0), 6) << key;
    EXPECT_TRUE(state.at(key).device().is_cpu()) << key;
  }
  EXPECT_EQ(shape(state.at("probabilities")), (std::vector<int64_t>{6, 3}));
}

// ---------------------------------------------------------------------------------------------------------------
// classes_above

TEST(MultiLabelClassesAbove, InclusiveThresholdBestFirstTiesByHigherClassId) {
  const std::vector<float> p = {0.5f, 0.7f, 0.2f, 0.7f, 0.49999f, 0.9f};
  const auto out = classes_above(p.data(), static_cast<int64_t>(p.size()), 0.5);
  const std::vector<std::pair<int64_t, double>> want = {
      {5, static_cast<double>(0.9f)}, {3, static_cast<double>(0.7f)}, {1, static_cast<double>(0.7f)},
      {0, 0.5}};
  EXPECT_EQ(out, want);

  // Exactly at the threshold counts.
  const auto at = classes_above(p.data(), static_cast<int64_t>(p.size()), static_cast<double>(0.7f));
  ASSERT_EQ(at.size(), 3u);
  EXPECT_EQ(at[0].first, 5);
  EXPECT_EQ(at[1].first, 3);
  EXPECT_EQ(at[2].first, 1);

  EXPECT_TRUE(classes_above(p.data(), static_cast<int64_t>(p.size()), 0.95).empty());
  const auto all = classes_above(p.data(), static_cast<int64_t>(p.size()), 0.0);
  std::vector<int64_t> ids;
  for (const auto& [c, s] : all) ids.push_back(c);
  EXPECT_EQ(ids, (std::vector<int64_t>{5, 3, 1, 0, 4, 2}));
}

// ---------------------------------------------------------------------------------------------------------------
// asymmetric_loss

// One element of PaddleClas's MultiLabelAsymmetricLoss with the focusing weight detached, and d loss / d logit.
double asl_element(double x, bool positive, const AsymmetricLossOptions& o, double* gradient) {
  const double p = 1.0 / (1.0 + std::exp(-x));
  double pt, dpt;
  if (positive) {
    pt = p, dpt = p * (1 - p);
  } else if (o.clip > 0 && 1 - p + o.clip > 1.0) {
    pt = 1.0, dpt = 0.0;
  } else {
    pt = 1 - p + (o.clip > 0 ? o.clip : 0.0), dpt = -p * (1 - p);
  }
  const double w = std::pow(1 - pt, positive ? o.gamma_pos : o.gamma_neg);
  *gradient = -dpt / pt * w;
  return -std::log(std::max(pt, o.epsilon)) * w;
}

TEST(MultiLabelAsymmetricLoss, HandComputedOneByThree) {
  // logits [1.0, -3.5, 0.5], targets [1, 0, 0], defaults (gamma_pos 0, gamma_neg 4, clip 0.05):
  //   positive: -log(sigmoid(1)) = 0.3132616875182228
  //   negative, p = sigmoid(-3.5) = 0.0293 <= clip: pt = min(1 - p + 0.05, 1) = 1 -> exactly 0
  //   negative, p = sigmoid(0.5) = 0.6225: pt = 1.05 - p = 0.4275, -log(pt) * (1 - pt)^4 = 0.09125300409120031
  // Sum 0.4045146916094231 (Python math and torch float64); torch float32 gives 0.4045146703720093.
  // Gradient with the weight detached (torch autograd on a reference with torch.no_grad() around the weight,
  // float64): [-0.2689414213699951, 0, 0.0590304162628343]; with the weight not detached the last entry would
  // be 0.2088736875111649.
  const AsymmetricLossOptions defaults;
  EXPECT_EQ(defaults.gamma_pos, 0.0);
  EXPECT_EQ(defaults.gamma_neg, 4.0);
  EXPECT_EQ(defaults.clip, 0.05);

  torch::Tensor x = torch::tensor({{1.0, -3.5, 0.5}}, torch::dtype(torch::kFloat64).requires_grad(true));
  const torch::Tensor y = torch::tensor({{1.0, 0.0, 0.0}}, torch::kFloat64);
  torch::Tensor loss = paddlex::mlcls::asymmetric_loss(x, y, defaults);
  EXPECT_EQ(loss.dim(), 0);
  EXPECT_NEAR(loss.item<double>(), 0.4045146916094231, 1e-12);
  loss.backward();
  const torch::Tensor g = x.grad();
  EXPECT_NEAR(g[0][0].item<double>(), -0.2689414213699951, 1e-12);
  EXPECT_EQ(g[0][1].item<double>(), 0.0);
  EXPECT_NEAR(g[0][2].item<double>(), 0.0590304162628343, 1e-12);

  const torch::Tensor xf = torch::tensor({{1.0f, -3.5f, 0.5f}}, torch::kFloat32);
  const torch::Tensor yf = torch::tensor({{1.0f, 0.0f, 0.0f}}, torch::kFloat32);
  const torch::Tensor lf = paddlex::mlcls::asymmetric_loss(xf, yf, defaults);
  EXPECT_EQ(lf.scalar_type(), torch::kFloat32);
  EXPECT_NEAR(lf.item<float>(), 0.4045146703720093, 1e-6);
  // Integer multi-hot targets give the same value.
  EXPECT_EQ(paddlex::mlcls::asymmetric_loss(xf, yf.to(torch::kInt64), defaults).item<float>(), lf.item<float>());
}

TEST(MultiLabelAsymmetricLoss, EasyNegativesContributeExactlyZero) {
  // sigmoid of each logit <= 0.05 (sigmoid(-2.95) = 0.0498).
  torch::Tensor x =
      torch::tensor({{-2.95f, -3.5f}, {-6.0f, -20.0f}}, torch::dtype(torch::kFloat32).requires_grad(true));
  const torch::Tensor y = torch::zeros({2, 2});
  torch::Tensor loss = paddlex::mlcls::asymmetric_loss(x, y, AsymmetricLossOptions{});
  EXPECT_EQ(loss.item<float>(), 0.0f);
  loss.backward();
  EXPECT_EQ(x.grad().abs().max().item<float>(), 0.0f);
  // Just above the clip the loss is positive (tiny: (p - clip)^4 * -log(1 - p + clip)).
  const torch::Tensor above = torch::tensor({{-2.5f}}, torch::kFloat32);
  EXPECT_GT(paddlex::mlcls::asymmetric_loss(above, torch::zeros({1, 1}), AsymmetricLossOptions{}).item<float>(), 0.0f);
}

TEST(MultiLabelAsymmetricLoss, SumReductionDoublesWithTheBatch) {
  torch::manual_seed(3);
  const torch::Tensor x = torch::randn({3, 4}, torch::kFloat64) * 2;
  const torch::Tensor y = torch::bernoulli(torch::full({3, 4}, 0.5, torch::kFloat64));
  const AsymmetricLossOptions o;
  const double one = paddlex::mlcls::asymmetric_loss(x, y, o).item<double>();
  const double two = paddlex::mlcls::asymmetric_loss(torch::cat({x, x}), torch::cat({y, y}), o).item<double>();
  EXPECT_GT(one, 0.0);
  EXPECT_NEAR(two, 2.0 * one, 1e-12 * one);
  // Not a mean: 12 elements, and the loss is their sum.
  double sum = 0.0, unused;
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 4; ++j)
      sum += asl_element(x[i][j].item<double>(), y[i][j].item<double>() == 1.0, o, &unused);
  EXPECT_NEAR(one, sum, 1e-12 * sum);
}

TEST(MultiLabelAsymmetricLoss, MatchesReferenceAndDetachedWeightGradient) {
  std::vector<AsymmetricLossOptions> cases(3);
  cases[1].gamma_pos = 1.0, cases[1].gamma_neg = 2.0, cases[1].clip = 0.1;
  cases[2].gamma_pos = 0.0, cases[2].gamma_neg = 0.0, cases[2].clip = 0.0;
  torch::manual_seed(7);
  const torch::Tensor x0 = torch::randn({4, 5}, torch::kFloat64) * 3;
  const torch::Tensor y = torch::bernoulli(torch::full({4, 5}, 0.5, torch::kFloat64));
  for (size_t k = 0; k < cases.size(); ++k) {
    const auto& o = cases[k];
    torch::Tensor x = x0.clone().requires_grad_(true);
    torch::Tensor loss = paddlex::mlcls::asymmetric_loss(x, y, o);
    loss.backward();
    double want = 0.0;
    for (int64_t i = 0; i < 4; ++i) {
      for (int64_t j = 0; j < 5; ++j) {
        double grad;
        want += asl_element(x0[i][j].item<double>(), y[i][j].item<double>() == 1.0, o, &grad);
        EXPECT_NEAR(x.grad()[i][j].item<double>(), grad, 1e-10) << "case " << k << " at " << i << "," << j;
      }
    }
    EXPECT_NEAR(loss.item<double>(), want, 1e-10 * std::max(1.0, want)) << "case " << k;
  }
  // Without clip or focusing the loss is binary cross-entropy with logits, summed.
  const double bce = torch::binary_cross_entropy_with_logits(x0, y, {}, {}, at::Reduction::Sum).item<double>();
  EXPECT_NEAR(paddlex::mlcls::asymmetric_loss(x0, y, cases[2]).item<double>(), bce, 1e-10 * bce);
}

// ---------------------------------------------------------------------------------------------------------------
// downscale_dropout and the ML-Decoder

TEST(MultiLabelDownscaleDropout, TrainMasksWithoutRescalingEvalScales) {
  torch::manual_seed(11);
  const torch::Tensor x = torch::rand({200000}) + 0.5;  // no zeros
  const torch::Tensor train = paddlex::nn::downscale_dropout(x, 0.2, /*training=*/true);
  const torch::Tensor kept = train != 0;
  EXPECT_TRUE(torch::equal(train.masked_select(kept), x.masked_select(kept)));
  const double dropped = 1.0 - kept.to(torch::kFloat64).mean().item<double>();
  EXPECT_NEAR(dropped, 0.2, 0.01);

  const torch::Tensor eval = paddlex::nn::downscale_dropout(x, 0.2, /*training=*/false);
  EXPECT_TRUE(torch::allclose(eval, x * 0.8, 1e-7, 0.0));
  EXPECT_FALSE(torch::allclose(eval, x, 1e-3, 0.0));
  EXPECT_TRUE(torch::equal(paddlex::nn::downscale_dropout(x, 0.0, true), x));
}

torch::Tensor layer_norm_ref(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  const torch::Tensor mean = x.mean(-1, true);
  const torch::Tensor var = (x - mean).pow(2).mean(-1, true);
  return (x - mean) / torch::sqrt(var + 1e-5) * w + b;
}

TEST(MultiLabelMLDecoder, GroupFactorShapesAndQueryClamp) {
  paddlex::nn::MLDecoderOptions o;
  o.in_channels = 6, o.num_classes = 5, o.query_num = 2, o.embed_dim = 8, o.num_heads = 2, o.mlp_hidden_dim = 16;
  paddlex::nn::MLDecoder grouped(o);
  auto p = grouped->named_parameters();
  EXPECT_EQ(shape(p["query_pos_embed.weight"]), (std::vector<int64_t>{2, 8}));
  EXPECT_EQ(shape(p["group_conv.weight"]), (std::vector<int64_t>{6, 8, 1, 1}));  // ceil(5/2) = 3 per query
  EXPECT_EQ(shape(p["group_conv.bias"]), (std::vector<int64_t>{6}));
  grouped->eval();
  EXPECT_EQ(shape(grouped->forward(torch::randn({3, 6, 2, 3}))), (std::vector<int64_t>{3, 5}));

  o.query_num = 10;  // clamped to the class count
  paddlex::nn::MLDecoder many(o);
  EXPECT_EQ(shape(many->named_parameters()["query_pos_embed.weight"]), (std::vector<int64_t>{5, 8}));
  EXPECT_EQ(shape(many->named_parameters()["group_conv.weight"]), (std::vector<int64_t>{5, 8, 1, 1}));
  o.query_num = 0;  // clamped to 1: one query gives all 5 logits
  paddlex::nn::MLDecoder one(o);
  EXPECT_EQ(shape(one->named_parameters()["query_pos_embed.weight"]), (std::vector<int64_t>{1, 8}));
  EXPECT_EQ(shape(one->named_parameters()["group_conv.weight"]), (std::vector<int64_t>{5, 8, 1, 1}));
  one->eval();
  EXPECT_EQ(shape(one->forward(torch::randn({2, 6, 3, 3}))), (std::vector<int64_t>{2, 5}));
}

TEST(MultiLabelMLDecoder, EvalForwardMatchesReference) {
  // PaddleClas's forward (research notes §2.2), written out independently in float64 with random parameters
  // (LayerNorm affine and biases included so that every term matters).
  torch::manual_seed(5);
  paddlex::nn::MLDecoderOptions o;
  o.in_channels = 6, o.num_classes = 5, o.query_num = 2, o.embed_dim = 8, o.num_heads = 2, o.mlp_hidden_dim = 16;
  paddlex::nn::MLDecoder decoder(o);
  decoder->to(torch::kFloat64);
  decoder->eval();
  auto P = decoder->named_parameters();
  {
    torch::NoGradGuard no_grad;
    for (auto& item : P) item.value().normal_(0.0, 0.4);
    for (const char* n : {"norm1", "norm2", "norm3"})
      P[std::string("decoder.layers.0.") + n + ".weight"].add_(1.0);
  }
  const int64_t N = 2, H = 2, W = 3, E = 8, Q = 2, GF = 3, HEADS = 2, HD = 4;
  const torch::Tensor x = torch::randn({N, 6, H, W}, torch::kFloat64);
  torch::Tensor got;
  {
    torch::NoGradGuard no_grad;
    got = decoder->forward(x);
  }

  torch::NoGradGuard no_grad;
  const std::string L = "decoder.layers.0.";
  auto lin = [&](const torch::Tensor& t, const std::string& name) {
    return torch::matmul(t, P[name + ".weight"].t()) + P[name + ".bias"];
  };
  // memory[n, h*W + w, e] = relu(sum_c Wi[e,c] x[n,c,h,w] + bi[e])
  const torch::Tensor wi = P["input_proj.weight"].flatten(1);
  const torch::Tensor memory =
      torch::relu(torch::einsum("ec,nchw->nhwe", {wi, x}) + P["input_proj.bias"]).reshape({N, H * W, E});
  const torch::Tensor tgt = P["query_pos_embed.weight"].unsqueeze(0).expand({N, Q, E});
  torch::Tensor t = layer_norm_ref(tgt + tgt, P[L + "norm1.weight"], P[L + "norm1.bias"]);
  const torch::Tensor q = lin(t, L + "cross_attn.q_proj");
  const torch::Tensor k = lin(memory, L + "cross_attn.k_proj");
  const torch::Tensor v = lin(memory, L + "cross_attn.v_proj");
  std::vector<torch::Tensor> heads;
  for (int64_t h = 0; h < HEADS; ++h) {
    const torch::Tensor qh = q.narrow(2, h * HD, HD), kh = k.narrow(2, h * HD, HD), vh = v.narrow(2, h * HD, HD);
    const torch::Tensor a = torch::softmax(torch::matmul(qh, kh.transpose(1, 2)) / std::sqrt(double(HD)), -1);
    heads.push_back(torch::matmul(a, vh));
  }
  const torch::Tensor attn = lin(torch::cat(heads, 2), L + "cross_attn.out_proj");
  t = layer_norm_ref(t + attn, P[L + "norm2.weight"], P[L + "norm2.bias"]);
  const torch::Tensor ff = lin(torch::relu(lin(t, L + "linear1")), L + "linear2");
  const torch::Tensor hidden = layer_norm_ref(t + ff, P[L + "norm3.weight"], P[L + "norm3.bias"]);  // [N,Q,E]
  // GroupFC: logit[n, g*GF + j] = sum_d Wg[g*GF + j, d] h[n, g, d] + bg[g*GF + j], truncated to 5 classes.
  const torch::Tensor wg = P["group_conv.weight"].flatten(1), bg = P["group_conv.bias"];
  torch::Tensor want = torch::zeros({N, 5}, torch::kFloat64);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < 5; ++c) {
      const int64_t g = c / GF;
      want.index_put_({n, c}, (wg[c] * hidden[n][g]).sum() + bg[c]);
    }
  ASSERT_EQ(shape(got), (std::vector<int64_t>{N, 5}));
  EXPECT_TRUE(torch::allclose(got, want, 1e-9, 1e-10)) << got << "\n" << want;
}

// ---------------------------------------------------------------------------------------------------------------
// The *_ML models

using paddlex::cls::Classifier;
using paddlex::mlcls::create_ml_classifier;

int64_t parameter_count(const Classifier& model, const std::string& prefix = "") {
  int64_t total = 0;
  for (const auto& item : model->named_parameters())
    if (item.key().rfind(prefix, 0) == 0) total += item.value().numel();
  return total;
}

TEST(MultiLabelModels, Names) {
  EXPECT_EQ(paddlex::mlcls::ml_classifier_names(), (std::vector<std::string>{"PP-LCNet_x1_0_ML", "ResNet50_ML"}));
}

TEST(MultiLabelModels, LCNetHeadParameterNamesAndShapes) {
  torch::manual_seed(0);
  const Classifier model = create_ml_classifier("PP-LCNet_x1_0_ML", 5);
  const auto params = model->named_parameters();
  const std::string L = "fc.decoder.layers.0.";
  const std::map<std::string, std::vector<int64_t>> want = {
      {"fc.input_proj.weight", {768, 1280, 1, 1}},
      {"fc.input_proj.bias", {768}},
      {"fc.query_pos_embed.weight", {5, 768}},
      {L + "cross_attn.q_proj.weight", {768, 768}},
      {L + "cross_attn.q_proj.bias", {768}},
      {L + "cross_attn.k_proj.weight", {768, 768}},
      {L + "cross_attn.k_proj.bias", {768}},
      {L + "cross_attn.v_proj.weight", {768, 768}},
      {L + "cross_attn.v_proj.bias", {768}},
      {L + "cross_attn.out_proj.weight", {768, 768}},
      {L + "cross_attn.out_proj.bias", {768}},
      {L + "linear1.weight", {2048, 768}},
      {L + "linear1.bias", {2048}},
      {L + "linear2.weight", {768, 2048}},
      {L + "linear2.bias", {768}},
      {L + "norm1.weight", {768}},
      {L + "norm1.bias", {768}},
      {L + "norm2.weight", {768}},
      {L + "norm2.bias", {768}},
      {L + "norm3.weight", {768}},
      {L + "norm3.bias", {768}},
      {"fc.group_conv.weight", {5, 768, 1, 1}},
      {"fc.group_conv.bias", {5}},
  };
  std::map<std::string, std::vector<int64_t>> got;
  for (const auto& item : params) {
    EXPECT_EQ(item.key().find("self_attn"), std::string::npos) << item.key();
    if (item.key().rfind("fc.", 0) == 0) got[item.key()] = shape(item.value());
  }
  EXPECT_EQ(got, want);
  for (const auto& item : model->named_buffers()) EXPECT_NE(item.key().rfind("fc.", 0), 0u) << item.key();

  EXPECT_FALSE(params["fc.query_pos_embed.weight"].requires_grad());
  EXPECT_TRUE(params["fc.input_proj.weight"].requires_grad());
  EXPECT_TRUE(params["fc.group_conv.weight"].requires_grad());
  ASSERT_TRUE(params.contains("last_conv.weight"));
  EXPECT_EQ(shape(params["last_conv.weight"]), (std::vector<int64_t>{1280, 512, 1, 1}));
  EXPECT_FALSE(params.contains("last_conv.bias"));
  EXPECT_FALSE(params.contains("fc.weight"));
  EXPECT_TRUE(params.contains("conv1.conv.weight"));
  EXPECT_TRUE(params.contains("blocks6.1.se.conv1.weight"));
}

TEST(MultiLabelModels, LCNetParameterCountIsWhatTheArchitectureImplies) {
  // Computed in Python from the architecture: the PP-LCNet_x1_0 backbone (conv1 .. blocks6 with their BN
  // weights/biases and SE convs) has 1,016,160 parameters, last_conv 512*1280 = 655,360, and the ML-Decoder with
  // Q = 33 classes: input_proj 768*1280+768, query embedding 33*768, cross-attention 4*(768*768+768), linear1
  // 768*2048+2048, linear2 2048*768+768, 3 LayerNorms 6*768, group_conv 33*768+33 = 6,550,049. Total 8,221,569,
  // i.e. 32.89 MB (31.36 MiB) as float32. PaddleX's model list publishes 29.4 MB for PP-LCNet_x1_0_ML, which is
  // 10.6% below 32.89 MB (6.3% below 31.36 MiB), so "within 1% of 29.4 MB / 4 bytes" does not hold: the published
  // figure is a file size of its own (the 80-class COCO head would be 8,293,808 parameters, even more), not
  // 4 bytes per parameter of this architecture.
  const Classifier ml = create_ml_classifier("PP-LCNet_x1_0_ML", 33);
  EXPECT_EQ(parameter_count(ml), 8221569);
  EXPECT_EQ(parameter_count(ml, "fc."), 6550049);
  // The same backbone and last_conv as the single-label PP-LCNet_x1_0 (whose fc is Linear(1280, 1000)).
  const Classifier cls = paddlex::cls::create_classifier("PP-LCNet_x1_0", 1000);
  EXPECT_EQ(parameter_count(cls, "fc."), 1281000);
  EXPECT_EQ(parameter_count(cls) - parameter_count(cls, "fc."), 1016160 + 655360);
  EXPECT_EQ(parameter_count(ml) - parameter_count(ml, "fc."), parameter_count(cls) - parameter_count(cls, "fc."));
}

TEST(MultiLabelModels, LCNetOutputShapesAndModes) {
  torch::manual_seed(1);
  const Classifier model = create_ml_classifier("PP-LCNet_x1_0_ML", 5);
  torch::NoGradGuard no_grad;
  model->eval();
  const torch::Tensor square = torch::randn({2, 3, 224, 224});
  const TensorMap out = model->forward(TensorMap{{"image", square}});
  ASSERT_EQ(out.count("logits"), 1u);
  EXPECT_EQ(shape(out.at("logits")), (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(shape(model->logits(torch::randn({2, 3, 96, 64}))), (std::vector<int64_t>{2, 5}));

  const torch::Tensor x = torch::randn({2, 3, 64, 64});
  const torch::Tensor a = model->logits(x), b = model->logits(x);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_TRUE(torch::isfinite(a).all().item<bool>());

  model->train();
  const torch::Tensor c = model->logits(x), d = model->logits(x);
  EXPECT_FALSE(torch::allclose(c, d, 1e-5, 1e-6));
}

TEST(MultiLabelModels, LCNetEvalScalesTheLastConvFeaturesByPointEight) {
  // Eval logits = fc(0.8 * hardswish(last_conv(blocks6(...)))), PaddlePaddle's downscale_in_infer dropout.
  torch::manual_seed(2);
  const Classifier model = create_ml_classifier("PP-LCNet_x1_0_ML", 4);
  torch::NoGradGuard no_grad;
  // Fresh BatchNorm statistics (mean 0, variance 1) let activations vanish through the untrained backbone in eval
  // mode, which would hide the scaling: a few training-mode passes give them real statistics first.
  model->train();
  for (int i = 0; i < 20; ++i) model->logits(torch::randn({4, 3, 64, 96}));
  model->eval();
  const auto children = model->named_children();
  auto conv1 = std::dynamic_pointer_cast<paddlex::nn::ConvBNActImpl>(children["conv1"]);
  auto last_conv = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(children["last_conv"]);
  auto fc = std::dynamic_pointer_cast<paddlex::nn::MLDecoderImpl>(children["fc"]);
  ASSERT_TRUE(conv1 && last_conv && fc);
  const torch::Tensor x = torch::randn({2, 3, 64, 96});
  torch::Tensor f = conv1->forward(x);
  for (int i = 2; i <= 6; ++i) {
    auto stage = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(children["blocks" + std::to_string(i)]);
    ASSERT_TRUE(stage) << i;
    f = stage->forward(f);
  }
  EXPECT_EQ(shape(f), (std::vector<int64_t>{2, 512, 2, 3}));
  const torch::Tensor features = torch::hardswish(last_conv->forward(f));
  const torch::Tensor want = fc->forward(features * 0.8);
  const torch::Tensor unscaled = fc->forward(features);
  const torch::Tensor got = model->logits(x);
  EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-6)) << got << "\n" << want;
  EXPECT_GT((got - unscaled).abs().max().item<float>(), 1e-4f);
}

TEST(MultiLabelModels, FrozenQueryEmbeddingGetsNoGradient) {
  torch::manual_seed(4);
  const Classifier model = create_ml_classifier("PP-LCNet_x1_0_ML", 3);
  model->train();
  model->logits(torch::randn({2, 3, 64, 64})).sum().backward();
  const auto params = model->named_parameters();
  EXPECT_FALSE(params["fc.query_pos_embed.weight"].grad().defined());
  EXPECT_TRUE(params["fc.input_proj.weight"].grad().defined());
  EXPECT_TRUE(params["fc.group_conv.weight"].grad().defined());
}

TEST(MultiLabelModels, ManyClassesOneQueryEach) {
  torch::manual_seed(6);
  const Classifier model = create_ml_classifier("PP-LCNet_x1_0_ML", 100);
  const auto params = model->named_parameters();
  EXPECT_EQ(shape(params["fc.query_pos_embed.weight"]), (std::vector<int64_t>{100, 768}));
  EXPECT_EQ(shape(params["fc.group_conv.weight"]), (std::vector<int64_t>{100, 768, 1, 1}));
  EXPECT_EQ(shape(params["fc.group_conv.bias"]), (std::vector<int64_t>{100}));
  torch::NoGradGuard no_grad;
  model->eval();
  const torch::Tensor logits = model->logits(torch::randn({1, 3, 64, 64}));
  EXPECT_EQ(shape(logits), (std::vector<int64_t>{1, 100}));
  EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
}

TEST(MultiLabelModels, ResNet50HeadOnLayer4) {
  torch::manual_seed(8);
  const Classifier model = create_ml_classifier("ResNet50_ML", 5);
  const auto params = model->named_parameters();
  ASSERT_TRUE(params.contains("fc.input_proj.weight"));
  EXPECT_EQ(shape(params["fc.input_proj.weight"]), (std::vector<int64_t>{768, 2048, 1, 1}));
  EXPECT_EQ(shape(params["fc.query_pos_embed.weight"]), (std::vector<int64_t>{5, 768}));
  EXPECT_FALSE(params["fc.query_pos_embed.weight"].requires_grad());
  EXPECT_EQ(shape(params["fc.group_conv.weight"]), (std::vector<int64_t>{5, 768, 1, 1}));
  EXPECT_FALSE(params.contains("fc.weight"));
  for (const auto& item : params) EXPECT_EQ(item.key().find("self_attn"), std::string::npos) << item.key();
  torch::NoGradGuard no_grad;
  model->eval();
  const torch::Tensor x = torch::randn({2, 3, 64, 64});
  const torch::Tensor a = model->logits(x);
  EXPECT_EQ(shape(a), (std::vector<int64_t>{2, 5}));
  EXPECT_TRUE(torch::equal(a, model->logits(x)));
  EXPECT_EQ(shape(model->logits(torch::randn({2, 3, 64, 96}))), (std::vector<int64_t>{2, 5}));
}

TEST(MultiLabelModels, BadNamesAndClassCounts) {
  EXPECT_THROW(create_ml_classifier("PP-LCNet_x1_0_ML", 0), paddlex::ConfigError);
  EXPECT_THROW(create_ml_classifier("ResNet50_ML", -1), paddlex::ConfigError);
  EXPECT_THROW(create_ml_classifier("PP-LCNet_x1_0", 5), paddlex::ConfigError);
  EXPECT_THROW(create_ml_classifier("ResNet50_MLX", 5), paddlex::ConfigError);
}

}  // namespace
