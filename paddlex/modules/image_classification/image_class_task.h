// What the two image classification tasks (single-label and multi-label) share: label.txt plus train/val image
// lists, the class attributes of model.yml, dataset checking, data loading and the image predictor. Each task
// supplies its list format, label tensor, op lists, model, loss, metric and postprocessing.
#pragma once
#include <string>
#include <vector>

#include "paddlex/datasets/image_lists.h"
#include "paddlex/datasets/image_ops.h"
#include "paddlex/task/task.h"

namespace paddlex::cls {

// Keys both classification tasks read: Train.num_classes, Train.mean, Train.std.
const KeyGroup& class_keys();
// Their cross-field checks (3 mean and std values).
void check_class_keys(const Config& cfg);
// The NormalizeImage op of Train.mean / Train.std.
YAML::Node normalize_op(const Config& cfg);

// The model attributes of a classifier (model.yml _Attributes): num_classes and the class names by id.
struct ClassLabels {
  int64_t num_classes = 0;
  std::vector<std::string> labels;  // from label.txt; may be shorter than num_classes
  YAML::Node to_attributes() const;
  // Throws RunError naming `source` when the attributes lack or mistype num_classes / labels.
  static ClassLabels from_attributes(const YAML::Node& attributes, const std::string& source);
  // Train.num_classes, or label.txt's count when null; never fewer than label.txt's ids (ConfigError).
  static ClassLabels for_training(const Config& cfg, const std::vector<std::string>& dataset_labels);
  std::string name(int64_t id) const;  // the label, or the id as text when label.txt had none
  std::string label_dict() const;      // label_dict.txt: "<id> <name>" per line
};

// An image and the ids of the classes it shows, as a list file gives them.
struct ListedImage {
  std::string rel_path, abs_path;
  std::vector<int64_t> labels;
};

class ImageClassTask : public Task {
 public:
  std::string sample_unit() const override { return "image"; }
  std::string describe(const ModelInfo& model) const override;
  nlohmann::json check_dataset(const Config& cfg) const override;
  TaskData load_data(const Config& cfg, const ModelInfo* trained) const override;
  // The class list from label_dict.txt next to the weights or in the PaddleX output directory above them (PaddleX
  // writes it there), else from the dataset's label.txt.
  ModelInfo model_for_paddle_weights(const Config& cfg, const std::string& weights) const override;

 protected:
  virtual std::string dataset_type() const = 0;  // ClsDataset | MLClsDataset
  // Reads <root>/<list>, reporting every bad line in `problems`; may add to check_dataset's `attributes`.
  virtual std::vector<ListedImage> read_list(const std::string& root, const std::string& list, int64_t num_classes,
                                             bool decode_images, Problems& problems,
                                             nlohmann::json& attributes) const = 0;
  // What the loss and metric read for an image with class ids `labels`.
  virtual torch::Tensor label_tensor(const std::vector<int64_t>& labels, int64_t num_classes) const = 0;
  // Op lists of the config: training augmentation, and the eval/inference preprocessing stored in model.yml.
  virtual YAML::Node train_ops(const Config& cfg) const = 0;
  virtual YAML::Node eval_ops(const Config& cfg) const = 0;
  // CheckDataset.convert with CheckDataset.convert.src_dataset_type; the default knows no source formats.
  virtual void convert_dataset(const Config& cfg, const std::string& root) const;
};

// The image part of both tasks' predictors: inputs, preprocessing by inference.yml's op list, and a picture with
// the reported labels and scores written under the image.
class ImageClassPredictor : public Predictor {
 public:
  // `caption_lines`: how many (label, score) pairs the picture shows.
  ImageClassPredictor(const YAML::Node& inference_config, size_t caption_lines);
  std::vector<std::string> collect_inputs(const std::string& input) const override;
  Sample read(const std::string& input) const override;
  void visualize(const std::string& input, const nlohmann::json& result,
                 const std::string& output_stem) const override;

 private:
  ImagePipeline pipeline_;
  size_t caption_lines_;
};

// result["class_ids"/"scores"/"label_names"] of one image from its (id, score) pairs, in the given order.
nlohmann::ordered_json class_result(const std::vector<std::pair<int64_t, double>>& ranked, const ClassLabels& classes);

}  // namespace paddlex::cls
