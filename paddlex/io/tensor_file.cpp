#include "paddlex/io/tensor_file.h"

#include <map>
#include <sstream>

#include "paddlex/core/errors.h"
#include "paddlex/core/files.h"
#include "paddlex/io/pickle_reader.h"

namespace paddlex {

TensorDict state_dict(const torch::nn::Module& module) {
  TensorDict out;
  for (const auto& p : module.named_parameters()) out.emplace_back(p.key(), p.value());
  for (const auto& b : module.named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

void save_tensor_dict(const TensorDict& tensors, const std::string& path) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, t] : tensors) dict.insert(name, t.detach().cpu().contiguous());
  write_bytes_atomic(path, torch::pickle_save(dict));
}

TensorDict load_tensor_dict(const std::string& path) {
  // Our model.pt (torch::pickle_save) and Python torch.save files alike; the reader unwraps
  // {"state_dict": ...}/{"model": ...} and names the path in its errors.
  TensorDict out = read_pytorch_state_dict(path);
  for (auto& [name, t] : out)
    if (name.rfind("module.", 0) == 0) name = name.substr(7);  // saved from DistributedDataParallel
  return out;
}

LoadReport load_matching(torch::nn::Module& module, const TensorDict& tensors) {
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> by_name(tensors.begin(), tensors.end());
  LoadReport report;
  for (auto& [name, target] : state_dict(module)) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      report.missing.push_back(name);
      continue;
    }
    if (it->second.sizes() != target.sizes()) {
      std::ostringstream os;
      os << name << ": shape " << it->second.sizes() << " in file, " << target.sizes() << " in model";
      report.skipped.push_back(os.str());
    } else {
      target.copy_(it->second.to(target.dtype()));
      report.loaded.push_back(name);
    }
    by_name.erase(it);
  }
  for (const auto& [name, t] : by_name) report.skipped.push_back(name + ": not in the model");
  return report;
}

std::string mismatch_list(const LoadReport& r, size_t most) {
  std::string out;
  auto list = [&](const std::vector<std::string>& items, const std::string& suffix) {
    for (size_t i = 0; i < items.size() && i < most; ++i) out += "\n  " + items[i] + suffix;
    if (items.size() > most) out += "\n  ... and " + std::to_string(items.size() - most) + " more";
  };
  list(r.skipped, "");
  list(r.missing, ": not in the file");
  return out;
}

void load_exact(torch::nn::Module& module, const TensorDict& tensors, const std::string& source,
                const std::function<std::string(const LoadReport&)>& explain) {
  LoadReport r = load_matching(module, tensors);
  if (r.skipped.empty() && r.missing.empty()) return;
  const std::string why = explain ? explain(r) : "";
  throw RunError("weights '" + source + "' do not fit the model (" + std::to_string(r.loaded.size()) + " fit, " +
                 std::to_string(r.skipped.size()) + " mismatched, " + std::to_string(r.missing.size()) + " missing; " +
                 (why.empty() ? "are they weights of another model?" : why) + "):" + mismatch_list(r, 10));
}

std::string tensor_map_to_bytes(const TensorMap& tensors) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, t] : tensors) dict.insert(name, t.detach().cpu().contiguous());
  const std::vector<char> bytes = torch::pickle_save(dict);
  return std::string(bytes.begin(), bytes.end());
}

TensorMap tensor_map_from_bytes(const std::string& bytes) {
  TensorMap out;
  const c10::IValue value = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  for (const auto& entry : value.toGenericDict()) out[entry.key().toStringRef()] = entry.value().toTensor();
  return out;
}

}  // namespace paddlex
