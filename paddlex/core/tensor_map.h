// Named tensors: what flows between a task's data, its model and its loss.
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>

namespace paddlex {

// Ordered by name. The names are the contract between a task's data, model and loss (e.g. "image", "label",
// "logits"); a model's input and output names become the exported model's.
using TensorMap = std::map<std::string, torch::Tensor>;

}  // namespace paddlex
