// Charts the engine writes as PNG: check_dataset's class histogram and training's curves.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace paddlex {

// Bar chart of per-class sample counts, one colored bar per split: counts[s][c] = samples of class c in split s.
// Throws RunError if the PNG cannot be written.
void draw_class_histogram(const std::vector<std::string>& split_names,
                          const std::vector<std::vector<int64_t>>& counts, const std::string& path);

struct Series {
  std::string name;
  std::vector<double> x, y;
};
struct ChartPanel {
  std::string title;
  std::vector<Series> series;
};
// Line charts stacked vertically, one panel each, with shared styling; a series with one point is drawn as a
// dot. Non-finite values are left out. Throws RunError if the PNG cannot be written.
void draw_line_charts(const std::vector<ChartPanel>& panels, const std::string& x_label, const std::string& path);

}  // namespace paddlex
