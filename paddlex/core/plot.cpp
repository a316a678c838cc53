#include "paddlex/core/plot.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "paddlex/core/errors.h"

namespace paddlex {
namespace {

const cv::Scalar kColors[] = {{180, 119, 31}, {14, 127, 255}, {44, 160, 44}, {40, 39, 214},
                              {189, 103, 148}, {75, 86, 140}, {194, 119, 227}, {127, 127, 127}};
const cv::Scalar kBlack(0, 0, 0), kGrey(200, 200, 200);
constexpr int kColorCount = sizeof(kColors) / sizeof(kColors[0]);

void draw_legend(cv::Mat& img, const std::vector<std::string>& names, int x, int y) {
  for (size_t s = 0; s < names.size(); ++s) {
    int baseline = 0;
    const cv::Size text = cv::getTextSize(names[s], cv::FONT_HERSHEY_SIMPLEX, 0.45, 1, &baseline);
    cv::rectangle(img, cv::Rect(x, y - 11, 14, 14), kColors[s % kColorCount], cv::FILLED);
    cv::putText(img, names[s], {x + 20, y}, cv::FONT_HERSHEY_SIMPLEX, 0.45, kBlack, 1);
    x += 40 + text.width;
  }
}

void write_png(const cv::Mat& img, const std::string& path) {
  if (!cv::imwrite(path, img)) throw RunError("cannot write '" + path + "'");
}

std::string short_number(double v) {
  std::ostringstream os;
  os << std::setprecision(4) << v;
  return os.str();
}

}  // namespace

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
  for (int t = 0; t <= 4; ++t) {  // horizontal grid with count labels
    int y = top + plot_h - plot_h * t / 4;
    cv::line(img, {left, y}, {img.cols - right, y}, kGrey, 1);
    cv::putText(img, std::to_string(peak * t / 4), {5, y + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.4, kBlack, 1);
  }
  const int bar_w = std::max(2, (group - 4) / std::max<int>(1, static_cast<int>(counts.size())));
  for (size_t c = 0; c < classes; ++c) {
    int x0 = left + static_cast<int>(c) * group + 2;
    for (size_t s = 0; s < counts.size(); ++s) {
      int h = static_cast<int>(plot_h * counts[s][c] / peak);
      cv::rectangle(img, cv::Rect(x0 + static_cast<int>(s) * bar_w, top + plot_h - h, bar_w - 1, h), kColors[s % kColorCount],
                    cv::FILLED);
    }
    if (classes <= 60 || c % (classes / 30 + 1) == 0)
      cv::putText(img, std::to_string(c), {x0, top + plot_h + 15}, cv::FONT_HERSHEY_SIMPLEX, 0.35, kBlack, 1);
  }
  cv::line(img, {left, top + plot_h}, {img.cols - right, top + plot_h}, kBlack, 1);
  cv::putText(img, "class id", {img.cols / 2 - 30, height - 12}, cv::FONT_HERSHEY_SIMPLEX, 0.45, kBlack, 1);
  draw_legend(img, split_names, left, 24);
  write_png(img, path);
}

void draw_line_charts(const std::vector<ChartPanel>& panels, const std::string& x_label, const std::string& path) {
  const int width = 900, panel_h = 270, left = 80, right = 20, top = 60, bottom = 35;
  cv::Mat img(panel_h * static_cast<int>(std::max<size_t>(1, panels.size())) + 20, width, CV_8UC3,
              cv::Scalar(255, 255, 255));
  for (size_t p = 0; p < panels.size(); ++p) {
    const ChartPanel& panel = panels[p];
    const int y0 = static_cast<int>(p) * panel_h, plot_w = width - left - right, plot_h = panel_h - top - bottom;
    double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
    for (const auto& s : panel.series)
      for (size_t i = 0; i < s.x.size(); ++i)
        if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
          x_lo = std::min(x_lo, s.x[i]), x_hi = std::max(x_hi, s.x[i]);
          y_lo = std::min(y_lo, s.y[i]), y_hi = std::max(y_hi, s.y[i]);
        }
    cv::putText(img, panel.title, {left, y0 + 20}, cv::FONT_HERSHEY_SIMPLEX, 0.55, kBlack, 1);
    std::vector<std::string> names;
    for (const auto& s : panel.series) names.push_back(s.name);
    draw_legend(img, names, left, y0 + 42);
    cv::rectangle(img, cv::Rect(left, y0 + top, plot_w, plot_h), kBlack, 1);
    if (!std::isfinite(x_lo)) continue;  // nothing to draw yet
    if (x_hi == x_lo) x_hi = x_lo + 1;
    if (y_hi == y_lo) y_hi = y_lo + (y_lo == 0 ? 1 : std::abs(y_lo) * 0.1);
    auto to_px = [&](double x, double y) {
      return cv::Point(left + static_cast<int>(std::lround((x - x_lo) / (x_hi - x_lo) * plot_w)),
                       y0 + top + plot_h - static_cast<int>(std::lround((y - y_lo) / (y_hi - y_lo) * plot_h)));
    };
    for (int t = 0; t <= 4; ++t) {  // grid and axis labels
      const int y = y0 + top + plot_h - plot_h * t / 4, x = left + plot_w * t / 4;
      cv::line(img, {left, y}, {left + plot_w, y}, kGrey, 1);
      cv::putText(img, short_number(y_lo + (y_hi - y_lo) * t / 4), {4, y + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.4, kBlack, 1);
      cv::putText(img, short_number(x_lo + (x_hi - x_lo) * t / 4), {x - 10, y0 + top + plot_h + 16},
                  cv::FONT_HERSHEY_SIMPLEX, 0.4, kBlack, 1);
    }
    cv::putText(img, x_label, {left + plot_w / 2 - 20, y0 + panel_h - 4}, cv::FONT_HERSHEY_SIMPLEX, 0.4, kBlack, 1);
    for (size_t s = 0; s < panel.series.size(); ++s) {
      const Series& series = panel.series[s];
      const cv::Scalar color = kColors[s % kColorCount];
      std::vector<cv::Point> points;
      for (size_t i = 0; i < series.x.size(); ++i)
        if (std::isfinite(series.x[i]) && std::isfinite(series.y[i])) points.push_back(to_px(series.x[i], series.y[i]));
      if (points.size() == 1) cv::circle(img, points.front(), 3, color, cv::FILLED, cv::LINE_AA);
      else cv::polylines(img, points, false, color, 2, cv::LINE_AA);
    }
  }
  write_png(img, path);
}

}  // namespace paddlex
