#include "paddlex/modules/text_recognition/rec_task.h"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "paddlex/core/config.h"
#include "paddlex/core/errors.h"
#include "paddlex/core/logging.h"
#include "paddlex/core/plot.h"
#include "paddlex/core/text.h"
#include "paddlex/core/utf8.h"
#include "paddlex/datasets/dataset_check.h"
#include "paddlex/datasets/image_io.h"
#include "paddlex/datasets/image_lists.h"
#include "paddlex/modules/text_recognition/ctc.h"
#include "paddlex/modules/text_recognition/models/rec_heads.h"
#include "paddlex/modules/text_recognition/models/text_recognizer.h"
#include "paddlex/modules/text_recognition/rec_data.h"
#include "paddlex/modules/text_recognition/rec_metric.h"

namespace fs = std::filesystem;

namespace paddlex::ocr {
namespace {

constexpr const char* kDictFile = "dict.txt";
constexpr const char* kLabelDictFile = "label_dict.txt";  // PaddleX's copy of the dict in the output directory
// NRTRLoss's label smoothing.
constexpr double kNrtrSmoothing = 0.1;

KeyGroup build_keys() {
  using T = ValueType;
  return {
      "Text recognition",
      {
          range(key("Train.max_text_length", T::Int, "25",
                    "Longest label trained on (PaddleOCR's max_text_length); longer lines are left out"),
                3, 1000),
          range(key("Train.rec_image_shape", T::IntList, "[3, 48, 320]",
                    "Model input [channels, height, width]: height 48, lines wider than width are squeezed in train "
                    "and evaluate (predict pads to any width)"),
                1, 4096),
          range(key("Train.multi_scale_heights", T::IntList, "[32, 48, 64]",
                    "Train: input heights, one drawn per batch (PaddleOCR's MultiScaleSampler); [] = only 48"),
                16, 256),
          key("Train.rec_aug", T::Bool, "True",
              "Train: PaddleOCR's RecAug (TIA warps, crop, blur, colour, jitter, noise, inversion)"),
          range(key("Train.rec_con_aug_prob", T::Float, "0.5",
                    "Train: probability of RecConAug, which appends up to 2 other lines to a line"),
                0, 1),
          key("Train.use_space_char", T::Bool, "True", "Append the space character to dict.txt (PaddleX always does)"),
      }};
}

const KeyGroup& rec_keys() {
  static const KeyGroup group = build_keys();
  return group;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  return text;
}

// dict.txt's lines (the characters without the appended space); throws RunError listing the bad lines.
std::vector<std::string> read_dict_lines(const std::string& path) {
  if (!fs::is_regular_file(path))
    throw RunError(path +
                   ": the character dict is missing (one character per line; PaddleX's text_recognition "
                   "datasets keep it as dict.txt beside train.txt)");
  Problems problems;
  const auto dict = CharacterDict::read(path, false, problems);
  if (!problems.empty()) throw RunError("bad character dict:\n" + problems.summary());
  return dict.characters();
}

RecModelAttributes attributes_from_config(const Config& cfg, std::vector<std::string> dict_lines) {
  RecModelAttributes a;
  a.dict_lines = std::move(dict_lines);
  a.use_space_char = cfg.get_bool("Train.use_space_char");
  a.max_text_length = cfg.get_int("Train.max_text_length");
  const auto shape = cfg.get_int_list("Train.rec_image_shape");
  std::copy(shape.begin(), shape.end(), a.image_shape.begin());
  return a;
}

YAML::Node eval_transforms(const RecModelAttributes& a) {
  YAML::Node ops(YAML::NodeType::Sequence), decode, encode, resize, keep;
  decode["img_mode"] = "BGR";
  decode["channel_first"] = false;
  encode["gtc_encode"] = "NRTRLabelEncode";
  resize["image_shape"] = std::vector<int64_t>(a.image_shape.begin(), a.image_shape.end());
  keep["keep_keys"] = std::vector<std::string>{"image", "label_ctc", "label_gtc", "length", "valid_ratio"};
  for (const auto& [name, args] : std::vector<std::pair<std::string, YAML::Node>>{
           {"DecodeImage", decode}, {"MultiLabelEncode", encode}, {"RecResizeImg", resize}, {"KeepKeys", keep}}) {
    YAML::Node entry;
    entry[name] = args;
    ops.push_back(entry);
  }
  return ops;
}

// The image shape of an op list's RecResizeImg (model.yml Transforms, inference.yml PreProcess.transform_ops).
std::array<int64_t, 3> resize_shape(const YAML::Node& ops, const std::string& source) {
  if (ops && ops.IsSequence())
    for (const auto& entry : ops)
      if (entry.IsMap() && entry["RecResizeImg"]) {
        try {
          const auto shape = entry["RecResizeImg"]["image_shape"].as<std::vector<int64_t>>();
          if (shape.size() == 3 && shape[0] == 3 && shape[1] == 48 && shape[2] >= 8)
            return {shape[0], shape[1], shape[2]};
        } catch (const YAML::Exception&) {
        }
        throw RunError(source + ": RecResizeImg.image_shape must be [3, 48, width]");
      }
  throw RunError(source + ": no RecResizeImg op (the recognizer's input shape)");
}

// The lines of `list` that PaddleOCR trains on, encoded; the rest are counted in the log.
std::vector<TextLine> encoded_lines(const std::vector<TextRecSample>& samples, const CharacterDict& dict,
                                    int64_t max_text_length, const std::string& list_path) {
  std::vector<TextLine> lines;
  size_t longest = 0;
  for (const auto& s : samples) {
    if (auto ids = encode_label(s.text, dict, max_text_length))
      lines.push_back({s.abs_path, s.text, std::move(*ids)});
    else
      longest = std::max(longest, s.text.size());
  }
  if (const size_t dropped = samples.size() - lines.size(); dropped > 0) {
    std::string why = count(static_cast<int64_t>(dropped), "line") + " of " + list_path +
                      " left out (as PaddleOCR does): labels must hold 1 to " + std::to_string(max_text_length - 2) +
                      " characters of the dict";
    if (longest > 0) why += "; the longest is " + std::to_string(longest) + ": raise Train.max_text_length to keep it";
    if (lines.empty()) throw RunError("no usable line: " + why);
    Log::warn(why);
  }
  return lines;
}

class RecEvaluator : public Evaluator {
 public:
  explicit RecEvaluator(std::shared_ptr<const CharacterDict> dict) : dict_(std::move(dict)) {}
  void reset() override { index_.clear(), correct_.clear(), distance_.clear(); }
  void process(const Batch& batch, const TensorMap& outputs) override {
    const auto decoded = ctc_greedy_decode(outputs.at("probs"), *dict_);
    const auto labels = batch.at("label_ctc").to(torch::kCPU);
    auto ids = labels.accessor<int64_t, 2>();
    for (int64_t row = 0; row < labels.size(0); ++row) {
      // The ground truth as PaddleOCR decodes it from label_ctc: the dict-filtered label.
      std::u32string truth;
      for (int64_t t = 0; t < labels.size(1); ++t)
        if (ids[row][t] > 0) truth += dict_->character(ids[row][t]);
      const LineScore score = score_line(decoded[static_cast<size_t>(row)].text, truth);
      index_.push_back(batch.indices.empty() ? static_cast<int64_t>(index_.size())
                                             : batch.indices[static_cast<size_t>(row)]);
      correct_.push_back(score.correct ? 1 : 0);
      distance_.push_back(score.distance);
    }
  }
  TensorMap state() const override {
    return {{"index", torch::tensor(index_, torch::kInt64)},
            {"correct", torch::tensor(correct_, torch::kInt64)},
            {"distance", torch::tensor(distance_, torch::kDouble)}};
  }
  void merge(const TensorMap& other) override {
    const auto i = other.at("index"), c = other.at("correct"), d = other.at("distance");
    for (int64_t k = 0; k < i.size(0); ++k) {
      index_.push_back(i[k].item<int64_t>());
      correct_.push_back(c[k].item<int64_t>());
      distance_.push_back(d[k].item<double>());
    }
  }
  Metrics evaluate() const override {
    // Summed in dataset order, so a sharded evaluation gives the same bits as one process.
    std::vector<size_t> order(index_.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return index_[a] < index_[b]; });
    int64_t correct = 0;
    double distance = 0;
    for (size_t k : order) correct += correct_[k], distance += distance_[k];
    const double n = static_cast<double>(order.size()) + RecMetric::kEps;
    return {{{"acc", static_cast<double>(correct) / n}, {"norm_edit_dis", 1.0 - distance / n}}, "acc", true};
  }

 private:
  std::shared_ptr<const CharacterDict> dict_;
  std::vector<int64_t> index_, correct_;
  std::vector<double> distance_;  // normalized edit distance per line
};

class RecPredictor : public Predictor {
 public:
  RecPredictor(std::shared_ptr<const CharacterDict> dict, std::array<int64_t, 3> shape)
      : dict_(std::move(dict)), shape_(shape) {}
  std::vector<std::string> collect_inputs(const std::string& input) const override {
    return collect_image_inputs(input);
  }
  Sample read(const std::string& input) const override {
    Sample s;
    s.tensors["image"] = resize_norm_image_for_predict(read_image_bgr(input), shape_[1], shape_[2]);
    s.meta["image_path"] = input;
    return s;
  }
  // PaddleX's ToBatch: every line zero-padded on the right to the widest of the batch.
  Batch collate(std::vector<Sample> samples) const override {
    int64_t width = 0;
    for (const auto& s : samples) width = std::max(width, s.tensors.at("image").size(2));
    for (auto& s : samples) {
      auto& image = s.tensors.at("image");
      if (image.size(2) < width) image = torch::constant_pad_nd(image, {0, width - image.size(2)});
    }
    return stack_samples(std::move(samples));
  }
  std::vector<nlohmann::ordered_json> postprocess(const Batch&, const TensorMap& outputs) const override {
    std::vector<nlohmann::ordered_json> rows;
    for (const auto& d : ctc_greedy_decode(outputs.at("probs"), *dict_))
      rows.push_back({{"rec_text", utf8_encode(d.text)}, {"rec_score", d.score}});
    return rows;
  }
  void visualize(const std::string& input, const nlohmann::json& result,
                 const std::string& output_stem) const override {
    std::ostringstream line;
    line << result["rec_text"].get<std::string>() << "  (" << std::fixed << std::setprecision(3)
         << result["rec_score"].get<double>() << ")";
    save_captioned_image(read_image_rgb(input), {line.str()}, output_stem + ".jpg");
  }

 private:
  std::shared_ptr<const CharacterDict> dict_;
  std::array<int64_t, 3> shape_;
};

}  // namespace

std::shared_ptr<const CharacterDict> RecModelAttributes::dict() const {
  std::vector<std::string> characters = dict_lines;
  if (use_space_char) characters.push_back(" ");
  return std::make_shared<CharacterDict>(characters);
}

YAML::Node RecModelAttributes::to_attributes() const {
  YAML::Node a;
  a["character_dict"] = dict_lines;
  a["use_space_char"] = use_space_char;
  a["max_text_length"] = max_text_length;
  a["image_shape"] = std::vector<int64_t>(image_shape.begin(), image_shape.end());
  return a;
}

RecModelAttributes RecModelAttributes::from_attributes(const YAML::Node& attributes, const std::string& source_file) {
  const std::string source = source_file.empty() ? "the model's attributes" : source_file;
  RecModelAttributes a;
  try {
    a.dict_lines = attributes["character_dict"].as<std::vector<std::string>>();
    a.use_space_char = attributes["use_space_char"].as<bool>();
    a.max_text_length = attributes["max_text_length"].as<int64_t>();
    const auto shape = attributes["image_shape"].as<std::vector<int64_t>>();
    if (shape.size() != 3) throw YAML::Exception(YAML::Mark::null_mark(), "image_shape");
    std::copy(shape.begin(), shape.end(), a.image_shape.begin());
  } catch (const YAML::Exception&) {
    throw RunError(source +
                   ": _Attributes needs character_dict (a list of characters), use_space_char (a bool), "
                   "max_text_length (an integer) and image_shape ([3, 48, width])");
  }
  try {
    a.dict();
  } catch (const std::exception& e) {
    throw RunError(source + ": _Attributes.character_dict: " + e.what());
  }
  return a;
}

std::vector<std::string> TextRecTask::model_names() const { return text_recognizer_names(); }

std::vector<const KeyGroup*> TextRecTask::config_keys() const { return {&rec_keys()}; }

void TextRecTask::check_config(const Config& cfg) const {
  const auto shape = cfg.get_int_list("Train.rec_image_shape");
  if (shape.size() != 3 || shape[0] != 3 || shape[1] != 48 || shape[2] < 8)
    throw ConfigError(cfg.origin("Train.rec_image_shape") +
                      ": Train.rec_image_shape must be [3, 48, width]: the recognizer reads 48-pixel-high 3-channel "
                      "lines (its eval pooling needs that height)");
  for (int64_t h : cfg.get_int_list("Train.multi_scale_heights"))
    if (h % 16 != 0)
      throw ConfigError(cfg.origin("Train.multi_scale_heights") + ": Train.multi_scale_heights: " + std::to_string(h) +
                        " is not a multiple of 16 (the backbone halves the height 4 times)");
}

std::string TextRecTask::describe(const ModelInfo& model) const {
  const auto a = RecModelAttributes::from_attributes(model.attributes, model.source);
  return count(a.dict()->num_classes() - 1, "character");
}

nlohmann::json TextRecTask::check_dataset(const Config& cfg) const {
  const std::string root = dataset_root(cfg);
  if (cfg.get_bool("CheckDataset.convert.enable"))
    throw RunError(cfg.origin("CheckDataset.convert.enable") +
                   ": CheckDataset.convert.enable: text_recognition has "
                   "no source formats to convert from; set it to False and provide dict.txt, train.txt and val.txt");
  DatasetCheck check(cfg, root);
  Problems problems;
  const std::string dict_path = (fs::path(root) / kDictFile).string();
  std::optional<CharacterDict> dict;
  if (fs::is_regular_file(dict_path))
    dict = CharacterDict::read(dict_path, cfg.get_bool("Train.use_space_char"), problems);
  else
    problems.add(dict_path + ": file not found (the character dict, one character per line)");
  const int64_t max_length = cfg.get_int("Train.max_text_length");
  nlohmann::json attributes = {{"dict_file", dict_path}, {"num_characters", dict ? dict->num_classes() - 1 : 0}};
  std::vector<std::vector<int64_t>> lengths;  // per split, lines per text length
  for (const std::string split : {"train", "val"}) {
    const std::string list = (fs::path(root) / (split + ".txt")).string();
    const auto samples = read_text_rec_list(root, split + ".txt", true, problems);
    std::vector<int64_t> per_length;
    int64_t too_long = 0;
    for (const auto& s : samples) {
      if (dict) {
        std::u32string missing;
        for (char32_t c : s.text)
          if (dict->index_of(c) == 0 && missing.find(c) == std::u32string::npos) missing += c;
        if (!missing.empty())
          problems.add(list + ":" + std::to_string(s.line) + ": characters not in dict.txt: '" + utf8_encode(missing) +
                       "' (PaddleOCR would silently drop them from the label)");
      }
      if (per_length.size() <= s.text.size()) per_length.resize(s.text.size() + 1, 0);
      ++per_length[s.text.size()];
      too_long += static_cast<int64_t>(s.text.size()) > max_length - 2;
      if (check.wants_demo(split))
        check.add_demo(split, s.rel_path, read_image_rgb(s.abs_path), {utf8_encode(s.text)});
    }
    if (too_long > 0)
      Log::warn(split + ".txt: " + count(too_long, "line") + " longer than " + std::to_string(max_length - 2) +
                " characters would be left out of training (Train.max_text_length=" + std::to_string(max_length) + ")");
    attributes[split + "_samples"] = samples.size();
    attributes[split + "_too_long_samples"] = too_long;
    lengths.push_back(per_length);
  }
  const size_t bins = std::max(lengths[0].size(), lengths[1].size());
  for (auto& l : lengths) l.resize(bins, 0);
  if (bins > 0) draw_class_histogram({"train", "val"}, lengths, check.histogram_path());
  return check.result(attributes, "MSTextRecDataset", problems);
}

TaskData TextRecTask::load_data(const Config& cfg, const ModelInfo* trained) const {
  const std::string root = dataset_root(cfg);
  const RecModelAttributes attributes =
      trained ? RecModelAttributes::from_attributes(trained->attributes, trained->source)
              : attributes_from_config(cfg, read_dict_lines((fs::path(root) / kDictFile).string()));
  const auto dict = attributes.dict();
  Problems problems;
  const auto val = read_text_rec_list(root, "val.txt", false, problems);
  std::vector<TextRecSample> train;
  if (!trained) train = read_text_rec_list(root, "train.txt", false, problems);
  if (!problems.empty())
    throw RunError("bad dataset (run Global.mode=check_dataset for a full report):\n" + problems.summary());
  if (val.empty()) throw RunError(root + "/val.txt lists no lines");
  if (!trained && train.empty()) throw RunError(root + "/train.txt lists no lines");

  RecDataOptions options;
  options.image_shape = attributes.image_shape;
  options.max_text_length = attributes.max_text_length;
  TaskData data;
  data.model =
      trained ? *trained : configured_model(cfg, name(), attributes.to_attributes(), eval_transforms(attributes));
  data.val = std::make_shared<TextRecSource>(encoded_lines(val, *dict, attributes.max_text_length, root + "/val.txt"),
                                             dict, options, false);
  if (!trained) {
    options.heights = cfg.get_int_list("Train.multi_scale_heights");
    options.rec_aug = cfg.get_bool("Train.rec_aug");
    options.con_aug_prob = cfg.get_float("Train.rec_con_aug_prob");
    data.train = std::make_shared<TextRecSource>(
        encoded_lines(train, *dict, attributes.max_text_length, root + "/train.txt"), dict, options, true);
    data.files[kLabelDictFile] = joined(attributes.dict_lines);
    data.result_fields["label_dict"] = kLabelDictFile;
  }
  return data;
}

ModelInfo TextRecTask::model_for_paddle_weights(const Config& cfg, const std::string& weights) const {
  const std::string dict_file = paddle_weights_attribute_file(cfg, weights, "the character dict", kDictFile);
  const auto attributes = attributes_from_config(cfg, read_dict_lines(dict_file));
  ModelInfo m = configured_model(cfg, name(), attributes.to_attributes(), eval_transforms(attributes));
  Log::info("PaddlePaddle weights '" + weights + "' as " + m.model_name + " with the " +
            count(static_cast<int64_t>(attributes.dict_lines.size()), "character") + " of '" + dict_file + "'");
  return m;
}

std::shared_ptr<Network> TextRecTask::build_model(const ModelInfo& model) const {
  const auto a = RecModelAttributes::from_attributes(model.attributes, model.source);
  return create_text_recognizer(model.model_name, a.dict()->num_classes());
}

Criterion TextRecTask::make_criterion(const Config&, const ModelInfo&) const {
  return [](const TensorMap& outputs, const Batch& batch) -> LossTerms {
    const auto& ctc_logits = outputs.at("ctc_logits");  // [N, T, C]
    const auto device = ctc_logits.device();
    const auto length = batch.at("length").to(device);
    const int64_t n = ctc_logits.size(0), steps = ctc_logits.size(1);
    // PaddlePaddle's warpctc normalizes the logits itself; every sample uses all T steps; the loss is summed
    // over a sample's steps and averaged over the batch. zero_infinity only guards labels longer than T.
    const auto log_probs = torch::log_softmax(ctc_logits, 2).transpose(0, 1);
    const auto ctc = torch::ctc_loss(log_probs, batch.at("label_ctc").to(device),
                                     torch::full({n}, steps, torch::kInt64), length.cpu(), 0, at::Reduction::None, true)
                         .mean();
    // NRTRLoss: label-smoothed cross-entropy over the decoder's targets (after <s>, through </s>), padding left
    // out, averaged over every target position of the batch.
    const auto& nrtr_logits = outputs.at("nrtr_logits");  // [N, S, V]
    const int64_t positions = nrtr_logits.size(1), vocab = nrtr_logits.size(2);
    const auto target = batch.at("label_gtc").to(device).slice(1, 1, 1 + positions).reshape({-1});
    const auto log_p = torch::log_softmax(nrtr_logits.reshape({-1, vocab}), 1);
    const auto one_hot = torch::one_hot(target, vocab).to(log_p.dtype());
    const auto smoothed = one_hot * (1.0 - kNrtrSmoothing) + (1.0 - one_hot) * (kNrtrSmoothing / (vocab - 1));
    const auto per_position = -(smoothed * log_p).sum(1);
    const auto keep = (target != NrtrTokens::kPad).to(log_p.dtype());
    const auto nrtr = (per_position * keep).sum() / keep.sum();
    return {{"CTCLoss", ctc}, {"NRTRLoss", nrtr}};
  };
}

std::unique_ptr<Evaluator> TextRecTask::make_evaluator(const Config&, const ModelInfo& model) const {
  return std::make_unique<RecEvaluator>(RecModelAttributes::from_attributes(model.attributes, model.source).dict());
}

YAML::Node TextRecTask::inference_config(const ModelInfo& model) const {
  const auto a = RecModelAttributes::from_attributes(model.attributes, model.source);
  YAML::Node root;
  root["Global"]["model_name"] = model.model_name;
  root["PreProcess"]["transform_ops"] = model.transforms;
  root["PostProcess"]["name"] = "CTCLabelDecode";
  root["PostProcess"]["character_dict"] = a.dict_lines;
  // PaddleX's predictor always appends the space; a model trained without it says so.
  root["PostProcess"]["use_space_char"] = a.use_space_char;
  return root;
}

std::unique_ptr<Predictor> TextRecTask::make_predictor(const Config&, const ModelInfo&,
                                                       const YAML::Node& inference_config) const {
  const YAML::Node post = inference_config.IsMap() ? inference_config["PostProcess"] : YAML::Node();
  RecModelAttributes a;
  try {
    if (!post || post["name"].as<std::string>() != "CTCLabelDecode") throw YAML::Exception(YAML::Mark::null_mark(), "");
    a.dict_lines = post["character_dict"].as<std::vector<std::string>>();
    a.use_space_char = post["use_space_char"] ? post["use_space_char"].as<bool>() : true;
  } catch (const YAML::Exception&) {
    throw RunError("inference.yml: PostProcess needs name: CTCLabelDecode and character_dict (a list of characters)");
  }
  const YAML::Node pre = inference_config["PreProcess"];
  const auto shape = resize_shape(pre ? pre["transform_ops"] : YAML::Node(), "inference.yml PreProcess.transform_ops");
  std::shared_ptr<const CharacterDict> dict;
  try {
    dict = a.dict();
  } catch (const std::exception& e) {
    throw RunError(std::string("inference.yml: PostProcess.character_dict: ") + e.what());
  }
  return std::make_unique<RecPredictor>(dict, shape);
}

}  // namespace paddlex::ocr
