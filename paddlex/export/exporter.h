// export mode: a checkpoint -> a deployment directory (BN-folded weights, inference.yml, model.yml Infer).
#pragma once
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>

#include "paddlex/trainers/task.h"

namespace paddlex {

class Config;

// Writes the deployment directory and returns its path.
std::string export_model(const Config& cfg, Task& task);

struct InferenceModel {
  std::shared_ptr<Network> network;  // in eval mode
  ModelDescription description;
  YAML::Node inference_config;       // inference.yml (built from model.yml for a checkpoint)
};

// Loads a model for prediction from an export dir (inference.yml + inference.pt) or a checkpoint dir.
InferenceModel load_inference_model(Task& task, const std::string& dir, const torch::Device& device);

}  // namespace paddlex
