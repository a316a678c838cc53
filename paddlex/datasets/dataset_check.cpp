#include "paddlex/datasets/dataset_check.h"

#include "paddlex/core/config.h"
#include "paddlex/core/logging.h"
#include "paddlex/datasets/image_io.h"
#include "paddlex/datasets/list_splitter.h"

namespace fs = std::filesystem;

namespace paddlex {

DatasetCheck::DatasetCheck(const Config& cfg, std::string root)
    : root_(std::move(root)), output_(cfg.get_string("Global.output")) {
  if (cfg.get_bool("CheckDataset.split.enable"))
    Log::info(split_train_val(root_, cfg.get_int("CheckDataset.split.train_percent"),
                              static_cast<uint64_t>(cfg.get_int("Global.seed"))));
  check_dir_ = output_ / "check_dataset";
  demo_dir_ = check_dir_ / "demo_img";
  fs::create_directories(demo_dir_);
}

bool DatasetCheck::wants_demo(const std::string& split) const {
  return !demos_.contains(split) || demos_[split].size() < kDemoImagesPerSplit;
}

void DatasetCheck::add_demo(const std::string& split, const std::string& rel_path, const cv::Mat& rgb,
                            const std::vector<std::string>& lines) {
  const fs::path dst = demo_dir_ / (split + "_" + fs::path(rel_path).filename().string());
  save_captioned_image(rgb, lines, dst.string());
  demos_[split].push_back(fs::relative(dst, output_).string());
}

const nlohmann::json& DatasetCheck::demo_paths(const std::string& split) const {
  static const nlohmann::json none = nlohmann::json::array();
  return demos_.contains(split) ? demos_[split] : none;
}

nlohmann::json DatasetCheck::result(nlohmann::json attributes, const std::string& dataset_type,
                                    const Problems& problems) const {
  for (const std::string split : {"train", "val"}) attributes[split + "_sample_paths"] = demo_paths(split);
  nlohmann::json result = {{"check_pass", problems.empty()},
                           {"attributes", attributes},
                           {"analysis", {{"histogram", fs::relative(histogram_path(), output_).string()}}},
                           {"dataset_path", root_},
                           {"show_type", "image"},
                           {"dataset_type", dataset_type}};
  if (!problems.empty()) {
    result["problems"] = problems.messages;
    result["problem_count"] = problems.count;
  }
  return result;
}

}  // namespace paddlex
