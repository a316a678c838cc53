// What every task's check_dataset shares: the optional re-split, the output directories and demo images, and the
// body of check_dataset_result.json.
#pragma once
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "paddlex/datasets/image_lists.h"

namespace paddlex {

class Config;

class DatasetCheck {
 public:
  static constexpr size_t kDemoImagesPerSplit = 10;  // as PaddleX
  // Splits the dataset at `root` when CheckDataset.split.enable says so and creates <output>/check_dataset/demo_img.
  DatasetCheck(const Config& cfg, std::string root);
  // Whether `split` still takes demo images (the first kDemoImagesPerSplit of it).
  bool wants_demo(const std::string& split) const;
  // Saves `rgb` captioned with `lines` as a demo image of `split`, named after `rel_path`.
  void add_demo(const std::string& split, const std::string& rel_path, const cv::Mat& rgb,
                const std::vector<std::string>& lines);
  const nlohmann::json& demo_paths(const std::string& split) const;
  // <output>/check_dataset/histogram.png
  std::string histogram_path() const { return (check_dir_ / "histogram.png").string(); }
  // check_dataset_result.json's body: check_pass, attributes (plus <split>_sample_paths), analysis.histogram,
  // dataset_path, show_type, dataset_type and, when any, the problems.
  nlohmann::json result(nlohmann::json attributes, const std::string& dataset_type, const Problems& problems) const;

 private:
  std::string root_;
  std::filesystem::path output_, check_dir_, demo_dir_;
  nlohmann::json demos_ = nlohmann::json::object();  // split -> paths relative to the output
};

}  // namespace paddlex
