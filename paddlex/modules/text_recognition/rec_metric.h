// PaddleOCR's RecMetric (ignore_space on, is_filter off): exact-match accuracy and 1 - mean normalized edit
// distance over an evaluation set, spaces removed from both texts first.
#pragma once
#include <cstdint>
#include <string>

namespace paddlex::ocr {

// Levenshtein distance (unit costs) / the longer length; 0 for two empty texts (rapidfuzz's
// Levenshtein.normalized_distance).
double normalized_edit_distance(const std::u32string& a, const std::u32string& b);

// One line's part of the metric: whether the texts match and their normalized edit distance, spaces removed.
struct LineScore {
  bool correct = false;
  double distance = 0;
};
LineScore score_line(const std::u32string& predicted, const std::u32string& truth);

class RecMetric {
 public:
  static constexpr double kEps = 1e-5;  // in both denominators, as PaddleOCR's
  void add(const std::u32string& predicted, const std::u32string& truth);
  double acc() const { return static_cast<double>(correct_) / (static_cast<double>(count_) + kEps); }
  double norm_edit_dis() const { return 1.0 - edit_distance_sum_ / (static_cast<double>(count_) + kEps); }
  int64_t count() const { return count_; }

 private:
  int64_t count_ = 0, correct_ = 0;
  double edit_distance_sum_ = 0;
};

}  // namespace paddlex::ocr
