// Training checkpoints: the loop's counters (state.json) and the stateful components that save their own files
// beside model.pt and model.yml.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace paddlex {

class Config;

// A piece of training state that every checkpoint holds and a resumed run restores: the optimizer, the weight
// average, later a loss scaler. Each writes and reads its own files in the checkpoint directory; the trainer
// keeps the list and needs no change for a new one.
class StatefulComponent {
 public:
  virtual ~StatefulComponent() = default;
  virtual void save(const std::string& dir) const = 0;
  // Throws RunError naming the file when it is missing or does not fit.
  virtual void load(const std::string& dir) = 0;
};

// The loop's counters (state.json).
struct TrainState {
  int64_t completed_epochs = 0;    // passes over the training data
  int64_t epoch_batches_done = 0;  // batches of the next pass already trained (a checkpoint taken mid-epoch)
  int64_t global_step = 0;         // optimizer steps
  int64_t steps_per_epoch = 0;     // of the run that wrote it (0: not recorded)
  std::optional<double> best_metric;  // the primary metric of best_model, once there is one
  int64_t best_at = 0;             // the epoch or iteration (Train.schedule_unit) of best_model
  int world_size = 1;
  int num_threads = 1;
  std::string config_hash;
  std::string cpu_rng_state;  // hex of the CPU generator state (dropout)
  nlohmann::json to_json() const;
  static TrainState from_json(const nlohmann::json& j, const std::string& source);
};

std::string capture_cpu_rng_state();
void restore_cpu_rng_state(const std::string& hex);

// The checkpoint named by Train.resume_path ("auto" reads <output>/last_checkpoint).
std::string resolve_resume_dir(const Config& cfg);

}  // namespace paddlex
