#include "paddlex/modules/image_multilabel_classification/coco_to_mlcls.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "paddlex/core/errors.h"
#include "paddlex/core/files.h"
#include "paddlex/datasets/coco.h"

namespace fs = std::filesystem;

namespace paddlex::mlcls {
namespace {

std::string annotation_file(const std::string& root, const std::string& split) {
  for (const char* prefix : {"instance_", "instances_"}) {
    const fs::path p = fs::path(root) / "annotations" / (prefix + split + ".json");
    if (fs::is_regular_file(p)) return p.string();
  }
  throw RunError("CheckDataset.convert (COCO): " + (fs::path(root) / "annotations" / ("instance_" + split + ".json")).string() +
                 " not found (instances_" + split + ".json is accepted too)");
}

}  // namespace

std::string convert_coco_to_mlcls(const std::string& root) {
  std::map<std::string, std::string> lists;
  std::vector<CocoCategory> categories;
  std::string summary;
  for (const std::string split : {"train", "val"}) {
    const std::string path = annotation_file(root, split);
    const CocoFile coco = read_coco_file(path);
    if (split == "train") {
      categories = coco.categories;
      if (categories.empty()) throw RunError(path + ": categories is empty");
    } else {
      bool same = coco.categories.size() == categories.size();
      for (size_t i = 0; same && i < categories.size(); ++i)
        same = coco.categories[i].id == categories[i].id && coco.categories[i].name == categories[i].name;
      if (!same)
        throw RunError(path + ": categories differ from instance_train.json's (both splits need the same list, in "
                              "the same order)");
    }
    std::map<int64_t, size_t> index_of;  // category id -> contiguous index
    for (size_t i = 0; i < categories.size(); ++i) index_of[categories[i].id] = i;
    std::map<int64_t, std::set<size_t>> labels;  // image id -> classes
    for (const auto& a : coco.annotations) labels[a.image_id].insert(index_of.at(a.category_id));
    std::vector<CocoImage> images = coco.images;
    std::sort(images.begin(), images.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    std::string text;
    size_t written = 0, unannotated = 0, missing = 0;
    for (const auto& im : images) {
      if (!labels.count(im.id)) {
        ++unannotated;
        continue;
      }
      if (!fs::is_regular_file(fs::path(root) / "images" / im.file_name)) {
        ++missing;
        continue;
      }
      text += "images/" + im.file_name + "\t";
      for (size_t c = 0; c < categories.size(); ++c) text += (c ? "," : "") + std::string(labels[im.id].count(c) ? "1" : "0");
      text += "\n";
      ++written;
    }
    if (written == 0) throw RunError(path + ": no annotated image with a file under " + root + "/images");
    lists[split + ".txt"] = text;
    summary += (summary.empty() ? "" : "; ") + split + ": " + std::to_string(written) + " images" +
               (unannotated ? ", " + std::to_string(unannotated) + " without annotations left out" : "") +
               (missing ? ", " + std::to_string(missing) + " without an image file left out" : "");
  }
  std::string label_text;
  for (size_t i = 0; i < categories.size(); ++i) label_text += std::to_string(i) + " " + categories[i].name + "\n";
  lists["label.txt"] = label_text;
  for (const auto& [name, content] : lists) {
    const fs::path target = fs::path(root) / name, backup = fs::path(root) / (name + ".bak");
    if (fs::exists(target) && !fs::exists(backup)) fs::copy_file(target, backup);
    write_file_atomic(target.string(), content);
  }
  return "converted COCO to MLClsDataset: " + std::to_string(categories.size()) + " classes; " + summary;
}

}  // namespace paddlex::mlcls
