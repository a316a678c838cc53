#include "paddlex/modules/image_classification/cls_task.h"

#include <filesystem>

#include "paddlex/core/config.h"
#include "paddlex/core/errors.h"
#include "paddlex/modules/image_classification/cls_image_source.h"
#include "paddlex/modules/image_classification/models/classifier.h"
#include "paddlex/modules/image_classification/topk_evaluator.h"

namespace fs = std::filesystem;

namespace paddlex::cls {

std::vector<std::string> ClsTask::model_names() const { return classifier_names(); }

nlohmann::json ClsTask::check_dataset(const Config& cfg) { return check_cls_dataset(cfg); }

TaskData ClsTask::load_data(const Config& cfg, bool with_train, const YAML::Node& eval_transforms) {
  if (cfg.is_null("Global.dataset_dir")) throw ConfigError(cfg.origin("Global.dataset_dir") + ": Global.dataset_dir is required");
  const std::string root = cfg.get_string("Global.dataset_dir");
  if (!fs::is_directory(root)) throw RunError("Global.dataset_dir: '" + root + "' is not a directory");
  Problems problems;
  TaskData data;
  data.labels = read_label_file((fs::path(root) / "label.txt").string(), problems);
  if (!problems.empty()) throw RunError("bad dataset:\n" + problems.summary());
  data.num_classes = static_cast<int64_t>(data.labels.size());
  ClsListOptions opts;
  opts.num_classes = data.num_classes;
  auto val = read_cls_list(root, "val.txt", opts, problems);
  std::vector<ClsSample> train;
  if (with_train) train = read_cls_list(root, "train.txt", opts, problems);
  if (!problems.empty())
    throw RunError("bad dataset (run Global.mode=check_dataset for a full report):\n" + problems.summary());
  if (val.empty()) throw RunError(root + "/val.txt lists no images");
  if (with_train && train.empty()) throw RunError(root + "/train.txt lists no images");
  data.val = std::make_shared<ClsImageSource>(std::move(val), ClsPreprocess::from_ops(eval_transforms, "eval transforms"));
  if (with_train) {
    TrainAugment aug;
    aug.size = static_cast<int>(cfg.get_int("Train.input_size"));
    auto scale = cfg.get_float_list("Train.random_crop_scale");
    aug.scale_lo = scale[0];
    aug.scale_hi = scale[1];
    aug.flip = cfg.get_bool("Train.random_flip");
    aug.norm = ClsPreprocess::from_config(cfg).norm;
    data.train = std::make_shared<ClsImageSource>(std::move(train), aug);
  }
  return data;
}

std::shared_ptr<Network> ClsTask::build_model(const std::string& model_name, int64_t num_classes) {
  return create_classifier(model_name, num_classes);
}

torch::Tensor ClsTask::loss(const Config& cfg, const torch::Tensor& output, const Batch& batch) {
  namespace F = torch::nn::functional;
  return F::cross_entropy(output, batch.target.to(output.device()),
                          F::CrossEntropyFuncOptions().label_smoothing(cfg.get_float("Train.label_smoothing")));
}

std::unique_ptr<Evaluator> ClsTask::make_evaluator() const { return std::make_unique<TopkEvaluator>(); }

YAML::Node ClsTask::eval_transforms(const Config& cfg) const { return ClsPreprocess::from_config(cfg).to_ops(); }

YAML::Node ClsTask::inference_config(const ModelDescription& model) const {
  YAML::Node root;
  root["Global"]["model_name"] = model.model_name;
  root["PreProcess"]["transform_ops"] = model.transforms;
  root["PostProcess"]["Topk"]["topk"] = std::min<int64_t>(5, model.num_classes);
  root["PostProcess"]["Topk"]["label_list"] = model.labels;
  return root;
}

nlohmann::json ClsTask::predict(const Config& cfg, Network& model, const ModelDescription& description,
                                const YAML::Node& inference_config) {
  return predict_cls(cfg, model, description, inference_config);
}

}  // namespace paddlex::cls
