// Weight files: an ordered dict name -> tensor that Python's torch.load reads, and loading one into a module.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "paddlex/core/tensor_map.h"

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
// The mismatched and missing tensors of `r`, one per line, at most `most` of each.
std::string mismatch_list(const LoadReport& r, size_t most);
// Copies every tensor; throws RunError listing the mismatches (resume, evaluate, export), followed by
// `explain(report)` when that says more.
void load_exact(torch::nn::Module& module, const TensorDict& tensors, const std::string& source,
                const std::function<std::string(const LoadReport&)>& explain = {});

// Named tensors to bytes and back (evaluation states sent between ranks).
std::string tensor_map_to_bytes(const TensorMap& tensors);
TensorMap tensor_map_from_bytes(const std::string& bytes);

}  // namespace paddlex
