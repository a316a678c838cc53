#include "paddlex/datasets/image_io.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>

#include "paddlex/core/errors.h"

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

}  // namespace paddlex
