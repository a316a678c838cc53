#include "paddlex/datasets/sample.h"

#include <cstring>
#include <sstream>

#include "paddlex/core/errors.h"

namespace paddlex {
namespace {

std::string shape_text(const torch::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

std::string names_of(const TensorMap& tensors) {
  std::string out;
  for (const auto& entry : tensors) out += (out.empty() ? "" : ", ") + entry.first;
  return out.empty() ? "none" : out;
}

}  // namespace

const torch::Tensor& Batch::at(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) throw RunError("batch has no tensor '" + name + "' (it has: " + names_of(tensors) + ")");
  return it->second;
}

Batch stack_samples(std::vector<Sample> samples) {
  Batch batch;
  if (samples.empty()) return batch;
  const TensorMap& first = samples.front().tensors;
  for (const auto& [name, reference] : first) {
    std::vector<int64_t> shape = reference.sizes().vec();
    shape.insert(shape.begin(), static_cast<int64_t>(samples.size()));
    torch::Tensor stacked = torch::empty(shape, reference.options());
    const size_t bytes = reference.nbytes();
    for (size_t i = 0; i < samples.size(); ++i) {
      auto it = samples[i].tensors.find(name);
      if (it == samples[i].tensors.end())
        throw RunError("collate: sample " + std::to_string(i) + " of the batch has no tensor '" + name + "'");
      if (it->second.sizes() != reference.sizes() || it->second.dtype() != reference.dtype())
        throw RunError("collate: tensor '" + name + "' has shape " + shape_text(it->second) + " in sample " +
                       std::to_string(i) + " but " + shape_text(reference) +
                       " in sample 0; variable-size tensors need the task's own collate");
      // A plain copy rather than torch::stack: loader threads must not start ATen's parallel regions, which
      // would compete with the training step's threads for the cores.
      const torch::Tensor part = it->second.contiguous();
      std::memcpy(static_cast<char*>(stacked.data_ptr()) + i * bytes, part.data_ptr(), bytes);
    }
    batch.tensors[name] = stacked;
  }
  for (size_t i = 1; i < samples.size(); ++i)
    if (samples[i].tensors.size() != first.size())
      throw RunError("collate: sample " + std::to_string(i) + " has tensors " + names_of(samples[i].tensors) +
                     ", sample 0 has " + names_of(first));
  for (auto& s : samples) batch.meta.push_back(std::move(s.meta));
  return batch;
}

std::pair<torch::Tensor, torch::Tensor> pad_to_longest(const std::vector<Sample>& samples, const std::string& name,
                                                       double pad_value) {
  if (samples.empty()) throw RunError("pad_to_longest: no samples");
  std::vector<const torch::Tensor*> parts;
  int64_t longest = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    auto it = samples[i].tensors.find(name);
    if (it == samples[i].tensors.end() || it->second.dim() < 1)
      throw RunError("collate: sample " + std::to_string(i) + " has no tensor '" + name + "' with a length dimension");
    if (!parts.empty() && it->second.sizes().slice(1) != parts.front()->sizes().slice(1))
      throw RunError("collate: tensor '" + name + "' has shape " + shape_text(it->second) + " in sample " +
                     std::to_string(i) + " but " + shape_text(*parts.front()) +
                     " in sample 0 (only the first dimension may vary)");
    parts.push_back(&it->second);
    longest = std::max(longest, it->second.size(0));
  }
  std::vector<int64_t> shape = parts.front()->sizes().vec();
  shape[0] = longest;
  shape.insert(shape.begin(), static_cast<int64_t>(parts.size()));
  torch::Tensor padded = torch::full(shape, pad_value, parts.front()->options());
  torch::Tensor lengths = torch::empty({static_cast<int64_t>(parts.size())}, torch::kInt64);
  for (size_t i = 0; i < parts.size(); ++i) {
    const int64_t length = parts[i]->size(0);
    padded[static_cast<int64_t>(i)].narrow(0, 0, length).copy_(*parts[i]);
    lengths[static_cast<int64_t>(i)] = length;
  }
  return {padded, lengths};
}

}  // namespace paddlex
