// What flows from a dataset to a model: samples of named tensors plus per-sample metadata, collated into batches.
#pragma once
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "paddlex/core/tensor_map.h"

namespace paddlex {

struct Sample {
  TensorMap tensors;
  nlohmann::json meta = nlohmann::json::object();  // e.g. image path, image id, original size
};

struct Batch {
  TensorMap tensors;                // collated: row i belongs to sample i
  std::vector<nlohmann::json> meta; // one per sample
  std::vector<int64_t> indices;     // dataset index of each sample
  int64_t size() const { return static_cast<int64_t>(indices.empty() ? meta.size() : indices.size()); }
  // The tensor named `name`; throws RunError listing the names present when there is none.
  const torch::Tensor& at(const std::string& name) const;
};

// The default collate: stacks each named tensor along a new first dimension. Every sample must carry the same
// names and, per name, the same shape; a mismatch throws RunError naming the tensor, the shapes and the sample
// (variable-size targets need a task's own collate, e.g. with pad_to_longest).
Batch stack_samples(std::vector<Sample> samples);

// For a task's collate: the tensors named `name` (shapes [L_i, ...] with equal trailing dimensions) padded with
// `pad_value` to the longest L along dimension 0 and stacked -> [N, L_max, ...], plus their lengths [N] (int64).
std::pair<torch::Tensor, torch::Tensor> pad_to_longest(const std::vector<Sample>& samples, const std::string& name,
                                                       double pad_value);

}  // namespace paddlex
