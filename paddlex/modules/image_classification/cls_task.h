// Image classification plugged into the engine.
#pragma once
#include "paddlex/trainers/task.h"

namespace paddlex::cls {

class ClsTask : public Task {
 public:
  std::string name() const override { return "image_classification"; }
  std::vector<std::string> model_names() const override;
  std::string primary_metric() const override { return "val.top1"; }
  nlohmann::json check_dataset(const Config& cfg) override;
  TaskData load_data(const Config& cfg, bool with_train, const YAML::Node& eval_transforms) override;
  std::shared_ptr<Network> build_model(const std::string& model_name, int64_t num_classes) override;
  torch::Tensor loss(const Config& cfg, const torch::Tensor& output, const Batch& batch) override;
  std::unique_ptr<Evaluator> make_evaluator() const override;
  YAML::Node eval_transforms(const Config& cfg) const override;
  YAML::Node inference_config(const ModelDescription& model) const override;
  nlohmann::json predict(const Config& cfg, Network& model, const ModelDescription& description,
                         const YAML::Node& inference_config) override;
};

// check_dataset mode (cls_dataset_checker.cpp).
nlohmann::json check_cls_dataset(const Config& cfg);
// predict mode (cls_predictor.cpp).
nlohmann::json predict_cls(const Config& cfg, Network& model, const ModelDescription& description,
                           const YAML::Node& inference_config);

}  // namespace paddlex::cls
