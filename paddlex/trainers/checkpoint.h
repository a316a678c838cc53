// Checkpoint files: model.pt (a Python-loadable dict name -> tensor), optimizer.pt, state.json, model.yml.
#pragma once
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "paddlex/trainers/task.h"

namespace paddlex {

using TensorDict = std::vector<std::pair<std::string, torch::Tensor>>;  // ordered name -> tensor

// Key that marks BN-folded deployment weights, which must not be used to train from.
inline const char* kFoldedMarker = "_paddlex.bn_folded";

// Parameters and buffers of `module` in state_dict order.
TensorDict state_dict(const torch::nn::Module& module);
// Writes `tensors` atomically in torch.save-compatible form (Python: torch.load(path) -> dict).
void save_tensor_dict(const TensorDict& tensors, const std::string& path);
// Reads our model.pt or a PyTorch state_dict file (also {"state_dict": ...}/{"model": ...} wrappers and
// DDP's "module." prefixes). Throws RunError naming the path.
TensorDict load_tensor_dict(const std::string& path);

struct LoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> skipped;  // "name: reason"
  std::vector<std::string> missing;  // model tensors the file did not have
};
// Copies tensors whose name and shape match into `module`.
LoadReport load_matching(torch::nn::Module& module, const TensorDict& tensors);
// Copies every tensor; throws RunError naming the first mismatch (resume, evaluate, export).
void load_exact(torch::nn::Module& module, const TensorDict& tensors, const std::string& source);

std::vector<char> serialize_optimizer(torch::optim::Optimizer& optimizer);
void load_optimizer(torch::optim::Optimizer& optimizer, const std::string& path);

// What a checkpoint directory holds besides tensors (state.json).
struct TrainState {
  int64_t completed_epochs = 0;
  int64_t epoch_batches_done = 0;  // batches of the next epoch already trained (a checkpoint taken mid-epoch)
  int64_t global_step = 0;
  double best_metric = -1.0;
  int64_t best_epoch = 0;
  int world_size = 1;
  int num_threads = 1;
  std::string config_hash;
  std::string cpu_rng_state;  // hex of the CPU generator state
  nlohmann::json to_json() const;
  static TrainState from_json(const nlohmann::json& j, const std::string& source);
};

std::string capture_cpu_rng_state();
void restore_cpu_rng_state(const std::string& hex);

// model.yml (PaddleX 2.x layout): status Normal for checkpoints, Infer for exports.
YAML::Node model_yml(const ModelDescription& model, const std::string& task_name, const std::string& status,
                     int64_t completed_epochs, const std::map<std::string, double>& metrics);
ModelDescription read_model_yml(const std::string& path);

// The network of checkpoint directory `dir` as its model.yml (`description`) says, with the weights of its model.pt.
std::shared_ptr<Network> load_checkpoint_network(Task& task, const std::string& dir,
                                                 const ModelDescription& description);

// Accepts a checkpoint directory or the model.pt inside one; returns the directory. Throws RunError.
std::string resolve_checkpoint_dir(const std::string& path, const std::string& key);

}  // namespace paddlex
