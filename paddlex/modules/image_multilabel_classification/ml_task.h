// Multi-label image classification (PaddleX image_multilabel_classification, MLClsDataset) plugged into the
// engine.
#pragma once
#include "paddlex/modules/image_classification/image_class_task.h"

namespace paddlex::mlcls {

class MultiLabelTask : public cls::ImageClassTask {
 public:
  std::string name() const override { return "image_multilabel_classification"; }
  std::vector<std::string> model_names() const override;
  std::vector<const KeyGroup*> config_keys() const override;
  void check_config(const Config& cfg) const override;
  std::shared_ptr<Network> build_model(const ModelInfo& model) const override;
  Criterion make_criterion(const Config& cfg, const ModelInfo& model) const override;
  std::unique_ptr<Evaluator> make_evaluator(const Config& cfg, const ModelInfo& model) const override;
  YAML::Node inference_config(const ModelInfo& model) const override;
  std::unique_ptr<Predictor> make_predictor(const Config& cfg, const ModelInfo& model,
                                            const YAML::Node& inference_config) const override;

 protected:
  std::string dataset_type() const override { return "MLClsDataset"; }
  std::vector<cls::ListedImage> read_list(const std::string& root, const std::string& list, int64_t num_classes,
                                          bool decode_images, Problems& problems,
                                          nlohmann::json& attributes) const override;
  torch::Tensor label_tensor(const std::vector<int64_t>& labels, int64_t num_classes) const override;
  YAML::Node train_ops(const Config& cfg) const override;
  YAML::Node eval_ops(const Config& cfg) const override;
  void convert_dataset(const Config& cfg, const std::string& root) const override;
};

}  // namespace paddlex::mlcls
