// export mode: a checkpoint -> a deployment directory (BN-folded weights, inference.yml, model.yml Infer).
// Independent of the training loop: it reads checkpoint files and asks the task for the network and
// inference.yml.
#pragma once
#include <string>

#include "paddlex/task/task.h"

namespace paddlex {

class Config;

// Writes the deployment directory of Export.weight_path (default <output>/best_model) and returns its path.
std::string export_model(const Config& cfg, const Task& task);

}  // namespace paddlex
