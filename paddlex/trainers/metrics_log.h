// What a training run reports besides train.log: <output>/metrics.jsonl, one JSON object per logged step and per
// evaluation, and <output>/train_curves.png (loss terms, learning rate and the primary metric over steps),
// redrawn at each evaluation. Only rank 0 keeps one.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "paddlex/task/task.h"

namespace paddlex {

class MetricsLog {
 public:
  // Starts the file afresh, or, for a run resumed at optimizer step `resume_step`, keeps the records up to that
  // step (those of the interrupted run after it are dropped) and continues the curves from them.
  MetricsLog(const std::string& output_dir, std::optional<int64_t> resume_step);
  // {"type": "train", "step", "epoch", "iter", "lr", "loss", <term>..., "<unit>/s"}.
  void train_record(const nlohmann::json& record);
  // {"type": "eval", "step", "epoch", "primary", "metrics": {...}}; then redraws the curves.
  void eval_record(int64_t step, int64_t epoch, const Metrics& metrics);

 private:
  void append(const nlohmann::json& record);
  void absorb(const nlohmann::json& record);  // into the curves' series
  void draw_curves() const;

  std::string path_, curves_path_;
  std::map<std::string, std::vector<std::pair<double, double>>> losses_;  // term (and "loss") -> (step, value)
  std::vector<std::pair<double, double>> lr_;
  std::string primary_;
  std::vector<std::pair<double, double>> primary_values_;
};

}  // namespace paddlex
