// COCO instance annotation files (instances_*.json): images, categories and annotations, validated field by field.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace paddlex {

struct CocoImage {
  int64_t id = 0;
  std::string file_name;
  int64_t width = 0, height = 0;
};

struct CocoCategory {
  int64_t id = 0;
  std::string name;
};

struct CocoAnnotation {
  int64_t id = 0, image_id = 0, category_id = 0;
  std::array<double, 4> bbox{};  // x, y, width, height
  bool iscrowd = false;
};

struct CocoFile {
  std::vector<CocoImage> images;          // file order
  std::vector<CocoCategory> categories;   // file order (pycocotools' getCatIds order)
  std::vector<CocoAnnotation> annotations;
};

// Reads and checks `path`: JSON syntax (reported at line:column), the three arrays, every needed field with its
// type (reported by JSON path, e.g. annotations[12].category_id), unique image and category ids, and annotations
// that name an existing image and category. Throws RunError naming the file.
CocoFile read_coco_file(const std::string& path);

}  // namespace paddlex
