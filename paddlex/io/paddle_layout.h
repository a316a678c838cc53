// PaddlePaddle state_dicts in LibTorch's names and layouts. A model named like a PaddleClas model has its
// parameters one to one; only naming conventions and a few layouts differ.
#pragma once
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "paddlex/io/tensor_file.h"

namespace paddlex {

// PaddlePaddle parameter-name prefixes and ours where a model's names differ from its reference implementation's
// (e.g. PaddleClas's ResNet "blocks.3.conv0.conv." is our torchvision-style "layer2.0.conv1.").
using NamePrefixMap = std::vector<std::pair<std::string, std::string>>;

// Converts a PaddlePaddle state_dict (read_paddle_state_dict) to the names and layouts of `module`: the longest
// matching prefix in `prefixes` is replaced; BatchNorm "_mean"/"_variance" become "running_mean"/"running_var";
// Linear weights, stored [in, out] by PaddlePaddle, are transposed to [out, in]; and each BatchNorm that got its
// statistics from the file gets its num_batches_tracked (which PaddlePaddle does not keep) from `module`. Names
// that match nothing in `module` are kept, so loading reports them.
TensorDict from_paddle_layout(const torch::nn::Module& module, const NamePrefixMap& prefixes, TensorDict paddle);

// Whether `path` names a PaddlePaddle weight file by its extension (.pdparams, or the .pdema where PaddleClas keeps the
// raw weights of an EMA run).
bool is_paddle_weight_file(const std::string& path);

// Throws RunError when `path` is a PaddlePaddle training file that holds no weights (.pdopt optimizer state,
// .pdstates training progress), saying what it is and what to use instead; `key` is the config key it came from.
void refuse_paddle_non_weight_file(const std::string& path, const std::string& key);

}  // namespace paddlex
