// A model directory as the engine writes it: model.yml (PaddleX 2.x layout) beside the weights. Checkpoints
// (status Normal) and deployment exports (status Infer) share it.
#pragma once
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <string>

namespace paddlex {

// The files of a deployment (Infer) directory beside model.yml: the pre/postprocessing description, the ONNX
// model and the BN-folded LibTorch weights.
inline constexpr const char* kInferenceYml = "inference.yml";
inline constexpr const char* kOnnxFile = "inference.onnx";
inline constexpr const char* kInferenceWeights = "inference.pt";

// What model.yml says about a trained model. The attributes belong to the task (classes and labels for
// classification; character dicts, window lengths or scaler statistics for others); the engine only stores
// and compares them.
struct ModelInfo {
  std::string model_name;
  std::string task;         // model_type
  YAML::Node attributes;    // a mapping, owned by the task
  YAML::Node transforms;    // eval/inference preprocessing op list
  // The weights a checkpoint is evaluated, exported and predicted with: model.pt, or ema.pt when the run
  // averaged its weights (Train.ema).
  std::string eval_weights = "model.pt";
  std::string source;  // the file it was read from (model.yml, or bare .pdparams weights), for messages; empty
                       // for a model being trained
};

// True when both attribute mappings hold the same keys and values.
bool same_attributes(const YAML::Node& a, const YAML::Node& b);
std::string yaml_text(const YAML::Node& node);

// model.yml: version, Model, _Attributes (model_type, the task's attributes, fixed_input_shape, eval_metrics),
// Transforms, completed_epochs, status (Normal for checkpoints, Infer for exports), eval_weights.
YAML::Node model_yml(const ModelInfo& model, const std::string& status, int64_t completed_epochs,
                     const std::map<std::string, double>& metrics);
// Throws RunError naming the file (and line) when it is missing or malformed.
ModelInfo read_model_yml(const std::string& path);

// Accepts a checkpoint directory or a file inside one; returns the directory. Throws RunError naming `key`.
std::string resolve_checkpoint_dir(const std::string& path, const std::string& key);

// A checkpoint named by `path` (key `key`): its directory and model.yml. When `path` names a weight file inside
// the directory (e.g. best_model/model.pt), that file is the one evaluated or exported, whatever model.yml's
// eval_weights says.
struct CheckpointRef {
  std::string dir;
  ModelInfo info;
  std::string weights;  // the weight file to load
  bool paddle = false;  // PaddlePaddle weights without our model.yml (info comes from the task and the config)
};
CheckpointRef open_checkpoint(const std::string& path, const std::string& key);

// The PaddlePaddle weight file `path` names: the file itself (.pdparams, .pdema), or the one .pdparams of a
// directory without model.yml (a PaddleX checkpoint directory such as output/best_model/). Empty when `path` is
// anything else. Throws RunError naming `key` for a .pdopt/.pdstates file or a directory with several .pdparams.
std::string paddle_weights_at(const std::string& path, const std::string& key);

}  // namespace paddlex
