// Bar chart of per-class sample counts, one colored bar per split (check_dataset's histogram.png).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace paddlex {

// counts[s][c] = samples of class c in split s. Throws RunError if the PNG cannot be written.
void draw_class_histogram(const std::vector<std::string>& split_names,
                          const std::vector<std::vector<int64_t>>& counts, const std::string& path);

}  // namespace paddlex
