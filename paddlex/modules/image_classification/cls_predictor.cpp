// predict mode for image classification: top-k per image, printed and saved as <stem>.json / <stem>.jpg.
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "paddlex/core/config.h"
#include "paddlex/core/errors.h"
#include "paddlex/core/files.h"
#include "paddlex/core/logging.h"
#include "paddlex/core/text.h"
#include "paddlex/datasets/cls_dataset.h"
#include "paddlex/datasets/image_io.h"
#include "paddlex/modules/image_classification/cls_preprocess.h"
#include "paddlex/modules/image_classification/cls_task.h"

namespace fs = std::filesystem;

namespace paddlex::cls {
namespace {

bool is_image_file(const fs::path& p) {
  const std::string ext = ascii_lower(p.extension().string());
  for (const char* e : {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
    if (ext == e) return true;
  return false;
}

// Predict.input: one image, a directory (its images, sorted), or a .txt list (first field per line,
// relative to the list's directory).
std::vector<std::string> collect_inputs(const std::string& input) {
  std::vector<std::string> paths;
  if (fs::is_directory(input)) {
    for (const auto& e : fs::directory_iterator(input))
      if (e.is_regular_file() && is_image_file(e.path())) paths.push_back(e.path().string());
    std::sort(paths.begin(), paths.end());
    if (paths.empty()) throw RunError("Predict.input: directory '" + input + "' holds no images");
  } else if (fs::path(input).extension() == ".txt") {
    std::ifstream in(input);
    if (!in) throw RunError("Predict.input: cannot read list '" + input + "'");
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream ss(line);
      std::string first;
      if (ss >> first) paths.push_back((fs::path(input).parent_path() / first).string());
    }
    if (paths.empty()) throw RunError("Predict.input: list '" + input + "' names no images");
  } else {
    if (!fs::is_regular_file(input)) throw RunError("Predict.input: '" + input + "' does not exist");
    paths.push_back(input);
  }
  return paths;
}

std::string label_name(const std::vector<std::string>& labels, int64_t id) {
  return id < static_cast<int64_t>(labels.size()) ? labels[static_cast<size_t>(id)] : std::to_string(id);
}

void save_visualization(const cv::Mat& rgb, const std::string& text, const std::string& path) {
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  // Tiny images (e.g. 28x28) are enlarged so the label stays readable.
  const int short_side = std::min(bgr.cols, bgr.rows);
  if (short_side < 256) {
    const double up = 256.0 / short_side;
    cv::resize(bgr, bgr, cv::Size(), up, up, cv::INTER_NEAREST);
  }
  const double scale = std::max(0.4, std::min(bgr.cols, bgr.rows) / 400.0);
  int baseline = 0;
  cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &baseline);
  cv::rectangle(bgr, cv::Rect(0, 0, std::min(bgr.cols, size.width + 8), size.height + baseline + 8),
                cv::Scalar(0, 0, 0), cv::FILLED);
  cv::putText(bgr, text, {4, size.height + 4}, cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(0, 255, 0), 1,
              cv::LINE_AA);
  if (!cv::imwrite(path, bgr)) throw RunError("cannot write '" + path + "'");
}

}  // namespace

nlohmann::json predict_cls(const Config& cfg, Network& model, const ModelDescription& description,
                           const YAML::Node& inference_config) {
  if (cfg.is_null("Predict.input")) throw ConfigError(cfg.origin("Predict.input") + ": Predict.input is required");
  const auto inputs = collect_inputs(cfg.get_string("Predict.input"));
  const ClsPreprocess pre = ClsPreprocess::from_ops(inference_config["PreProcess"]["transform_ops"], "inference config");
  int64_t topk = inference_config["PostProcess"]["Topk"]["topk"].as<int64_t>();
  topk = std::min<int64_t>(cfg.get_int_or("Predict.topk", topk), description.num_classes);
  const int64_t batch_size = cfg.get_int("Predict.batch_size");
  const std::string output = cfg.get_string("Global.output");
  ensure_writable_dir(output);
  torch::NoGradGuard no_grad;
  model.eval();
  const torch::Device device = model.parameters().front().device();
  nlohmann::json results = nlohmann::json::array();
  for (size_t begin = 0; begin < inputs.size(); begin += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(inputs.size(), begin + static_cast<size_t>(batch_size));
    std::vector<cv::Mat> images;
    auto batch = torch::empty({static_cast<int64_t>(end - begin), 3, pre.crop_size, pre.crop_size});
    for (size_t i = begin; i < end; ++i) {
      images.push_back(read_image_rgb(inputs[i]));
      pre.apply(images.back(), batch[static_cast<int64_t>(i - begin)].data_ptr<float>());
    }
    auto probs = torch::softmax(model.forward(batch.to(device)), 1).to(torch::kCPU);
    auto [scores, ids] = probs.topk(topk, 1);
    for (size_t i = begin; i < end; ++i) {
      const int64_t row = static_cast<int64_t>(i - begin);
      nlohmann::json r = {{"input_path", inputs[i]}};
      std::vector<int64_t> class_ids;
      std::vector<double> class_scores;
      std::vector<std::string> names;
      for (int64_t k = 0; k < topk; ++k) {
        class_ids.push_back(ids[row][k].item<int64_t>());
        class_scores.push_back(scores[row][k].item<double>());
        names.push_back(label_name(description.labels, class_ids.back()));
      }
      r["class_ids"] = class_ids;
      r["scores"] = class_scores;
      r["label_names"] = names;
      const std::string stem = fs::path(inputs[i]).stem().string();
      write_json_atomic((fs::path(output) / (stem + ".json")).string(), r);
      std::ostringstream top;
      top << names.front() << " " << std::fixed << std::setprecision(3) << class_scores.front();
      save_visualization(images[i - begin], top.str(), (fs::path(output) / (stem + ".jpg")).string());
      Log::info(inputs[i] + ": " + r.dump());
      results.push_back(r);
    }
  }
  return {{"results", results}};
}

}  // namespace paddlex::cls
