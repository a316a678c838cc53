#include "paddlex/modules/image_classification/cls_preprocess.h"

#include "paddlex/core/config.h"
#include "paddlex/core/errors.h"

namespace paddlex::cls {

ClsPreprocess ClsPreprocess::from_config(const Config& cfg) {
  ClsPreprocess p;
  p.resize_short = static_cast<int>(cfg.get_int("Train.resize_short"));
  p.crop_size = static_cast<int>(cfg.get_int("Train.input_size"));
  auto mean = cfg.get_float_list("Train.mean");
  auto std = cfg.get_float_list("Train.std");
  for (int c = 0; c < 3; ++c) {
    p.norm.mean[c] = mean[c];
    p.norm.std[c] = std[c];
  }
  return p;
}

ClsPreprocess ClsPreprocess::from_ops(const YAML::Node& ops, const std::string& source) {
  ClsPreprocess p;
  if (!ops || !ops.IsSequence()) throw RunError(source + ": no preprocessing op list");
  try {
    for (const auto& op : ops) {
      const std::string name = op.begin()->first.as<std::string>();
      const YAML::Node args = op.begin()->second;
      if (name == "ResizeImage") {
        p.resize_short = args["resize_short"].as<int>();
      } else if (name == "CropImage") {
        p.crop_size = args["size"].as<int>();
      } else if (name == "NormalizeImage") {
        auto mean = args["mean"].as<std::vector<double>>();
        auto std = args["std"].as<std::vector<double>>();
        if (mean.size() != 3 || std.size() != 3) throw RunError(source + ": NormalizeImage needs 3 mean and std values");
        for (int c = 0; c < 3; ++c) p.norm.mean[c] = mean[c], p.norm.std[c] = std[c];
      } else if (name != "ToCHWImage" && name != "DecodeImage") {
        throw RunError(source + ": unsupported preprocessing op '" + name + "'");
      }
    }
  } catch (const YAML::Exception& e) {
    throw RunError(at_line(source, e.mark.line + 1, "malformed preprocessing op: " + e.msg));
  }
  return p;
}

YAML::Node ClsPreprocess::to_ops() const {
  YAML::Node ops(YAML::NodeType::Sequence);
  YAML::Node resize, crop, normalize, chw;
  resize["ResizeImage"]["resize_short"] = resize_short;
  crop["CropImage"]["size"] = crop_size;
  YAML::Node n = normalize["NormalizeImage"];
  n["scale"] = 1.0 / 255.0;
  n["mean"] = std::vector<double>(norm.mean.begin(), norm.mean.end());
  n["std"] = std::vector<double>(norm.std.begin(), norm.std.end());
  n["order"] = "";
  n["channel_num"] = 3;
  chw["ToCHWImage"] = YAML::Node(YAML::NodeType::Null);
  ops.push_back(resize);
  ops.push_back(crop);
  ops.push_back(normalize);
  ops.push_back(chw);
  return ops;
}

void ClsPreprocess::apply(const cv::Mat& rgb, float* dst) const {
  normalize_to_chw(resize_short_center_crop(rgb, resize_short, crop_size), norm, dst);
}

}  // namespace paddlex::cls
