// The generic training/evaluation engine: loop, checkpoints, resume, pretrain, results.
#pragma once
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>

#include "paddlex/core/config.h"
#include "paddlex/trainers/checkpoint.h"
#include "paddlex/trainers/lr_schedule.h"
#include "paddlex/trainers/task.h"

namespace paddlex {

class DistContext;

class Trainer {
 public:
  // With `dist` (a distributed run) every rank trains its shard; rank 0 evaluates and writes all files.
  Trainer(const Config& cfg, Task& task, DistContext* dist = nullptr);
  // train mode: runs to Train.epochs_iters, writing checkpoints and train_result.json as it goes.
  void train();
  // evaluate mode: returns the body of evaluate_result.json ({"metrics": {...}}).
  nlohmann::json evaluate();

 private:
  // Metrics of `model` on `source`; evaluate mode logs progress every Evaluate.log_interval batches.
  std::map<std::string, double> run_evaluation(Network& model, const SampleSource& source, int64_t batch_size,
                                               bool log_progress);
  void save_checkpoint(const std::string& name, Network& model, torch::optim::Optimizer& optimizer,
                       const TrainState& state, const ModelDescription& description,
                       const std::map<std::string, double>& metrics);
  void write_train_result(bool done);
  // Train.num_classes, or the dataset's when null; never fewer than the dataset's labels.
  int64_t resolve_num_classes(const TaskData& data) const;
  // Train.pretrain_weight_path into `model` by name and shape, listing what was skipped.
  void load_pretrained(Network& model) const;
  // Everything a resumed run continues from: weights, optimizer, counters, best metric, RNG, result entries.
  void restore_checkpoint(const std::string& dir, const ModelDescription& description, Network& model,
                          torch::optim::Optimizer& optimizer, TrainState& state);
  LrScheduleSpec lr_schedule(int64_t steps_per_epoch) const;
  // End of an epoch: epoch_N (every save_interval), best_model (when improved), latest, train_result.json.
  void save_epoch(Network& model, torch::optim::Optimizer& optimizer, const TrainState& state,
                  const ModelDescription& description, const std::map<std::string, double>& metrics,
                  bool improved);

  // Rank 0's metrics on every rank (rank 0 evaluates, the others wait for the result).
  std::map<std::string, double> shared_evaluation(Network& model, const SampleSource& source, int64_t batch_size);

  const Config& cfg_;
  Task& task_;
  DistContext* dist_;
  bool is_main_;  // rank 0, or the only process: the one that writes
  std::string output_;
  torch::Device device_;
  bool channels_last_;
  nlohmann::json result_models_;  // train_result.json "models"
  std::vector<nlohmann::json> recent_checkpoints_;  // newest first
};

// The checkpoint named by Train.resume_path ("auto" reads <output>/last_checkpoint).
std::string resolve_resume_dir(const Config& cfg);

}  // namespace paddlex
