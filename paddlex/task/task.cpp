#include "paddlex/task/task.h"

#include <filesystem>

#include "paddlex/core/config.h"
#include "paddlex/core/errors.h"
#include "paddlex/io/paddle_layout.h"
#include "paddlex/io/pickle_reader.h"
#include "paddlex/io/tensor_file.h"

namespace fs = std::filesystem;

namespace paddlex {

double Metrics::primary_value() const {
  auto it = values.find(primary);
  if (it == values.end()) throw RunError("internal: the evaluator reports no primary metric '" + primary + "'");
  return it->second;
}

std::string dataset_root(const Config& cfg) {
  if (cfg.is_null("Global.dataset_dir"))
    throw ConfigError(cfg.origin("Global.dataset_dir") + ": Global.dataset_dir is required");
  const std::string root = cfg.get_string("Global.dataset_dir");
  if (!fs::is_directory(root)) throw RunError("Global.dataset_dir: '" + root + "' is not a directory");
  return root;
}

ModelInfo configured_model(const Config& cfg, const std::string& task, YAML::Node attributes, YAML::Node transforms) {
  ModelInfo m;
  m.model_name = cfg.get_string("Global.model");
  m.task = task;
  m.attributes = std::move(attributes);
  m.transforms = std::move(transforms);
  return m;
}

std::string paddle_weights_attribute_file(const Config& cfg, const std::string& weights, const std::string& what,
                                          const std::string& dataset_file) {
  constexpr const char* kPaddleXCopy = "label_dict.txt";
  fs::path dir = fs::absolute(weights).parent_path();
  for (int up = 0; up < 2; ++up, dir = dir.parent_path())
    if (fs::is_regular_file(dir / kPaddleXCopy)) return (dir / kPaddleXCopy).string();
  const bool have_dataset = !cfg.is_null("Global.dataset_dir");
  if (have_dataset && fs::is_regular_file(fs::path(dataset_root(cfg)) / dataset_file))
    return (fs::path(dataset_root(cfg)) / dataset_file).string();
  throw RunError("'" + weights + "' holds PaddlePaddle weights without " + what +
                 " this engine keeps in model.yml, and none was found: no label_dict.txt next to them or in the "
                 "PaddleX output directory above, and " +
                 (have_dataset ? "no " + dataset_file + " in Global.dataset_dir ('" +
                                     cfg.get_string("Global.dataset_dir") + "')"
                               : std::string("Global.dataset_dir is not set")) +
                 ". Copy the label_dict.txt of the PaddleX run next to the weights, or set Global.dataset_dir");
}

TensorDict read_weights_for(const Network& network, const std::string& path) {
  if (!is_paddle_weight_file(path)) return load_tensor_dict(path);
  return from_paddle_layout(network, network.paddle_name_prefixes(), read_paddle_state_dict(path));
}

std::shared_ptr<Network> load_model_network(const Task& task, const ModelInfo& model, const std::string& weights) {
  auto network = task.build_model(model);
  load_network_weights(*network, read_weights_for(*network, weights), weights);
  return network;
}

void load_network_weights(Network& network, const TensorDict& tensors, const std::string& source) {
  load_exact(network, tensors, source, [&](const LoadReport& r) { return network.explain_missing(r.missing); });
}

CheckpointRef open_trained_model(const Task& task, const Config& cfg, const std::string& path, const std::string& key) {
  const std::string paddle = paddle_weights_at(path, key);
  if (paddle.empty()) return open_checkpoint(path, key);
  if (!fs::is_regular_file(paddle)) throw RunError(key + ": weights file not found: '" + paddle + "'");
  CheckpointRef ref;
  ref.paddle = true;
  ref.dir = fs::absolute(paddle).parent_path().string();
  ref.weights = paddle;
  ref.info = task.model_for_paddle_weights(cfg, paddle);
  ref.info.eval_weights = fs::path(paddle).filename().string();
  ref.info.source = paddle;
  return ref;
}

TensorMap network_inputs(const Network& network, const Batch& batch, const torch::Device& device, bool channels_last) {
  TensorMap inputs;
  for (const auto& name : network.input_names()) {
    auto x = batch.at(name).to(device);
    inputs[name] = channels_last && x.dim() == 4 ? x.contiguous(at::MemoryFormat::ChannelsLast) : x;
  }
  return inputs;
}

}  // namespace paddlex
