#include "paddlex/datasets/image_io.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "paddlex/core/errors.h"
#include "paddlex/core/text.h"

namespace fs = std::filesystem;

namespace paddlex {

cv::Mat try_read_image_rgb(const std::string& path) {
  cv::Mat raw;
  try {
    raw = cv::imread(path, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception&) {
    return {};
  }
  if (raw.empty()) return {};
  if (raw.depth() == CV_16U) raw.convertTo(raw, CV_8U, 1.0 / 257.0);
  if (raw.depth() != CV_8U) return {};
  cv::Mat rgb;
  switch (raw.channels()) {
    case 1: cv::cvtColor(raw, rgb, cv::COLOR_GRAY2RGB); break;
    case 3: cv::cvtColor(raw, rgb, cv::COLOR_BGR2RGB); break;
    case 4: cv::cvtColor(raw, rgb, cv::COLOR_BGRA2RGB); break;
    default: return {};
  }
  return rgb;
}

cv::Mat read_image_rgb(const std::string& path) {
  cv::Mat img = try_read_image_rgb(path);
  if (img.empty()) {
    if (!std::filesystem::exists(path)) throw RunError("image file not found: '" + path + "'");
    throw RunError("cannot decode image '" + path + "' (corrupt or not an image)");
  }
  return img;
}

namespace {
bool is_image_file(const fs::path& p) {
  const std::string ext = ascii_lower(p.extension().string());
  for (const char* e : {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
    if (ext == e) return true;
  return false;
}
}  // namespace

std::vector<std::string> collect_image_inputs(const std::string& input) {
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

void save_captioned_image(const cv::Mat& rgb, const std::vector<std::string>& lines, const std::string& path) {
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  const int short_side = std::min(bgr.cols, bgr.rows);
  if (short_side < 256) {
    const double up = 256.0 / short_side;
    cv::resize(bgr, bgr, cv::Size(), up, up, cv::INTER_NEAREST);
  }
  const double scale = std::max(0.45, std::min(bgr.cols, bgr.rows) / 600.0);
  int baseline = 0;
  const int row_h = cv::getTextSize("Ag", cv::FONT_HERSHEY_SIMPLEX, scale, 1, &baseline).height + baseline + 8;
  cv::Mat canvas(bgr.rows + row_h * static_cast<int>(lines.size()), bgr.cols, CV_8UC3, cv::Scalar(40, 40, 40));
  bgr.copyTo(canvas(cv::Rect(0, 0, bgr.cols, bgr.rows)));
  for (size_t i = 0; i < lines.size(); ++i)
    cv::putText(canvas, lines[i], {6, bgr.rows + row_h * static_cast<int>(i + 1) - baseline - 4}, cv::FONT_HERSHEY_SIMPLEX,
                scale, cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
  if (!cv::imwrite(path, canvas)) throw RunError("cannot write '" + path + "'");
}

}  // namespace paddlex
