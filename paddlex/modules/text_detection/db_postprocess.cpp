#include "paddlex/modules/text_detection/db_postprocess.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <polyclipping/clipper.hpp>

namespace paddlex::ocr {
namespace {

// Polygon(box).area and .length as shapely computes them (GEOS): the shoelace sum taken relative to the first
// vertex, and sqrt(dx² + dy²) per edge. Same formulas, same roundings, so the same offset distance.
std::pair<double, double> area_and_perimeter(const std::array<cv::Point2f, 4>& p) {
  const size_t n = p.size();
  const double x0 = p[0].x;
  double twice_area = 0, perimeter = 0;
  for (size_t i = 1; i < n; ++i)
    twice_area += (static_cast<double>(p[i].x) - x0) * (static_cast<double>(p[i - 1].y) - p[(i + 1) % n].y);
  for (size_t i = 0; i < n; ++i) {
    const cv::Point2f& next = p[(i + 1) % n];
    const double dx = static_cast<double>(next.x) - p[i].x, dy = static_cast<double>(next.y) - p[i].y;
    perimeter += std::sqrt(dx * dx + dy * dy);
  }
  return {std::abs(twice_area / 2), perimeter};
}

}  // namespace

std::array<cv::Point2f, 4> mini_box(cv::InputArray points, float* shorter_side) {
  const cv::RotatedRect rect = cv::minAreaRect(points);
  std::array<cv::Point2f, 4> corners;
  rect.points(corners.data());
  // Python's sorted() by x is stable: equal x keeps boxPoints' order.
  std::stable_sort(corners.begin(), corners.end(),
                   [](const cv::Point2f& a, const cv::Point2f& b) { return a.x < b.x; });
  const bool left_down = corners[1].y > corners[0].y, right_down = corners[3].y > corners[2].y;
  const cv::Point2f tl = left_down ? corners[0] : corners[1], bl = left_down ? corners[1] : corners[0];
  const cv::Point2f tr = right_down ? corners[2] : corners[3], br = right_down ? corners[3] : corners[2];
  if (shorter_side) *shorter_side = std::min(rect.size.width, rect.size.height);
  return {tl, tr, br, bl};
}

double box_score_fast(const cv::Mat& pred, const std::array<cv::Point2f, 4>& box) {
  const int h = pred.rows, w = pred.cols;
  float min_x = box[0].x, max_x = box[0].x, min_y = box[0].y, max_y = box[0].y;
  for (const auto& p : box) {
    min_x = std::min(min_x, p.x), max_x = std::max(max_x, p.x);
    min_y = std::min(min_y, p.y), max_y = std::max(max_y, p.y);
  }
  const int x0 = std::clamp(static_cast<int>(std::floor(min_x)), 0, w - 1);
  const int x1 = std::clamp(static_cast<int>(std::ceil(max_x)), 0, w - 1);
  const int y0 = std::clamp(static_cast<int>(std::floor(min_y)), 0, h - 1);
  const int y1 = std::clamp(static_cast<int>(std::ceil(max_y)), 0, h - 1);
  cv::Mat mask = cv::Mat::zeros(y1 - y0 + 1, x1 - x0 + 1, CV_8UC1);
  std::vector<cv::Point> shifted;
  for (const auto& p : box) shifted.emplace_back(static_cast<int>(p.x - x0), static_cast<int>(p.y - y0));
  cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{shifted}, cv::Scalar(1));
  return cv::mean(pred(cv::Rect(x0, y0, x1 - x0 + 1, y1 - y0 + 1)), mask)[0];
}

std::vector<std::vector<cv::Point>> unclip(const std::array<cv::Point2f, 4>& box, double ratio) {
  const auto [area, perimeter] = area_and_perimeter(box);
  const double distance = perimeter > 0 ? area * ratio / perimeter : 0;
  ClipperLib::Path path;
  // pyclipper hands Clipper the coordinates truncated to integers.
  for (const auto& p : box) path.emplace_back(static_cast<ClipperLib::cInt>(p.x), static_cast<ClipperLib::cInt>(p.y));
  ClipperLib::ClipperOffset offset;  // miter limit 2, arc tolerance 0.25: pyclipper's defaults
  offset.AddPath(path, ClipperLib::jtRound, ClipperLib::etClosedPolygon);
  ClipperLib::Paths grown;
  offset.Execute(grown, distance);
  std::vector<std::vector<cv::Point>> paths;
  for (const auto& p : grown) {
    paths.emplace_back();
    for (const auto& q : p) paths.back().emplace_back(static_cast<int>(q.X), static_cast<int>(q.Y));
  }
  return paths;
}

std::vector<TextBox> db_postprocess(const cv::Mat& pred, cv::Size source_size, const DbPostProcessOptions& options) {
  constexpr float kMinSize = 3;
  cv::Mat bitmap = (pred > options.thresh);  // 255 where text
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(bitmap, contours, cv::RETR_LIST, cv::CHAIN_APPROX_SIMPLE);
  const size_t candidates = std::min(contours.size(), static_cast<size_t>(std::max(0, options.max_candidates)));
  std::vector<TextBox> boxes;
  for (size_t i = 0; i < candidates; ++i) {
    float side = 0;
    const auto box = mini_box(contours[i], &side);  // the integer contour, as cv2 gets it
    if (side < kMinSize) continue;
    const double score = box_score_fast(pred, box);
    if (score < options.box_thresh) continue;
    const auto grown = unclip(box, options.unclip_ratio);
    if (grown.size() != 1) continue;  // PaddleOCR skips a box whose offset splits (len(box) > 1)
    const auto expanded = mini_box(grown[0], &side);
    if (side < kMinSize + 2) continue;
    TextBox out;
    out.score = score;
    for (size_t k = 0; k < 4; ++k) {
      // np.round: half to even, which nearbyint gives in the default rounding mode. The arithmetic is float32, as
      // numpy 1.x does it; numpy 2 multiplies by the float64 source size in float64 (1 px apart on ~1% of boxes).
      const double x = std::nearbyint(expanded[k].x / pred.cols * source_size.width);
      const double y = std::nearbyint(expanded[k].y / pred.rows * source_size.height);
      out.points[k] = {static_cast<int>(std::clamp(x, 0.0, static_cast<double>(source_size.width))),
                       static_cast<int>(std::clamp(y, 0.0, static_cast<double>(source_size.height)))};
    }
    boxes.push_back(out);
  }
  return boxes;
}

}  // namespace paddlex::ocr
