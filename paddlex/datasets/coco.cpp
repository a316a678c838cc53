#include "paddlex/datasets/coco.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "paddlex/core/errors.h"
#include "paddlex/core/files.h"

namespace paddlex {
namespace {

using nlohmann::json;

// Line and column of the character at 1-based position `byte` in `text` (nlohmann's parse_error::byte).
std::string line_column(const std::string& text, size_t byte) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') ++line, column = 1;
    else ++column;
  }
  return std::to_string(line) + ":" + std::to_string(column);
}

class Fields {
 public:
  explicit Fields(std::string path) : path_(std::move(path)) {}
  [[noreturn]] void fail(const std::string& where, const std::string& why) const {
    throw RunError(path_ + ": " + where + ": " + why);
  }
  const json& array(const json& root, const char* key) const {
    if (!root.contains(key) || !root[key].is_array()) fail(key, "missing, or not an array");
    return root[key];
  }
  int64_t integer(const json& obj, const std::string& where, const char* key) const {
    if (!obj.is_object() || !obj.contains(key) || !obj[key].is_number_integer())
      fail(where + "." + key, "missing, or not an integer");
    return obj[key].get<int64_t>();
  }
  std::string text(const json& obj, const std::string& where, const char* key) const {
    if (!obj.is_object() || !obj.contains(key) || !obj[key].is_string()) fail(where + "." + key, "missing, or not a string");
    return obj[key].get<std::string>();
  }

 private:
  std::string path_;
};

}  // namespace

CocoFile read_coco_file(const std::string& path) {
  const std::string text = read_text_file(path);
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    throw RunError(path + ":" + line_column(text, e.byte) + ": not valid JSON (" + e.what() + ")");
  }
  if (!root.is_object()) throw RunError(path + ": expected a JSON object with images, categories and annotations");
  const Fields f(path);
  CocoFile coco;
  std::set<int64_t> image_ids, category_ids;
  const json& images = f.array(root, "images");
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string where = "images[" + std::to_string(i) + "]";
    CocoImage im;
    im.id = f.integer(images[i], where, "id");
    im.file_name = f.text(images[i], where, "file_name");
    im.width = f.integer(images[i], where, "width");
    im.height = f.integer(images[i], where, "height");
    if (!image_ids.insert(im.id).second) f.fail(where + ".id", "image id " + std::to_string(im.id) + " is used twice");
    coco.images.push_back(std::move(im));
  }
  const json& categories = f.array(root, "categories");
  for (size_t i = 0; i < categories.size(); ++i) {
    const std::string where = "categories[" + std::to_string(i) + "]";
    CocoCategory c{f.integer(categories[i], where, "id"), f.text(categories[i], where, "name")};
    if (!category_ids.insert(c.id).second)
      f.fail(where + ".id", "category id " + std::to_string(c.id) + " is used twice");
    coco.categories.push_back(std::move(c));
  }
  const json& annotations = f.array(root, "annotations");
  for (size_t i = 0; i < annotations.size(); ++i) {
    const std::string where = "annotations[" + std::to_string(i) + "]";
    const json& a = annotations[i];
    CocoAnnotation ann;
    ann.id = a.is_object() && a.contains("id") && a["id"].is_number_integer() ? a["id"].get<int64_t>() : static_cast<int64_t>(i);
    ann.image_id = f.integer(a, where, "image_id");
    ann.category_id = f.integer(a, where, "category_id");
    if (!image_ids.count(ann.image_id))
      f.fail(where + ".image_id", "image id " + std::to_string(ann.image_id) + " is not in images");
    if (!category_ids.count(ann.category_id))
      f.fail(where + ".category_id", "category id " + std::to_string(ann.category_id) + " is not in categories");
    if (a.contains("bbox")) {
      const json& b = a["bbox"];
      if (!b.is_array() || b.size() != 4 || !std::all_of(b.begin(), b.end(), [](const json& v) { return v.is_number(); }))
        f.fail(where + ".bbox", "expected [x, y, width, height]");
      for (size_t k = 0; k < 4; ++k) ann.bbox[k] = b[k].get<double>();
    }
    if (a.contains("iscrowd")) ann.iscrowd = a["iscrowd"].is_number() && a["iscrowd"].get<double>() != 0;
    coco.annotations.push_back(ann);
  }
  return coco;
}

}  // namespace paddlex
