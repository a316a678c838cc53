// PaddleX classification layout (ClsDataset): label.txt ("<id> <name>"), train.txt / val.txt
// ("images/x.jpg <id>"), image paths relative to the dataset dir.
#pragma once
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

// True when `rel_path` is relative and does not climb out of its root ("..").
bool path_stays_inside(const std::string& rel_path);

}  // namespace paddlex
