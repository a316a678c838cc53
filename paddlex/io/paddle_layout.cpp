#include "paddlex/io/paddle_layout.h"

#include <filesystem>
#include <map>
#include <set>

#include "paddlex/core/errors.h"

namespace fs = std::filesystem;

namespace paddlex {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string renamed(const std::string& name, const NamePrefixMap& prefixes) {
  const std::pair<std::string, std::string>* best = nullptr;
  for (const auto& entry : prefixes)
    if (name.rfind(entry.first, 0) == 0 && (!best || entry.first.size() > best->first.size())) best = &entry;
  std::string out = best ? best->second + name.substr(best->first.size()) : name;
  for (const auto& [paddle, torch_name] : {std::pair<std::string, std::string>{"._mean", ".running_mean"},
                                          {"._variance", ".running_var"}})
    if (ends_with(out, paddle)) return out.substr(0, out.size() - paddle.size()) + torch_name;
  return out;
}

}  // namespace

TensorDict from_paddle_layout(const torch::nn::Module& module, const NamePrefixMap& prefixes, TensorDict paddle) {
  std::set<std::string> linear_weights;
  struct BatchNorm {
    std::string prefix;
    torch::Tensor counter, running_mean;
  };
  std::vector<BatchNorm> batch_norms;
  for (const auto& item : module.named_modules()) {
    const std::string prefix = item.key().empty() ? "" : item.key() + ".";
    if (item.value()->as<torch::nn::Linear>()) linear_weights.insert(prefix + "weight");
    torch::Tensor counter, running_mean;
    for (const auto& buffer : item.value()->named_buffers(/*recurse=*/false)) {
      if (buffer.key() == "num_batches_tracked") counter = buffer.value();
      if (buffer.key() == "running_mean") running_mean = buffer.value();
    }
    if (counter.defined() && running_mean.defined()) batch_norms.push_back({prefix, counter, running_mean});
  }
  std::map<std::string, std::vector<int64_t>> shapes;  // converted name -> shape
  for (auto& [name, tensor] : paddle) {
    const std::string paddle_name = name;
    name = renamed(name, prefixes);
    if (linear_weights.count(name) && tensor.dim() == 2) tensor = tensor.t().contiguous();
    if (!shapes.emplace(name, tensor.sizes().vec()).second)
      throw RunError("two PaddlePaddle tensors map to '" + name + "' (the second is '" + paddle_name + "')");
  }
  // Only for statistics that fit: a counter must not make another model's BatchNorm look loaded.
  for (const auto& bn : batch_norms) {
    auto mean = shapes.find(bn.prefix + "running_mean");
    if (mean != shapes.end() && mean->second == bn.running_mean.sizes().vec() &&
        !shapes.count(bn.prefix + "num_batches_tracked"))
      paddle.emplace_back(bn.prefix + "num_batches_tracked", bn.counter.detach().clone());
  }
  return paddle;
}

bool is_paddle_weight_file(const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  return ext == ".pdparams" || ext == ".pdema";
}

void refuse_paddle_non_weight_file(const std::string& path, const std::string& key) {
  const fs::path p(path);
  const std::string ext = p.extension().string();
  if (ext == ".pdopt")
    throw RunError(key + ": '" + path + "' is PaddlePaddle optimizer state (moments and learning-rate schedule), "
                   "not weights; point at '" + (p.parent_path() / p.stem()).string() + ".pdparams' instead");
  if (ext == ".pdstates")
    throw RunError(key + ": '" + path + "' is a PaddlePaddle training-progress file (epoch and metric), not "
                   "weights; point at '" + (p.parent_path() / p.stem()).string() + ".pdparams' instead");
}

}  // namespace paddlex
