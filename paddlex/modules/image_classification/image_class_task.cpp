#include "paddlex/modules/image_classification/image_class_task.h"

#include <cmath>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "paddlex/core/config.h"
#include "paddlex/core/errors.h"
#include "paddlex/core/logging.h"
#include "paddlex/core/plot.h"
#include "paddlex/core/text.h"
#include "paddlex/datasets/dataset_check.h"
#include "paddlex/datasets/image_io.h"
#include "paddlex/datasets/image_list_source.h"

namespace fs = std::filesystem;

namespace paddlex::cls {
namespace {

KeyGroup build_class_keys() {
  using T = ValueType;
  return {"Image classification and multi-label classification", {
      range(key("Train.num_classes", T::Int, "null", "Number of classes; null = from label.txt"), 1, {}),
      key("Train.mean", T::FloatList, "[0.485, 0.456, 0.406]", "Normalize mean (RGB, on 0..1 pixels)"),
      range(key("Train.std", T::FloatList, "[0.229, 0.224, 0.225]", "Normalize std (RGB, on 0..1 pixels)"), 1e-6, {}),
  }};
}

std::vector<std::string> caption_for(const ListedImage& image, const ClassLabels& classes) {
  std::string names;
  for (int64_t id : image.labels) names += (names.empty() ? "" : ", ") + classes.name(id);
  return {names};
}

}  // namespace

const KeyGroup& class_keys() {
  static const KeyGroup group = build_class_keys();
  return group;
}

void check_class_keys(const Config& cfg) {
  for (const char* k : {"Train.mean", "Train.std"})
    if (cfg.get_float_list(k).size() != 3) throw ConfigError(cfg.origin(k) + ": " + k + " needs 3 values (R, G, B)");
}

YAML::Node normalize_op(const Config& cfg) {
  YAML::Node args;
  args["mean"] = cfg.get_float_list("Train.mean");
  args["std"] = cfg.get_float_list("Train.std");
  return image_op_entry("NormalizeImage", args);
}

YAML::Node ClassLabels::to_attributes() const {
  YAML::Node a;
  a["num_classes"] = num_classes;
  a["labels"] = labels;
  return a;
}

ClassLabels ClassLabels::from_attributes(const YAML::Node& attributes, const std::string& source_file) {
  const std::string source = source_file.empty() ? "the model's attributes" : source_file;
  ClassLabels c;
  try {
    c.num_classes = attributes["num_classes"].as<int64_t>();
    c.labels = attributes["labels"].as<std::vector<std::string>>();
  } catch (const YAML::Exception&) {
    throw RunError(source + ": _Attributes needs num_classes (an integer) and labels (a list of names)");
  }
  if (c.num_classes < 1) throw RunError(source + ": _Attributes.num_classes must be at least 1");
  return c;
}

ClassLabels ClassLabels::for_training(const Config& cfg, const std::vector<std::string>& dataset_labels) {
  ClassLabels c;
  c.labels = dataset_labels;
  c.num_classes = static_cast<int64_t>(dataset_labels.size());
  if (!cfg.is_null("Train.num_classes")) {
    const int64_t requested = cfg.get_int("Train.num_classes");
    if (requested < c.num_classes)
      throw ConfigError(cfg.origin("Train.num_classes") + ": Train.num_classes=" + std::to_string(requested) +
                        " but the dataset has labels up to " + std::to_string(c.num_classes - 1));
    c.num_classes = requested;
  }
  return c;
}

std::string ClassLabels::name(int64_t id) const {
  return id >= 0 && id < static_cast<int64_t>(labels.size()) ? labels[static_cast<size_t>(id)] : std::to_string(id);
}

std::string ClassLabels::label_dict() const {
  std::string text;
  for (size_t i = 0; i < labels.size(); ++i) text += std::to_string(i) + " " + labels[i] + "\n";
  return text;
}

std::string ImageClassTask::describe(const ModelInfo& model) const {
  return count(ClassLabels::from_attributes(model.attributes, model.source).num_classes, "class");
}

void ImageClassTask::convert_dataset(const Config& cfg, const std::string&) const {
  throw RunError(cfg.origin("CheckDataset.convert.enable") + ": CheckDataset.convert.enable: " + name() +
                 " has no source formats to convert from; set it to False and provide label.txt, train.txt and "
                 "val.txt");
}

nlohmann::json ImageClassTask::check_dataset(const Config& cfg) const {
  const std::string root = dataset_root(cfg);
  if (cfg.get_bool("CheckDataset.convert.enable")) convert_dataset(cfg, root);
  DatasetCheck check(cfg, root);
  Problems problems;
  const std::string label_file = (fs::path(root) / "label.txt").string();
  ClassLabels classes;
  classes.labels = read_label_file(label_file, problems);
  classes.num_classes = static_cast<int64_t>(classes.labels.size());
  nlohmann::json attributes = {{"label_file", label_file}, {"num_classes", classes.num_classes}};
  std::vector<std::vector<int64_t>> counts;
  for (const std::string split : {"train", "val"}) {
    const auto images =
        read_list(root, split + ".txt", classes.labels.empty() ? -1 : classes.num_classes, true, problems, attributes);
    std::vector<int64_t> per_class(classes.labels.size(), 0);
    for (const auto& image : images) {
      for (int64_t id : image.labels)
        if (id < static_cast<int64_t>(per_class.size())) ++per_class[static_cast<size_t>(id)];
      if (check.wants_demo(split))
        check.add_demo(split, image.rel_path, read_image_rgb(image.abs_path), caption_for(image, classes));
    }
    for (size_t c = 0; c < per_class.size(); ++c)
      if (per_class[c] == 0 && split == "train")
        Log::warn("train.txt has no sample of class " + std::to_string(c) + " (" + classes.labels[c] + ")");
    attributes[split + "_samples"] = images.size();
    counts.push_back(per_class);
  }
  if (!classes.labels.empty()) draw_class_histogram({"train", "val"}, counts, check.histogram_path());
  return check.result(attributes, dataset_type(), problems);
}

TaskData ImageClassTask::load_data(const Config& cfg, const ModelInfo* trained) const {
  const std::string root = dataset_root(cfg);
  Problems problems;
  const auto dataset_labels = read_label_file((fs::path(root) / "label.txt").string(), problems);
  if (!problems.empty()) throw RunError("bad dataset:\n" + problems.summary());
  const ClassLabels classes = trained ? ClassLabels::from_attributes(trained->attributes, trained->source)
                                      : ClassLabels::for_training(cfg, dataset_labels);
  if (static_cast<int64_t>(dataset_labels.size()) > classes.num_classes)
    throw RunError(root + "/label.txt has " + std::to_string(dataset_labels.size()) + " classes but the model (" +
                   trained->model_name + ") predicts " + std::to_string(classes.num_classes));
  // Lines are checked against label.txt, as check_dataset does; the model may have more outputs than it has ids.
  const auto dataset_classes = static_cast<int64_t>(dataset_labels.size());
  nlohmann::json unused;
  const auto val = read_list(root, "val.txt", dataset_classes, false, problems, unused);
  std::vector<ListedImage> train;
  if (!trained) train = read_list(root, "train.txt", dataset_classes, false, problems, unused);
  if (!problems.empty())
    throw RunError("bad dataset (run Global.mode=check_dataset for a full report):\n" + problems.summary());
  if (val.empty()) throw RunError(root + "/val.txt lists no images");
  if (!trained && train.empty()) throw RunError(root + "/train.txt lists no images");
  auto labeled = [&](const std::vector<ListedImage>& images) {
    std::vector<LabeledImage> out;
    for (const auto& image : images) out.push_back({image.abs_path, label_tensor(image.labels, classes.num_classes)});
    return out;
  };
  TaskData data;
  data.model = trained ? *trained : configured_model(cfg, name(), classes.to_attributes(), eval_ops(cfg));
  data.val = std::make_shared<ImageListSource>(
      labeled(val), ImagePipeline::parse(data.model.transforms, trained ? "model.yml Transforms" : "eval transforms"));
  if (!trained) {
    data.train = std::make_shared<ImageListSource>(labeled(train),
                                                   ImagePipeline::parse(train_ops(cfg), "train transforms"));
    data.files["label_dict.txt"] = classes.label_dict();
    data.result_fields["label_dict"] = "label_dict.txt";
  }
  return data;
}

ModelInfo ImageClassTask::model_for_paddle_weights(const Config& cfg, const std::string& weights) const {
  const std::string label_file = paddle_weights_attribute_file(cfg, weights, "the class list", "label.txt");
  Problems problems;
  const auto labels = read_label_file(label_file, problems);
  if (!problems.empty()) throw RunError("bad class list:\n" + problems.summary());
  ModelInfo m = configured_model(cfg, name(), ClassLabels::for_training(cfg, labels).to_attributes(), eval_ops(cfg));
  Log::info("PaddlePaddle weights '" + weights + "' as " + m.model_name + " with the " +
            count(static_cast<int64_t>(labels.size()), "class") + " of '" + label_file + "'");
  return m;
}

namespace {
ImagePipeline preprocessing_of(const YAML::Node& inference_config) {
  const YAML::Node pre = inference_config.IsMap() ? inference_config["PreProcess"] : YAML::Node();
  if (!pre || !pre.IsMap() || !pre["transform_ops"])
    throw RunError("inference.yml: PreProcess.transform_ops is missing (the list of preprocessing ops)");
  return ImagePipeline::parse(pre["transform_ops"], "inference.yml PreProcess.transform_ops");
}
}  // namespace

ImageClassPredictor::ImageClassPredictor(const YAML::Node& inference_config, size_t caption_lines)
    : pipeline_(preprocessing_of(inference_config)), caption_lines_(caption_lines) {}

std::vector<std::string> ImageClassPredictor::collect_inputs(const std::string& input) const {
  return collect_image_inputs(input);
}

Sample ImageClassPredictor::read(const std::string& input) const {
  SampleRng unused(0);  // eval preprocessing draws no random numbers
  Sample s;
  s.tensors["image"] = pipeline_.image_tensor(read_image_rgb(input), unused);
  s.meta["image_path"] = input;
  return s;
}

void ImageClassPredictor::visualize(const std::string& input, const nlohmann::json& result,
                                    const std::string& output_stem) const {
  std::vector<std::string> lines;
  for (size_t k = 0; k < result["label_names"].size() && k < caption_lines_; ++k) {
    std::ostringstream line;
    line << result["label_names"][k].get<std::string>() << " " << std::fixed << std::setprecision(3)
         << result["scores"][k].get<double>();
    lines.push_back(line.str());
  }
  if (lines.empty()) lines.push_back("(no class above the threshold)");
  save_captioned_image(read_image_rgb(input), lines, output_stem + ".jpg");
}

nlohmann::ordered_json class_result(const std::vector<std::pair<int64_t, double>>& ranked, const ClassLabels& classes) {
  std::vector<int64_t> ids;
  std::vector<double> scores;
  std::vector<std::string> names;
  for (const auto& [id, score] : ranked) {
    ids.push_back(id);
    // Five decimals, as PaddleX rounds its result scores.
    scores.push_back(std::round(score * 1e5) / 1e5);
    names.push_back(classes.name(id));
  }
  return {{"class_ids", ids}, {"scores", scores}, {"label_names", names}};
}

}  // namespace paddlex::cls
