#include "paddlex/datasets/histogram.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>

#include "paddlex/core/errors.h"

namespace paddlex {

void draw_class_histogram(const std::vector<std::string>& split_names,
                          const std::vector<std::vector<int64_t>>& counts, const std::string& path) {
  const size_t classes = counts.empty() ? 0 : counts.front().size();
  int64_t peak = 1;
  for (const auto& split : counts)
    for (int64_t c : split) peak = std::max(peak, c);
  const int left = 70, right = 20, top = 40, bottom = 50;
  const int group = std::max(12, std::min(60, 1200 / std::max<int>(1, static_cast<int>(classes))));
  const int width = left + right + group * static_cast<int>(std::max<size_t>(classes, 1));
  const int height = 420, plot_h = height - top - bottom;
  cv::Mat img(height, std::max(width, 360), CV_8UC3, cv::Scalar(255, 255, 255));
  const cv::Scalar colors[] = {{180, 119, 31}, {14, 127, 255}, {44, 160, 44}, {40, 39, 214}};
  const cv::Scalar black(0, 0, 0), grey(200, 200, 200);
  for (int t = 0; t <= 4; ++t) {  // horizontal grid with count labels
    int y = top + plot_h - plot_h * t / 4;
    cv::line(img, {left, y}, {img.cols - right, y}, grey, 1);
    cv::putText(img, std::to_string(peak * t / 4), {5, y + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.4, black, 1);
  }
  const int bar_w = std::max(2, (group - 4) / std::max<int>(1, static_cast<int>(counts.size())));
  for (size_t c = 0; c < classes; ++c) {
    int x0 = left + static_cast<int>(c) * group + 2;
    for (size_t s = 0; s < counts.size(); ++s) {
      int h = static_cast<int>(plot_h * counts[s][c] / peak);
      cv::rectangle(img, cv::Rect(x0 + static_cast<int>(s) * bar_w, top + plot_h - h, bar_w - 1, h), colors[s % 4],
                    cv::FILLED);
    }
    if (classes <= 60 || c % (classes / 30 + 1) == 0)
      cv::putText(img, std::to_string(c), {x0, top + plot_h + 15}, cv::FONT_HERSHEY_SIMPLEX, 0.35, black, 1);
  }
  cv::line(img, {left, top + plot_h}, {img.cols - right, top + plot_h}, black, 1);
  cv::putText(img, "class id", {img.cols / 2 - 30, height - 12}, cv::FONT_HERSHEY_SIMPLEX, 0.45, black, 1);
  for (size_t s = 0; s < split_names.size(); ++s) {  // legend
    int x = left + static_cast<int>(s) * 110;
    cv::rectangle(img, cv::Rect(x, 12, 14, 14), colors[s % 4], cv::FILLED);
    cv::putText(img, split_names[s], {x + 20, 24}, cv::FONT_HERSHEY_SIMPLEX, 0.5, black, 1);
  }
  if (!cv::imwrite(path, img)) throw RunError("cannot write '" + path + "'");
}

}  // namespace paddlex
