// PaddleX image list layouts: label.txt ("<id> <name>") plus train.txt / val.txt with one image per line, the
// image path relative to the dataset dir. ClsDataset: "images/x.jpg <id>". MLClsDataset: "images/x.jpg<TAB>0,3,7"
// (class ids) or "images/x.jpg<TAB>1,0,0,1" (PaddleX's multi-hot vector over all classes).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace paddlex {

struct ClsSample {
  std::string rel_path;   // as written in the list file
  std::string abs_path;   // dataset_dir / rel_path
  int64_t label = 0;
  int line = 0;           // 1-based line in the list file
};

// Problems found while reading, each "file:line: reason"; the first `kMaxReported` are kept.
struct Problems {
  static constexpr size_t kMaxReported = 50;
  std::vector<std::string> messages;
  size_t count = 0;
  void add(const std::string& message);
  bool empty() const { return count == 0; }
  // One text block: all kept messages and "... and N more".
  std::string summary() const;
};

// label.txt -> names indexed by id (ids must be unique non-negative integers; gaps get the id as name).
std::vector<std::string> read_label_file(const std::string& path, Problems& problems);

struct ClsListOptions {
  int64_t num_classes = -1;   // labels must be < this (when >= 0)
  bool decode_images = false; // check_dataset decodes every image; training only checks existence
  char delimiter = ' ';       // ' ' for ClsDataset
};

// Reads a list file, checking every line: two fields, integer label in range, path relative and inside the
// dataset dir, file exists (and decodes when asked). Bad lines are reported and left out.
std::vector<ClsSample> read_cls_list(const std::string& dataset_dir, const std::string& list_name,
                                     const ClsListOptions& options, Problems& problems);

// A line of an MSTextRecDataset list (PaddleOCR's recognition layout): "images/x.jpg<TAB>text".
struct TextRecSample {
  std::string rel_path;
  std::string abs_path;
  std::u32string text;  // as written, spaces included
  int line = 0;
};

// Reads train.txt / val.txt of an MSTextRecDataset, checking every line: exactly one tab, a non-empty UTF-8 text,
// the image relative, inside the dataset dir and present (decoded when asked). Bad lines are reported and left
// out.
std::vector<TextRecSample> read_text_rec_list(const std::string& dataset_dir, const std::string& list_name,
                                              bool decode_images, Problems& problems);

// A text region of a TextDetDataset line (PaddleOCR's detection layout).
struct TextRegion {
  std::vector<std::array<float, 2>> points;  // the polygon, in pixels, as written
  std::string transcription;
  bool ignore = false;  // "###" (or PaddleOCR's "*"): a region that is neither text to find nor background
};

// A line of a TextDetDataset list: "images/x.jpg<TAB>[{"transcription": "...", "points": [[x, y], ...]}, ...]".
struct TextDetSample {
  std::string rel_path;
  std::string abs_path;
  std::vector<TextRegion> regions;
  int line = 0;
};

// Reads train.txt / val.txt of a TextDetDataset, checking every line: exactly one tab, a JSON list of regions each
// with a string "transcription" and "points" of at least 3 numeric [x, y] pairs, the image inside the dataset dir
// and present (decoded when asked). Bad lines are reported and left out; a line may list no region.
std::vector<TextDetSample> read_text_det_list(const std::string& dataset_dir, const std::string& list_name,
                                              bool decode_images, Problems& problems);

// True when `rel_path` is relative and does not climb out of its root ("..").
bool path_stays_inside(const std::string& rel_path);

// How an MLClsDataset list writes a line's labels.
enum class MultiLabelFormat {
  kClassIds,  // "0,3,7": the ids present, each once
  kMultiHot,  // "1,0,0,1": one 0/1 value per class of label.txt (PaddleX's converter writes this)
};
std::string format_name(MultiLabelFormat format);  // "class_ids" | "multi_hot"

struct MultiLabelSample {
  std::string rel_path;
  std::string abs_path;
  std::vector<int64_t> labels;  // class ids present, ascending
  int line = 0;
};

struct MultiLabelList {
  std::vector<MultiLabelSample> samples;
  MultiLabelFormat format = MultiLabelFormat::kClassIds;
};

// Reads an MLClsDataset list of a dataset with `num_classes` classes, checking every line: a tab between path and
// labels, integer labels, ids within label.txt (or a full 0/1 vector), a non-empty label set, the image inside
// the dataset dir and present (decoded too when asked). The file is in multi-hot form when every line that passes
// those checks holds exactly num_classes values, all 0 or 1, and some value is 1; in class-id form otherwise (so
// with two classes a file whose every line is "0,1" reads as vectors, PaddleX's form). Bad lines are reported and
// left out.
MultiLabelList read_mlcls_list(const std::string& dataset_dir, const std::string& list_name, int64_t num_classes,
                               bool decode_images, Problems& problems);

}  // namespace paddlex
