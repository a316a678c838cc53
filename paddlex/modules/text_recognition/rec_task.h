// Text recognition (PaddleX text_recognition, MSTextRecDataset) plugged into the engine: PP-OCRv4 recognizers
// trained with CTC + NRTR as PaddleOCR trains them, evaluated with RecMetric, predicting rec_text / rec_score.
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "paddlex/modules/text_recognition/character_dict.h"
#include "paddlex/task/task.h"

namespace paddlex::ocr {

// What model.yml's _Attributes say about a recognizer: its dict (dict.txt's lines; the space is appended when
// use_space_char), the longest label it trains on and its input shape.
struct RecModelAttributes {
  std::vector<std::string> dict_lines;
  bool use_space_char = true;
  int64_t max_text_length = 25;
  std::array<int64_t, 3> image_shape = {3, 48, 320};

  std::shared_ptr<const CharacterDict> dict() const;
  YAML::Node to_attributes() const;
  // Throws RunError naming `source` when a key is missing or mistyped.
  static RecModelAttributes from_attributes(const YAML::Node& attributes, const std::string& source);
};

class TextRecTask : public Task {
 public:
  std::string name() const override { return "text_recognition"; }
  std::vector<std::string> model_names() const override;
  std::vector<const KeyGroup*> config_keys() const override;
  void check_config(const Config& cfg) const override;
  std::string sample_unit() const override { return "line"; }
  std::string describe(const ModelInfo& model) const override;
  nlohmann::json check_dataset(const Config& cfg) const override;
  TaskData load_data(const Config& cfg, const ModelInfo* trained) const override;
  // The dict from label_dict.txt next to the weights or in the PaddleX output directory above them, else the
  // dataset's dict.txt.
  ModelInfo model_for_paddle_weights(const Config& cfg, const std::string& weights) const override;
  std::shared_ptr<Network> build_model(const ModelInfo& model) const override;
  Criterion make_criterion(const Config& cfg, const ModelInfo& model) const override;
  std::unique_ptr<Evaluator> make_evaluator(const Config& cfg, const ModelInfo& model) const override;
  YAML::Node inference_config(const ModelInfo& model) const override;
  std::unique_ptr<Predictor> make_predictor(const Config& cfg, const ModelInfo& model,
                                            const YAML::Node& inference_config) const override;
};

}  // namespace paddlex::ocr
