// The generic training/evaluation engine: loop, checkpoints, resume, pretrain, results.
#pragma once
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>

#include "paddlex/core/config.h"
#include "paddlex/trainers/checkpoint.h"
#include "paddlex/trainers/task.h"

namespace paddlex {

class Trainer {
 public:
  Trainer(const Config& cfg, Task& task);
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

  const Config& cfg_;
  Task& task_;
  std::string output_;
  torch::Device device_;
  bool channels_last_;
  nlohmann::json result_models_;  // train_result.json "models"
  std::vector<nlohmann::json> recent_checkpoints_;  // newest first
};

// The checkpoint named by Train.resume_path ("auto" reads <output>/last_checkpoint).
std::string resolve_resume_dir(const Config& cfg);

}  // namespace paddlex
