// The one interface through which a task plugs into the generic engine (trainers/ never names a task).
#pragma once
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "paddlex/datasets/data_loader.h"
#include "paddlex/nn/network.h"

namespace paddlex {

class Config;

// Accumulates model outputs over an evaluation pass.
class Evaluator {
 public:
  virtual ~Evaluator() = default;
  virtual void update(const torch::Tensor& output, const Batch& batch) = 0;
  // Metric name -> value, with the names used in evaluate_result.json (e.g. "val.top1").
  virtual std::map<std::string, double> compute() const = 0;
};

// Everything the engine needs to know about a trained model, written to model.yml and inference.yml.
struct ModelDescription {
  std::string model_name;
  int64_t num_classes = 0;
  std::vector<std::string> labels;
  YAML::Node transforms;  // eval preprocessing op list, PaddleX op names (ResizeImage, CropImage, ...)
};

// The dataset of a task, read and validated for train/evaluate.
struct TaskData {
  std::shared_ptr<const SampleSource> train;  // with augmentation (null in evaluate mode)
  std::shared_ptr<const SampleSource> val;    // eval transforms
  int64_t num_classes = 0;
  std::vector<std::string> labels;
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  virtual std::vector<std::string> model_names() const = 0;
  // Metric that selects best_model (higher is better), e.g. "val.top1".
  virtual std::string primary_metric() const = 0;

  // check_dataset mode: checks every sample, writes artefacts under `<output>/check_dataset/` and returns the
  // body of check_dataset_result.json (check_pass, attributes, analysis, dataset_type, ...).
  virtual nlohmann::json check_dataset(const Config& cfg) = 0;

  // Reads the dataset for training (`with_train`) and evaluation, the val split preprocessed by
  // `eval_transforms` (this config's in training, the checkpoint's in evaluate mode); throws RunError naming
  // file:line.
  virtual TaskData load_data(const Config& cfg, bool with_train, const YAML::Node& eval_transforms) = 0;
  virtual std::shared_ptr<Network> build_model(const std::string& model_name, int64_t num_classes) = 0;
  virtual torch::Tensor loss(const Config& cfg, const torch::Tensor& output, const Batch& batch) = 0;
  virtual std::unique_ptr<Evaluator> make_evaluator() const = 0;
  // The eval preprocessing of this config as an op list (stored in model.yml / inference.yml).
  virtual YAML::Node eval_transforms(const Config& cfg) const = 0;
  // inference.yml for an exported model.
  virtual YAML::Node inference_config(const ModelDescription& model) const = 0;

  // predict mode with a loaded model (deployment or checkpoint form); returns the result summary.
  virtual nlohmann::json predict(const Config& cfg, Network& model, const ModelDescription& description,
                                 const YAML::Node& inference_config) = 0;
};

}  // namespace paddlex
