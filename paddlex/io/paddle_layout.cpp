#include "paddlex/io/paddle_layout.h"

#include <filesystem>
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
  std::vector<std::pair<std::string, torch::Tensor>> batch_norm_counters;  // "<bn>.num_batches_tracked" -> value
  for (const auto& item : module.named_modules()) {
    const std::string prefix = item.key().empty() ? "" : item.key() + ".";
    if (item.value()->as<torch::nn::Linear>()) linear_weights.insert(prefix + "weight");
    for (const auto& buffer : item.value()->named_buffers(/*recurse=*/false))
      if (buffer.key() == "num_batches_tracked") batch_norm_counters.emplace_back(prefix, buffer.value());
  }
  std::set<std::string> names;
  for (auto& [name, tensor] : paddle) {
    name = renamed(name, prefixes);
    if (linear_weights.count(name) && tensor.dim() == 2) tensor = tensor.t().contiguous();
    names.insert(name);
  }
  for (const auto& [prefix, counter] : batch_norm_counters)
    if (names.count(prefix + "running_mean") && !names.count(prefix + "num_batches_tracked"))
      paddle.emplace_back(prefix + "num_batches_tracked", counter.detach().clone());
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
