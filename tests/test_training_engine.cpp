// The generic engine with a task defined here (a toy regression whose metric is lower-is-better): best_model
// follows the metric's direction, a non-finite loss term stops training cleanly, metrics.jsonl / curves, the
// iteration schedule, and the EMA's arithmetic.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "test_util.h"
#include "paddlex/core/config.h"
#include "paddlex/core/errors.h"
#include "paddlex/io/tensor_file.h"
#include "paddlex/trainers/distributed.h"
#include "paddlex/trainers/ema.h"
#include "paddlex/trainers/trainer.h"

namespace fs = std::filesystem;
using namespace paddlex::testing;
using paddlex::Batch;
using paddlex::TensorMap;

namespace {

// x_i in R^4 from the index; y = w.x on the train split and -w.x on val, so the better the model fits the
// training data the worse its validation error: the lowest val MSE comes early.
class ToySource : public paddlex::SampleSource {
 public:
  ToySource(size_t n, double sign) : n_(n), sign_(sign) {}
  size_t size() const override { return n_; }
  paddlex::Sample get(size_t index, uint64_t) const override {
    const double i = static_cast<double>(index);
    auto x = torch::tensor({std::sin(i), std::cos(1.3 * i), std::sin(0.7 * i + 1), 0.5}, torch::kFloat32);
    const float y = static_cast<float>(sign_ * (2.0 * x[0].item<float>() - x[1].item<float>() + 0.5 * x[2].item<float>() + 1.0));
    paddlex::Sample s;
    s.tensors["x"] = x;
    s.tensors["y"] = torch::tensor({y});
    return s;
  }

 private:
  size_t n_;
  double sign_;
};

struct ToyNet : paddlex::Network {
  ToyNet() {
    linear = register_module("linear", torch::nn::Linear(4, 1));
    bn = register_module("bn", torch::nn::BatchNorm1d(4));  // a float buffer and an integer one for the EMA
  }
  std::vector<std::string> input_names() const override { return {"x"}; }
  std::vector<std::string> output_names() const override { return {"y"}; }
  TensorMap forward(const TensorMap& in) override { return {{"y", linear(bn(in.at("x")))}}; }
  void fold_batchnorm() override {}
  torch::nn::Linear linear{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
};

// Mean squared error, lower is better; per-sample errors kept by index so merged shards sum in one order.
class MseEvaluator : public paddlex::Evaluator {
 public:
  void reset() override { rows_.clear(); }
  void process(const Batch& batch, const TensorMap& out) override {
    auto err = (out.at("y") - batch.at("y")).pow(2).flatten().to(torch::kDouble);
    for (size_t i = 0; i < batch.indices.size(); ++i) rows_[batch.indices[i]] = err[static_cast<int64_t>(i)].item<double>();
  }
  TensorMap state() const override {
    std::vector<int64_t> index;
    std::vector<double> error;
    for (const auto& [i, e] : rows_) index.push_back(i), error.push_back(e);
    return {{"index", torch::tensor(index, torch::kInt64)}, {"error", torch::tensor(error, torch::kDouble)}};
  }
  void merge(const TensorMap& other) override {
    for (int64_t k = 0; k < other.at("index").numel(); ++k)
      rows_[other.at("index")[k].item<int64_t>()] = other.at("error")[k].item<double>();
  }
  paddlex::Metrics evaluate() const override {
    double sum = 0;
    for (const auto& [i, e] : rows_) sum += e;
    return {{{"mse", sum / static_cast<double>(std::max<size_t>(1, rows_.size()))}}, "mse", false};
  }

 private:
  std::map<int64_t, double> rows_;
};

class ToyTask : public paddlex::Task {
 public:
  // The loss term "penalty" turns NaN at call number `nan_at` (0: never).
  explicit ToyTask(int nan_at = 0) : nan_at_(nan_at) {}
  std::string name() const override { return "toy_regression"; }
  std::vector<std::string> model_names() const override { return {"ToyNet"}; }
  std::vector<const paddlex::KeyGroup*> config_keys() const override { return {}; }
  void check_config(const paddlex::Config&) const override {}
  std::string sample_unit() const override { return "sample"; }
  std::string describe(const paddlex::ModelInfo&) const override { return "1 output"; }
  nlohmann::json check_dataset(const paddlex::Config&) const override { return {}; }
  paddlex::TaskData load_data(const paddlex::Config& cfg, const paddlex::ModelInfo*) const override {
    paddlex::TaskData d;
    d.train = std::make_shared<ToySource>(12, 1.0);
    d.val = std::make_shared<ToySource>(6, -1.0);
    YAML::Node attributes;
    attributes["outputs"] = 1;
    d.model.model_name = cfg.get_string("Global.model");
    d.model.task = name();
    d.model.attributes = attributes;
    d.model.transforms = YAML::Node(YAML::NodeType::Sequence);
    return d;
  }
  paddlex::ModelInfo model_for_paddle_weights(const paddlex::Config&, const std::string&) const override {
    throw paddlex::RunError("the toy task has no PaddlePaddle models");
  }
  std::shared_ptr<paddlex::Network> build_model(const paddlex::ModelInfo&) const override {
    return std::make_shared<ToyNet>();
  }
  paddlex::Criterion make_criterion(const paddlex::Config&, const paddlex::ModelInfo&) const override {
    auto calls = calls_;
    const int nan_at = nan_at_;
    return [calls, nan_at](const TensorMap& out, const Batch& batch) -> paddlex::LossTerms {
      const int call = ++*calls;
      auto mse = torch::mse_loss(out.at("y"), batch.at("y"));
      auto penalty = out.at("y").abs().mean() * 0.01;
      if (call == nan_at) penalty = penalty * std::nan("");
      return {{"mse", mse}, {"penalty", penalty}};
    };
  }
  std::unique_ptr<paddlex::Evaluator> make_evaluator(const paddlex::Config&, const paddlex::ModelInfo&) const override {
    return std::make_unique<MseEvaluator>();
  }
  YAML::Node inference_config(const paddlex::ModelInfo&) const override { return {}; }
  std::unique_ptr<paddlex::Predictor> make_predictor(const paddlex::Config&, const paddlex::ModelInfo&,
                                                     const YAML::Node&) const override {
    throw paddlex::RunError("the toy task has no predictor");
  }

 private:
  int nan_at_;
  std::shared_ptr<std::atomic<int>> calls_ = std::make_shared<std::atomic<int>>(0);
};

paddlex::Config toy_config(const std::string& output, std::vector<std::string> overrides) {
  const paddlex::SchemaLookup core_only = [](const std::string&, const std::string&) {
    paddlex::Schema s;
    s.task = "toy_regression";
    s.groups = {&paddlex::core_config_keys()};
    return s;
  };
  overrides.insert(overrides.begin(),
                   {"Global.model=ToyNet", "Global.output=" + output, "Global.num_threads=1", "Train.batch_size=4",
                    "Train.learning_rate=0.05", "Train.warmup_steps=0", "Train.num_workers=0",
                    "Train.log_interval=1", "Train.lr_scheduler.type=Constant"});
  return paddlex::Config::from_text("", overrides, core_only);
}

std::vector<nlohmann::json> records(const std::string& output, const std::string& type) {
  std::vector<nlohmann::json> out;
  std::ifstream in(output + "/metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto r = nlohmann::json::parse(line);
    if (r["type"] == type) out.push_back(r);
  }
  return out;
}

TEST(TrainingEngine, LowerIsBetterMetricSelectsTheLowestForBestModel) {
  TempDir dir("toy_best");
  const std::string out = dir.file("out");
  ToyTask task;
  const auto cfg = toy_config(out, {"Train.epochs_iters=6", "Train.save_interval=1"});
  paddlex::Trainer(cfg, task).train();
  const auto evals = records(out, "eval");
  ASSERT_EQ(evals.size(), 6u);
  size_t lowest = 0, highest = 0;
  for (size_t i = 0; i < evals.size(); ++i) {
    EXPECT_EQ(evals[i]["primary"], "mse");
    const double v = evals[i]["metrics"]["mse"].get<double>();
    if (v < evals[lowest]["metrics"]["mse"].get<double>()) lowest = i;
    if (v > evals[highest]["metrics"]["mse"].get<double>()) highest = i;
  }
  ASSERT_NE(lowest, highest) << "the validation error must move for this test to mean anything";
  const auto state = read_json(out + "/best_model/state.json");
  EXPECT_EQ(state["best_at"], evals[lowest]["epoch"]);
  EXPECT_EQ(state["best_metric"].get<double>(), evals[lowest]["metrics"]["mse"].get<double>());
  EXPECT_EQ(read_json(out + "/train_result.json")["models"]["best"]["score"].get<double>(),
            evals[lowest]["metrics"]["mse"].get<double>());
  // best_model holds the weights of that epoch's checkpoint.
  const std::string epoch_dir = out + "/epoch_" + std::to_string(evals[lowest]["epoch"].get<int>());
  const auto best = paddlex::load_tensor_dict(out + "/best_model/model.pt"), same = paddlex::load_tensor_dict(epoch_dir + "/model.pt");
  ASSERT_EQ(best.size(), same.size());
  for (size_t i = 0; i < best.size(); ++i) EXPECT_TRUE(torch::equal(best[i].second, same[i].second)) << best[i].first;
}

TEST(TrainingEngine, MetricsLogHasEveryTermAndTheCurvesAreDrawn) {
  TempDir dir("toy_log");
  const std::string out = dir.file("out");
  ToyTask task;
  paddlex::Trainer(toy_config(out, {"Train.epochs_iters=2"}), task).train();
  const auto train = records(out, "train");
  ASSERT_EQ(train.size(), 6u);  // 3 steps per epoch, logged every step
  for (const auto& r : train) {
    for (const char* key : {"step", "epoch", "iter", "lr", "loss", "mse", "penalty", "samples/s"})
      EXPECT_TRUE(r.contains(key)) << key << " in " << r.dump();
    EXPECT_NEAR(r["loss"].get<double>(), r["mse"].get<double>() + r["penalty"].get<double>(), 1e-9);
  }
  EXPECT_EQ(train.back()["step"], 6);
  EXPECT_EQ(records(out, "eval").size(), 2u);
  EXPECT_GT(fs::file_size(out + "/train_curves.png"), 1000u);
  const std::string log = read_text(out + "/train.log");
  EXPECT_TRUE(Contains(log, "(mse ")) << log;
  EXPECT_TRUE(Contains(log, ", penalty ")) << log;
  EXPECT_TRUE(Contains(log, "samples/s")) << log;

  // A run resumed from epoch 1 keeps the log up to that checkpoint and continues it: no step twice.
  paddlex::Trainer(toy_config(out, {"Train.epochs_iters=2", "Train.resume_path=" + out + "/epoch_1"}), task).train();
  std::vector<int64_t> steps;
  for (const auto& r : records(out, "train")) steps.push_back(r["step"].get<int64_t>());
  EXPECT_EQ(steps, (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(records(out, "eval").size(), 2u);
}

TEST(TrainingEngine, NonFiniteTermStopsNamingTermPositionAndLastCheckpoint) {
  TempDir dir("toy_nan");
  const std::string out = dir.file("out");
  ToyTask task(/*nan_at=*/5);  // epoch 2, iteration 2
  try {
    paddlex::Trainer(toy_config(out, {"Train.epochs_iters=3"}), task).train();
    FAIL() << "training went on past a NaN loss";
  } catch (const paddlex::RunError& e) {
    const std::string what = e.what();
    EXPECT_TRUE(Contains(what, "training diverged at epoch 2, iteration 2 (step 5): loss term 'penalty' is nan"));
    EXPECT_TRUE(Contains(what, "nothing after the last good checkpoint '" + out + "/latest' was written"));
  }
  EXPECT_EQ(read_json(out + "/latest/state.json")["global_step"], 3);
  EXPECT_FALSE(fs::exists(out + "/epoch_2"));
  for (const auto& r : records(out, "train")) EXPECT_LE(r["step"].get<int64_t>(), 4);
}

TEST(TrainingEngine, IterationScheduleEvaluatesAndSavesByIteration) {
  TempDir dir("toy_iters");
  const std::string out = dir.file("out");
  ToyTask task;
  // 3 steps per epoch; 7 iterations end one step into the third pass over the data.
  paddlex::Trainer(toy_config(out, {"Train.schedule_unit=iters", "Train.epochs_iters=7", "Train.eval_interval=3",
                                    "Train.save_interval=2", "Train.log_interval=2"}),
                   task)
      .train();
  for (const char* d : {"iter_2", "iter_4", "iter_6", "latest", "best_model"}) EXPECT_TRUE(fs::exists(out + "/" + d)) << d;
  EXPECT_FALSE(fs::exists(out + "/epoch_1"));
  const auto state = read_json(out + "/latest/state.json");
  EXPECT_EQ(state["global_step"], 7);
  EXPECT_EQ(state["completed_epochs"], 2);
  EXPECT_EQ(state["epoch_batches_done"], 1);
  std::vector<int64_t> eval_steps;
  for (const auto& r : records(out, "eval")) eval_steps.push_back(r["step"].get<int64_t>());
  EXPECT_EQ(eval_steps, (std::vector<int64_t>{3, 6, 7}));  // every 3 iterations and at the end
  std::vector<int64_t> log_steps;
  for (const auto& r : records(out, "train")) log_steps.push_back(r["step"].get<int64_t>());
  EXPECT_EQ(log_steps, (std::vector<int64_t>{2, 3, 4, 6}));  // every 2 iterations and at each epoch's end
  EXPECT_EQ(read_json(out + "/train_result.json")["models"]["last_1"]["weights"], "iter_6/model.pt");
}

// Two ranks (threads of this process, Gloo) train the toy task; their BatchNorm statistics drift apart on their
// own shards. The evaluation they share must be that of rank 0's model, the one saved: exactly the mean squared
// error a single process measures for the checkpoint (a continuous metric, unlike accuracy).
TEST(TrainingEngine, DataParallelEvaluationIsThatOfTheSavedModel) {
  TempDir dir("toy_dist");
  const std::string out = dir.file("out");
  ToyTask task;
  paddlex::DistEnv env;
  env.world_size = 2;
  env.master_port = paddlex::find_free_port();
  // A config per rank, as in separate processes: yaml-cpp nodes are not safe to read from two threads at once.
  const std::vector<paddlex::Config> configs = {toy_config(out, {"Train.epochs_iters=3", "Train.learning_rate=0.1"}),
                                                toy_config(out, {"Train.epochs_iters=3", "Train.learning_rate=0.1"})};
  auto rank_main = [&](int rank) {
    paddlex::DistEnv mine = env;
    mine.rank = rank;
    paddlex::DistContext dist(mine, std::chrono::seconds(30));
    paddlex::Trainer(configs[static_cast<size_t>(rank)], task, &dist).train();
  };
  std::thread r0(rank_main, 0), r1(rank_main, 1);
  r0.join();
  r1.join();
  const auto evals = records(out, "eval");
  ASSERT_EQ(evals.size(), 3u);
  const auto single = paddlex::Trainer(toy_config(out, {"Evaluate.weight_path=" + out + "/latest"}), task).evaluate();
  EXPECT_EQ(evals.back()["metrics"]["mse"].get<double>(), single["metrics"]["mse"].get<double>());
}

// Resuming with another batch size keeps the meaning of epochs: the run ends after its last epoch, complete, and
// the step count is recounted in the new epoch length. A mid-epoch position past the new length moves on to the
// next epoch.
TEST(TrainingEngine, ResumeWithAnotherEpochLengthFinishesTheEpochs) {
  TempDir dir("toy_len");
  const std::string out = dir.file("out");
  ToyTask task;
  paddlex::Trainer(toy_config(out, {"Train.epochs_iters=3"}), task).train();  // 3 steps per epoch
  const std::string other = dir.file("other");
  paddlex::Trainer(toy_config(other, {"Train.epochs_iters=3", "Train.batch_size=2",  // 6 steps per epoch
                                      "Train.resume_path=" + out + "/epoch_1"}),
                   task)
      .train();
  auto state = read_json(other + "/latest/state.json");
  EXPECT_EQ(state["completed_epochs"], 3);
  EXPECT_EQ(state["global_step"], 18);
  EXPECT_TRUE(read_json(other + "/train_result.json")["done_flag"].get<bool>());

  // An iteration checkpoint 5 steps into the first epoch of 6 (batch 2), resumed with epochs of 3 steps.
  const std::string iters = dir.file("iters");
  paddlex::Trainer(toy_config(iters, {"Train.schedule_unit=iters", "Train.epochs_iters=5", "Train.batch_size=2"}),
                   task)
      .train();
  EXPECT_EQ(read_json(iters + "/latest/state.json")["epoch_batches_done"], 5);
  const std::string moved = dir.file("moved");
  paddlex::Trainer(toy_config(moved, {"Train.epochs_iters=2", "Train.resume_path=" + iters + "/latest"}), task).train();
  state = read_json(moved + "/latest/state.json");
  EXPECT_EQ(state["completed_epochs"], 2);
  EXPECT_EQ(state["global_step"], 6);
}

// ---------------------------------------------------------------- EMA

TEST(Ema, DecayWarmUps) {
  using paddlex::EmaDecayType;
  using paddlex::ema_decay_at;
  EXPECT_DOUBLE_EQ(ema_decay_at(0.9998, EmaDecayType::kThreshold, 0), 0.1);
  EXPECT_DOUBLE_EQ(ema_decay_at(0.9998, EmaDecayType::kThreshold, 10), 11.0 / 20.0);
  EXPECT_DOUBLE_EQ(ema_decay_at(0.9, EmaDecayType::kThreshold, 1000), 0.9);
  EXPECT_DOUBLE_EQ(ema_decay_at(0.9999, EmaDecayType::kExponential, 1999), 0.9999 * (1 - std::exp(-1.0)));
  EXPECT_DOUBLE_EQ(ema_decay_at(0.5, EmaDecayType::kNormal, 7), 0.5);
  EXPECT_THROW(paddlex::parse_ema_decay_type("linear"), paddlex::RunError);
}

// Weights 1, 2, 3 after three steps, threshold decay capped at 0.9: the decays are 0.1, 2/11, 0.25, so the sums
// are 0.9, 1.8, 2.7 and the applied average 2.7 / (1 - 0.25^3) (PaddleDetection's correction by the last decay).
TEST(Ema, ThresholdAverageIsBiasCorrectedAndIntegerBuffersCopied) {
  torch::NoGradGuard no_grad;
  ToyNet model;
  auto averaged = std::make_shared<ToyNet>();
  paddlex::ModelEma ema(0.9, paddlex::EmaDecayType::kThreshold, model, averaged);
  for (int w = 1; w <= 3; ++w) {
    model.linear->weight.fill_(static_cast<float>(w));
    model.bn->num_batches_tracked.fill_(10 * w);
    ema.update();
  }
  auto& avg = static_cast<ToyNet&>(ema.averaged());
  EXPECT_NEAR(avg.linear->weight[0][0].item<float>(), 2.7 / (1 - 0.25 * 0.25 * 0.25), 1e-6);
  EXPECT_EQ(avg.bn->num_batches_tracked.item<int64_t>(), 30);
  EXPECT_EQ(ema.updates(), 3);

  // Saved and loaded into a fresh EMA, the running sums and count continue exactly.
  TempDir dir("ema");
  ema.save(dir.path());
  EXPECT_TRUE(fs::exists(dir.file("ema.pt")));
  ToyNet model2;
  model2.linear->weight.fill_(3.0f);
  paddlex::ModelEma restored(0.9, paddlex::EmaDecayType::kThreshold, model2, std::make_shared<ToyNet>());
  restored.load(dir.path());
  EXPECT_EQ(restored.updates(), 3);
  model.linear->weight.fill_(4.0f), model2.linear->weight.fill_(4.0f);
  ema.update(), restored.update();
  EXPECT_TRUE(torch::equal(static_cast<ToyNet&>(ema.averaged()).linear->weight,
                           static_cast<ToyNet&>(restored.averaged()).linear->weight));
  // Before any update the average is the model itself.
  ToyNet fresh;
  fresh.linear->weight.fill_(5.0f);
  paddlex::ModelEma untouched(0.9, paddlex::EmaDecayType::kNormal, fresh, std::make_shared<ToyNet>());
  EXPECT_EQ(static_cast<ToyNet&>(untouched.averaged()).linear->weight[0][0].item<float>(), 5.0f);
  EXPECT_THROW(untouched.load(dir.file("missing")), paddlex::RunError);
}

TEST(Ema, ExponentialHasNoCorrection) {
  torch::NoGradGuard no_grad;
  ToyNet model;
  model.linear->weight.fill_(2.0f);
  paddlex::ModelEma ema(0.9999, paddlex::EmaDecayType::kExponential, model, std::make_shared<ToyNet>());
  ema.update();
  const double d = 0.9999 * (1 - std::exp(-1.0 / 2000));
  EXPECT_NEAR(static_cast<ToyNet&>(ema.averaged()).linear->weight[0][0].item<float>(), 2.0 * (1 - d), 1e-6);
}

TEST(TrainingEngine, EmaRunEvaluatesAndExportsTheAverage) {
  TempDir dir("toy_ema");
  const std::string out = dir.file("out");
  ToyTask task;
  paddlex::Trainer(toy_config(out, {"Train.epochs_iters=2", "Train.ema=True", "Train.ema_decay=0.9"}), task).train();
  for (const char* f : {"model.pt", "ema.pt", "ema_state.pt", "optimizer.pt"})
    EXPECT_TRUE(fs::exists(out + "/latest/" + std::string(f))) << f;
  EXPECT_TRUE(Contains(read_text(out + "/latest/model.yml"), "eval_weights: ema.pt"));
  EXPECT_TRUE(read_json(out + "/train_result.json")["models"]["best"].contains("ema"));
  // The averaged weights differ from the trained ones (6 updates with a 0.9 cap).
  const auto raw = paddlex::load_tensor_dict(out + "/latest/model.pt"), avg = paddlex::load_tensor_dict(out + "/latest/ema.pt");
  EXPECT_FALSE(torch::equal(raw[0].second, avg[0].second));
}

}  // namespace
