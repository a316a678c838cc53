// check_dataset mode for ClsDataset: every line checked, histogram and demo images written.
#include <filesystem>

#include "paddlex/core/config.h"
#include "paddlex/core/errors.h"
#include "paddlex/core/logging.h"
#include "paddlex/datasets/cls_dataset.h"
#include "paddlex/datasets/histogram.h"
#include "paddlex/datasets/list_splitter.h"
#include "paddlex/modules/image_classification/cls_task.h"

namespace fs = std::filesystem;

namespace paddlex::cls {
namespace {
constexpr size_t kDemoImagesPerSplit = 10;  // as PaddleX
}

nlohmann::json check_cls_dataset(const Config& cfg) {
  if (cfg.is_null("Global.dataset_dir")) throw ConfigError(cfg.origin("Global.dataset_dir") + ": Global.dataset_dir is required");
  const std::string root = cfg.get_string("Global.dataset_dir");
  if (!fs::is_directory(root)) throw RunError("Global.dataset_dir: '" + root + "' is not a directory");
  if (cfg.get_bool("CheckDataset.convert.enable"))
    throw RunError("CheckDataset.convert.enable: image classification has no source formats to convert from; "
                   "set it to False and provide label.txt, train.txt and val.txt");
  if (cfg.get_bool("CheckDataset.split.enable"))
    Log::info(split_train_val(root, cfg.get_int("CheckDataset.split.train_percent"),
                              static_cast<uint64_t>(cfg.get_int("Global.seed"))));

  const std::string output = cfg.get_string("Global.output");
  const fs::path check_dir = fs::path(output) / "check_dataset";
  const fs::path demo_dir = check_dir / "demo_img";
  fs::create_directories(demo_dir);

  Problems problems;
  const std::string label_file = (fs::path(root) / "label.txt").string();
  auto labels = read_label_file(label_file, problems);
  ClsListOptions opts;
  opts.num_classes = labels.empty() ? -1 : static_cast<int64_t>(labels.size());
  opts.decode_images = true;
  nlohmann::json attributes = {{"label_file", label_file}, {"num_classes", labels.size()}};
  std::vector<std::vector<int64_t>> counts;
  for (const char* split : {"train", "val"}) {
    auto samples = read_cls_list(root, std::string(split) + ".txt", opts, problems);
    std::vector<int64_t> per_class(labels.size(), 0);
    nlohmann::json demo_paths = nlohmann::json::array();
    for (const auto& s : samples) {
      if (s.label < static_cast<int64_t>(per_class.size())) ++per_class[static_cast<size_t>(s.label)];
      if (demo_paths.size() < kDemoImagesPerSplit) {
        const fs::path dst = demo_dir / (std::string(split) + "_" + fs::path(s.rel_path).filename().string());
        fs::copy_file(s.abs_path, dst, fs::copy_options::overwrite_existing);
        demo_paths.push_back(fs::relative(dst, output).string());
      }
    }
    for (size_t c = 0; c < per_class.size(); ++c)
      if (per_class[c] == 0 && std::string(split) == "train")
        Log::warn(std::string(split) + ".txt has no sample of class " + std::to_string(c) + " (" + labels[c] + ")");
    attributes[std::string(split) + "_samples"] = samples.size();
    attributes[std::string(split) + "_sample_paths"] = demo_paths;
    counts.push_back(per_class);
  }
  const fs::path histogram = check_dir / "histogram.png";
  if (!labels.empty()) draw_class_histogram({"train", "val"}, counts, histogram.string());

  nlohmann::json result = {{"check_pass", problems.empty()},
                           {"attributes", attributes},
                           {"analysis", {{"histogram", fs::relative(histogram, output).string()}}},
                           {"dataset_path", root},
                           {"show_type", "image"},
                           {"dataset_type", "ClsDataset"}};
  if (!problems.empty()) {
    result["problems"] = problems.messages;
    result["problem_count"] = problems.count;
  }
  return result;
}

}  // namespace paddlex::cls
