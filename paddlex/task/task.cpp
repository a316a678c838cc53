#include "paddlex/task/task.h"

#include <filesystem>

#include "paddlex/core/errors.h"
#include "paddlex/io/tensor_file.h"

namespace fs = std::filesystem;

namespace paddlex {

double Metrics::primary_value() const {
  auto it = values.find(primary);
  if (it == values.end()) throw RunError("internal: the evaluator reports no primary metric '" + primary + "'");
  return it->second;
}

std::shared_ptr<Network> load_checkpoint_network(const Task& task, const std::string& dir, const ModelInfo& model) {
  auto network = task.build_model(model);
  const std::string weights = (fs::path(dir) / model.eval_weights).string();
  load_exact(*network, load_tensor_dict(weights), weights);
  return network;
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
