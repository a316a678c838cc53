// predict mode, generic: loads the model (deployment or checkpoint dir), collects Predict.input, runs it in
// batches of Predict.batch_size and writes <stem>.json per input (and the task's picture) plus
// predict_result.json; the task supplies reading, postprocessing and visualization (task/task.h Predictor).
#pragma once
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>

#include "paddlex/task/task.h"

namespace paddlex {

class Config;

struct InferenceModel {
  std::shared_ptr<Network> network;  // in eval mode, on the requested device
  ModelInfo info;
  YAML::Node inference_config;       // inference.yml (built from model.yml for a checkpoint dir)
};

// Loads a model for prediction from an export dir (inference.yml + inference.pt) or a checkpoint dir.
InferenceModel load_inference_model(const Task& task, const std::string& dir, const torch::Device& device);

// Runs predict mode; returns the body of predict_result.json ({"results": [...]}).
nlohmann::json run_predict(const Config& cfg, const Task& task, const torch::Device& device);

}  // namespace paddlex
