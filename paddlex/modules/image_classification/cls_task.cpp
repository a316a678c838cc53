#include "paddlex/modules/image_classification/cls_task.h"

#include "paddlex/core/config.h"
#include "paddlex/core/errors.h"
#include "paddlex/modules/image_classification/models/classifier.h"
#include "paddlex/modules/image_classification/topk.h"

namespace paddlex::cls {
namespace {

KeyGroup build_keys() {
  using T = ValueType;
  return {"Image classification", {
      range(key("Train.input_size", T::Int, "224", "Square crop size fed to the model"), 8, 4096),
      range(key("Train.resize_short", T::Int, "256",
                "Eval/predict: resize the short side to this, then center-crop input_size"),
            8, 4096),
      range(key("Train.random_crop_scale", T::FloatList, "[0.08, 1.0]", "Train: area range of the random resized crop"),
            0, 1),
      key("Train.random_flip", T::Bool, "True", "Train: random horizontal flip"),
      range(key("Train.label_smoothing", T::Float, "0.0", "Label smoothing epsilon of the cross-entropy"), 0, 0.999),
      range(key("Predict.topk", T::Int, "null", "Classes reported per image; null = the exported topk (5)"), 1, {}),
  }};
}

const KeyGroup& cls_keys() {
  static const KeyGroup group = build_keys();
  return group;
}

// The Topk postprocess of predict: the k best classes per image.
class ClsPredictor : public ImageClassPredictor {
 public:
  ClsPredictor(const YAML::Node& inference_config, ClassLabels classes, int64_t k)
      : ImageClassPredictor(inference_config, 1), classes_(std::move(classes)), k_(k) {}
  std::vector<nlohmann::ordered_json> postprocess(const Batch&, const TensorMap& outputs) const override {
    std::vector<nlohmann::ordered_json> rows;
    for (const auto& ranked : top_classes(outputs.at("logits"), k_)) rows.push_back(class_result(ranked, classes_));
    return rows;
  }

 private:
  ClassLabels classes_;
  int64_t k_;
};

}  // namespace

std::vector<std::string> ClsTask::model_names() const { return classifier_names(); }

std::vector<const KeyGroup*> ClsTask::config_keys() const { return {&class_keys(), &cls_keys()}; }

void ClsTask::check_config(const Config& cfg) const {
  check_class_keys(cfg);
  auto scale = cfg.get_float_list("Train.random_crop_scale");
  if (scale.size() != 2 || scale[0] > scale[1] || scale[1] <= 0)
    throw ConfigError(cfg.origin("Train.random_crop_scale") +
                      ": Train.random_crop_scale needs [min, max] with 0 <= min <= max <= 1");
  if (cfg.get_int("Train.resize_short") < cfg.get_int("Train.input_size")) {
    const std::string key = cfg.origin("Train.resize_short") == "default" ? "Train.input_size" : "Train.resize_short";
    throw ConfigError(cfg.origin(key) + ": Train.resize_short must be >= Train.input_size (the center crop)");
  }
}

std::vector<ListedImage> ClsTask::read_list(const std::string& root, const std::string& list, int64_t num_classes,
                                            bool decode_images, Problems& problems, nlohmann::json&) const {
  ClsListOptions opts;
  opts.num_classes = num_classes;
  opts.decode_images = decode_images;
  std::vector<ListedImage> images;
  for (auto& s : read_cls_list(root, list, opts, problems)) images.push_back({s.rel_path, s.abs_path, {s.label}});
  return images;
}

torch::Tensor ClsTask::label_tensor(const std::vector<int64_t>& labels, int64_t) const {
  return torch::tensor(labels.front(), torch::kInt64);
}

YAML::Node ClsTask::train_ops(const Config& cfg) const {
  YAML::Node ops(YAML::NodeType::Sequence), crop;
  crop["size"] = cfg.get_int("Train.input_size");
  crop["scale"] = cfg.get_float_list("Train.random_crop_scale");
  ops.push_back(image_op_entry("RandCropImage", crop));
  if (cfg.get_bool("Train.random_flip")) ops.push_back(image_op_entry("RandFlipImage"));
  ops.push_back(normalize_op(cfg));
  ops.push_back(image_op_entry("ToCHWImage"));
  return ops;
}

YAML::Node ClsTask::eval_ops(const Config& cfg) const {
  YAML::Node ops(YAML::NodeType::Sequence), resize, crop;
  resize["resize_short"] = cfg.get_int("Train.resize_short");
  crop["size"] = cfg.get_int("Train.input_size");
  ops.push_back(image_op_entry("ResizeImage", resize));
  ops.push_back(image_op_entry("CropImage", crop));
  ops.push_back(normalize_op(cfg));
  ops.push_back(image_op_entry("ToCHWImage"));
  // Canonical form (every argument spelled out), as the op table writes it back.
  return ImagePipeline::parse(ops, "eval transforms").to_yaml();
}

std::shared_ptr<Network> ClsTask::build_model(const ModelInfo& model) const {
  return create_classifier(model.model_name, ClassLabels::from_attributes(model.attributes, model.source).num_classes);
}

Criterion ClsTask::make_criterion(const Config& cfg, const ModelInfo&) const {
  namespace F = torch::nn::functional;
  const double smoothing = cfg.get_float("Train.label_smoothing");
  return [smoothing](const TensorMap& outputs, const Batch& batch) -> LossTerms {
    const torch::Tensor& logits = outputs.at("logits");
    return {{"CELoss", F::cross_entropy(logits, batch.at("label").to(logits.device()),
                                        F::CrossEntropyFuncOptions().label_smoothing(smoothing))}};
  };
}

std::unique_ptr<Evaluator> ClsTask::make_evaluator(const Config&, const ModelInfo&) const {
  return std::make_unique<TopkEvaluator>();
}

YAML::Node ClsTask::inference_config(const ModelInfo& model) const {
  const ClassLabels classes = ClassLabels::from_attributes(model.attributes, model.source);
  YAML::Node root;
  root["Global"]["model_name"] = model.model_name;
  root["PreProcess"]["transform_ops"] = model.transforms;
  root["PostProcess"]["Topk"]["topk"] = std::min<int64_t>(5, classes.num_classes);
  root["PostProcess"]["Topk"]["label_list"] = classes.labels;
  return root;
}

std::unique_ptr<Predictor> ClsTask::make_predictor(const Config& cfg, const ModelInfo& model,
                                                   const YAML::Node& inference_config) const {
  const ClassLabels classes = ClassLabels::from_attributes(model.attributes, model.source);
  int64_t k;
  try {
    k = inference_config["PostProcess"]["Topk"]["topk"].as<int64_t>();
  } catch (const YAML::Exception&) {
    throw RunError("inference.yml: PostProcess.Topk.topk is missing or not an integer");
  }
  k = std::min<int64_t>(cfg.get_int_or("Predict.topk", k), classes.num_classes);
  return std::make_unique<ClsPredictor>(inference_config, classes, k);
}

}  // namespace paddlex::cls
