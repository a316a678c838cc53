#include "paddlex/modules/image_multilabel_classification/ml_task.h"

#include "paddlex/core/config.h"
#include "paddlex/core/errors.h"
#include "paddlex/core/logging.h"
#include "paddlex/modules/image_multilabel_classification/asymmetric_loss.h"
#include "paddlex/modules/image_multilabel_classification/coco_to_mlcls.h"
#include "paddlex/modules/image_multilabel_classification/models/ml_classifier.h"
#include "paddlex/modules/image_multilabel_classification/multilabel_map.h"

namespace paddlex::mlcls {
namespace {

// PaddleX's MultiLabelThreshOutput default.
constexpr double kDefaultThreshold = 0.5;

KeyGroup build_keys() {
  using T = ValueType;
  return {"Multi-label image classification", {
      range(key("Train.input_size", T::Int, "448", "Images are resized to input_size x input_size (no crop)"), 8, 4096),
      key("Train.random_flip", T::Bool, "False", "Train: random horizontal flip (PaddleClas's *_ML recipes use none)"),
      range(key("Train.cutout_length", T::Int, "224",
                "Train: side of the Cutout square painted in a random color (PaddleClas: 224 at 448 px); 0 = off"),
            0, 4096),
      key("Train.randaugment", T::Bool, "True",
          "Train: RandAugmentV4, PaddleClas's RandAugment for ML-Decoder (two of 15 ops, each with p 0.5)"),
      range(key("Train.asymmetric_loss.gamma_pos", T::Float, "0.0", "Asymmetric loss: focusing exponent of positives"),
            0, {}),
      range(key("Train.asymmetric_loss.gamma_neg", T::Float, "4.0", "Asymmetric loss: focusing exponent of negatives"),
            0, {}),
      range(key("Train.asymmetric_loss.clip", T::Float, "0.05",
                "Asymmetric loss: probability shift of negatives (p <= clip costs nothing); 0 = off"),
            0, 1),
      range(key("Predict.threshold", T::Float, "null",
                "Report the classes with probability >= this; null = the exported threshold (0.5). Evaluation's "
                "precision/recall/f1 use it too"),
            0, 1),
  }};
}

const KeyGroup& ml_keys() {
  static const KeyGroup group = build_keys();
  return group;
}

double threshold_of(const Config& cfg, double fallback) {
  return cfg.is_null("Predict.threshold") ? fallback : cfg.get_float("Predict.threshold");
}

// MultiLabelThreshOutput: the classes at or above the threshold, best first.
class MultiLabelPredictor : public cls::ImageClassPredictor {
 public:
  MultiLabelPredictor(const YAML::Node& inference_config, cls::ClassLabels classes, double threshold)
      : ImageClassPredictor(inference_config, SIZE_MAX), classes_(std::move(classes)), threshold_(threshold) {}
  std::vector<nlohmann::ordered_json> postprocess(const Batch&, const TensorMap& outputs) const override {
    const torch::Tensor probabilities = torch::sigmoid(outputs.at("logits").to(torch::kFloat32)).contiguous();
    std::vector<nlohmann::ordered_json> rows;
    for (int64_t r = 0; r < probabilities.size(0); ++r)
      rows.push_back(cls::class_result(
          classes_above(probabilities[r].data_ptr<float>(), probabilities.size(1), threshold_), classes_));
    return rows;
  }

 private:
  cls::ClassLabels classes_;
  double threshold_;
};

}  // namespace

std::vector<std::string> MultiLabelTask::model_names() const { return ml_classifier_names(); }

std::vector<const KeyGroup*> MultiLabelTask::config_keys() const { return {&cls::class_keys(), &ml_keys()}; }

void MultiLabelTask::check_config(const Config& cfg) const { cls::check_class_keys(cfg); }

std::vector<cls::ListedImage> MultiLabelTask::read_list(const std::string& root, const std::string& list,
                                                        int64_t num_classes, bool decode_images, Problems& problems,
                                                        nlohmann::json& attributes) const {
  MultiLabelList read = read_mlcls_list(root, list, num_classes, decode_images, problems);
  attributes[list.substr(0, list.find('.')) + "_label_format"] = format_name(read.format);
  std::vector<cls::ListedImage> images;
  for (auto& s : read.samples) images.push_back({s.rel_path, s.abs_path, s.labels});
  return images;
}

torch::Tensor MultiLabelTask::label_tensor(const std::vector<int64_t>& labels, int64_t num_classes) const {
  torch::Tensor multi_hot = torch::zeros({num_classes}, torch::kFloat32);
  for (int64_t id : labels) multi_hot[id] = 1.0f;
  return multi_hot;
}

YAML::Node MultiLabelTask::train_ops(const Config& cfg) const {
  YAML::Node ops(YAML::NodeType::Sequence), resize;
  resize["size"] = cfg.get_int("Train.input_size");
  ops.push_back(image_op_entry("ResizeImage", resize));
  if (cfg.get_bool("Train.random_flip")) ops.push_back(image_op_entry("RandFlipImage"));
  if (cfg.get_int("Train.cutout_length") > 0) {
    YAML::Node cutout;
    cutout["length"] = cfg.get_int("Train.cutout_length");
    ops.push_back(image_op_entry("Cutout", cutout));
  }
  if (cfg.get_bool("Train.randaugment")) ops.push_back(image_op_entry("RandAugmentV4"));
  ops.push_back(cls::normalize_op(cfg));
  ops.push_back(image_op_entry("ToCHWImage"));
  return ops;
}

YAML::Node MultiLabelTask::eval_ops(const Config& cfg) const {
  YAML::Node ops(YAML::NodeType::Sequence), resize;
  resize["size"] = cfg.get_int("Train.input_size");
  ops.push_back(image_op_entry("ResizeImage", resize));
  ops.push_back(cls::normalize_op(cfg));
  ops.push_back(image_op_entry("ToCHWImage"));
  return ImagePipeline::parse(ops, "eval transforms").to_yaml();
}

void MultiLabelTask::convert_dataset(const Config& cfg, const std::string& root) const {
  const std::string type = cfg.get_string_or("CheckDataset.convert.src_dataset_type", "");
  if (type != "COCO")
    throw RunError(cfg.origin("CheckDataset.convert.src_dataset_type") +
                   ": CheckDataset.convert.src_dataset_type must be COCO for multi-label classification, got '" +
                   (type.empty() ? "null" : type) + "'");
  Log::info(convert_coco_to_mlcls(root));
}

std::shared_ptr<Network> MultiLabelTask::build_model(const ModelInfo& model) const {
  return create_ml_classifier(model.model_name,
                              cls::ClassLabels::from_attributes(model.attributes, model.source).num_classes);
}

Criterion MultiLabelTask::make_criterion(const Config& cfg, const ModelInfo&) const {
  AsymmetricLossOptions o;
  o.gamma_pos = cfg.get_float("Train.asymmetric_loss.gamma_pos");
  o.gamma_neg = cfg.get_float("Train.asymmetric_loss.gamma_neg");
  o.clip = cfg.get_float("Train.asymmetric_loss.clip");
  return [o](const TensorMap& outputs, const Batch& batch) -> LossTerms {
    const torch::Tensor& logits = outputs.at("logits");
    return {{"MultiLabelAsymmetricLoss", asymmetric_loss(logits, batch.at("label").to(logits.device()), o)}};
  };
}

std::unique_ptr<Evaluator> MultiLabelTask::make_evaluator(const Config& cfg, const ModelInfo&) const {
  return std::make_unique<MultiLabelEvaluator>(threshold_of(cfg, kDefaultThreshold));
}

YAML::Node MultiLabelTask::inference_config(const ModelInfo& model) const {
  const cls::ClassLabels classes = cls::ClassLabels::from_attributes(model.attributes, model.source);
  YAML::Node root;
  root["Global"]["model_name"] = model.model_name;
  root["PreProcess"]["transform_ops"] = model.transforms;
  root["PostProcess"]["MultiLabelThreshOutput"]["threshold"] = kDefaultThreshold;
  root["PostProcess"]["MultiLabelThreshOutput"]["label_list"] = classes.labels;
  return root;
}

std::unique_ptr<Predictor> MultiLabelTask::make_predictor(const Config& cfg, const ModelInfo& model,
                                                          const YAML::Node& inference_config) const {
  double exported;
  try {
    exported = inference_config["PostProcess"]["MultiLabelThreshOutput"]["threshold"].as<double>();
  } catch (const YAML::Exception&) {
    throw RunError("inference.yml: PostProcess.MultiLabelThreshOutput.threshold is missing or not a number");
  }
  return std::make_unique<MultiLabelPredictor>(
      inference_config, cls::ClassLabels::from_attributes(model.attributes, model.source), threshold_of(cfg, exported));
}

}  // namespace paddlex::mlcls
