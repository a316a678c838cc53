#include "paddlex/modules/text_recognition/rec_metric.h"

#include <algorithm>
#include <numeric>
#include <vector>

namespace paddlex::ocr {

namespace {

std::u32string without_spaces(std::u32string text) {
  text.erase(std::remove(text.begin(), text.end(), U' '), text.end());
  return text;
}

}  // namespace

double normalized_edit_distance(const std::u32string& a, const std::u32string& b) {
  const size_t longest = std::max(a.size(), b.size());
  if (longest == 0) return 0.0;
  // One row of the dynamic programme: row[j] = distance between a[:i] and b[:j].
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return static_cast<double>(row[b.size()]) / static_cast<double>(longest);
}

LineScore score_line(const std::u32string& predicted, const std::u32string& truth) {
  const auto p = without_spaces(predicted), t = without_spaces(truth);
  return {p == t, normalized_edit_distance(p, t)};
}

void RecMetric::add(const std::u32string& predicted, const std::u32string& truth) {
  const LineScore s = score_line(predicted, truth);
  ++count_;
  correct_ += s.correct;
  edit_distance_sum_ += s.distance;
}

}  // namespace paddlex::ocr
