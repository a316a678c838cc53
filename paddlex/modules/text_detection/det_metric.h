// PaddleOCR's DetMetric (DetectionIoUEvaluator): detected polygons matched one to one with the ground truth at
// IoU > 0.5, ### regions as don't-care, precision / recall / hmean over the whole evaluation set. Polygon
// geometry (validity, intersection and union areas) comes from GEOS, the library under shapely.
#pragma once
#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

namespace paddlex::ocr {

struct GroundTruthText {
  std::vector<cv::Point2f> points;
  bool ignore = false;  // "###": a don't-care region
};

// The counts one image adds to the metric.
struct DetImageCounts {
  int64_t gt_care = 0, det_care = 0, matched = 0;
};

// One image: polygons that are not shapely-valid are dropped (eval_det_iou.py checks is_valid only); a detection
// covering a don't-care region by more than half its area is don't-care; then greedy matching in index order.
DetImageCounts match_detections(const std::vector<GroundTruthText>& truth,
                                const std::vector<std::vector<cv::Point2f>>& detections);

struct DetMetricValues {
  double precision = 0, recall = 0, hmean = 0;
};
// Totals over images -> precision = matched / det_care, recall = matched / gt_care (0 on a zero denominator),
// hmean their harmonic mean.
DetMetricValues det_metric(const std::vector<DetImageCounts>& images);

// IoU of two simple polygons (0 when either is not a valid polygon).
double polygon_iou(const std::vector<cv::Point2f>& a, const std::vector<cv::Point2f>& b);

}  // namespace paddlex::ocr
