// predict mode, generic: loads the model (deployment or checkpoint dir), collects Predict.input, runs it in
// batches of Predict.batch_size and writes <stem>.json per input (and the task's picture) plus
// predict_result.json; the task supplies reading, postprocessing and visualization (task/task.h Predictor).
#pragma once
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <functional>
#include <memory>
#include <string>

#include "paddlex/task/task.h"

namespace paddlex {

class Config;

// What runs a model: inference.onnx on oneDNN (PaddleX's run_mode mkldnn) or in OpenCV's dnn module (onnx), or the
// network in LibTorch.
enum class RunMode { kOneDnn, kOpenCv, kLibTorch };

struct InferenceModel {
  ModelInfo info;
  YAML::Node inference_config;  // inference.yml (built from model.yml for a checkpoint dir)
  RunMode mode = RunMode::kLibTorch;
  // A batch -> the model's outputs, on the CPU.
  std::function<TensorMap(const Batch&)> run;
};

// Loads a model for prediction from an export dir (inference.yml, inference.onnx, inference.pt) or a checkpoint
// dir. `run_mode` is Predict.kernel_option.run_mode: "mkldnn", "onnx", "libtorch", or "paddle" (PaddleX's default:
// mkldnn for an export dir on the CPU, else libtorch). Throws RunError when the directory cannot run in that mode.
InferenceModel load_inference_model(const Task& task, const std::string& dir, const torch::Device& device,
                                    const std::string& run_mode = "paddle");

// Runs predict mode; returns the body of predict_result.json ({"results": [...]}).
nlohmann::json run_predict(const Config& cfg, const Task& task, const torch::Device& device);

}  // namespace paddlex
