// Eval/predict preprocessing of image classification, convertible to and from the PaddleX op list
// (ResizeImage, CropImage, NormalizeImage, ToCHWImage) stored in model.yml and inference.yml.
#pragma once
#include <yaml-cpp/yaml.h>

#include <opencv2/core.hpp>

#include "paddlex/datasets/transforms.h"

namespace paddlex {
class Config;
}

namespace paddlex::cls {

struct ClsPreprocess {
  int resize_short = 256;
  int crop_size = 224;
  NormalizeSpec norm;

  static ClsPreprocess from_config(const Config& cfg);
  // Throws RunError naming `source` when an op is unknown or malformed.
  static ClsPreprocess from_ops(const YAML::Node& ops, const std::string& source);
  YAML::Node to_ops() const;
  // Decoded RGB image -> normalized CHW floats written to `dst` (3 * crop * crop).
  void apply(const cv::Mat& rgb, float* dst) const;
};

}  // namespace paddlex::cls
