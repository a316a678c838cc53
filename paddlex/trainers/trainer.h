// The generic training/evaluation engine: loop, schedule, checkpoints, resume, pretrain, results. It knows a task
// only through task/task.h.
#pragma once
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "paddlex/core/config.h"
#include "paddlex/task/task.h"
#include "paddlex/trainers/checkpoint.h"
#include "paddlex/trainers/lr_schedule.h"
#include "paddlex/trainers/optimizer.h"

namespace paddlex {

class DataLoader;
class DistContext;
class MetricsLog;
class ModelEma;
class OptimizerState;
class TrainStep;

class Trainer {
 public:
  // With `dist` (a distributed run) every rank trains and evaluates its shard; rank 0 writes all files.
  Trainer(const Config& cfg, const Task& task, DistContext* dist = nullptr);
  ~Trainer();
  // train mode: runs Train.epochs_iters epochs or iterations, writing checkpoints, train_result.json,
  // metrics.jsonl and train_curves.png as it goes.
  void train();
  // evaluate mode: returns the body of evaluate_result.json ({"metrics": {...}, ...}).
  nlohmann::json evaluate();

 private:
  void setup_run();
  // Train.pretrain_weight_path into the model by name and shape, listing what was skipped.
  void load_pretrained();
  // Everything a resumed run continues from: weights, components, counters, best metric, RNG, result entries.
  void restore_checkpoint(const std::string& dir);
  // One optimizer step on `batch`, with the per-interval log line and metrics record. True when training must
  // stop after this step (a signal; on any rank of a distributed run).
  bool train_one_batch(const Batch& batch);
  // The end of epoch or iteration `unit`: evaluation, checkpoints and results as the intervals say.
  void finish_unit(int64_t unit);
  void save_checkpoint(const std::string& name, const Metrics* metrics);
  void write_train_result(bool done);
  // The network evaluation and checkpoints use: the weight average when Train.ema is on.
  Network& eval_network();
  std::string unit_name() const;  // "epoch" or "iteration"
  std::string position() const;   // "epoch 3, iteration 7" of the step being trained

  const Config& cfg_;
  const Task& task_;
  DistContext* dist_;
  bool is_main_;  // rank 0, or the only process: the one that writes
  std::string output_;
  torch::Device device_;
  bool channels_last_;

  // The training run (set up by train()).
  TaskData data_;
  ModelInfo model_info_;
  std::shared_ptr<Network> model_;
  TrainOptimizer optimizer_;
  std::unique_ptr<OptimizerState> optimizer_state_;
  std::unique_ptr<ModelEma> ema_;
  std::vector<StatefulComponent*> components_;  // saved in every checkpoint, restored on resume
  std::unique_ptr<Evaluator> evaluator_;
  std::unique_ptr<TrainStep> step_;
  std::unique_ptr<DataLoader> loader_;
  std::unique_ptr<MetricsLog> metrics_log_;
  ScheduleUnit unit_ = ScheduleUnit::kEpochs;
  int64_t steps_per_epoch_ = 0, total_steps_ = 0;
  LrScheduleSpec lr_spec_;
  TrainState state_;
  std::string last_checkpoint_;  // the newest complete checkpoint, for messages
  nlohmann::json result_models_ = nlohmann::json::object();  // train_result.json "models"
  std::vector<nlohmann::json> recent_checkpoints_;          // newest first

  // The current log window.
  struct Window {
    int64_t steps = 0, samples = 0;
    double total = 0;
    std::vector<std::pair<std::string, double>> terms;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  } window_;
  std::chrono::steady_clock::time_point run_start_;
  int64_t first_step_ = 0;
};

}  // namespace paddlex
