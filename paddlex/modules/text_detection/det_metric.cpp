#include "paddlex/modules/text_detection/det_metric.h"

#include <geos_c.h>

#include <memory>
#include <optional>

namespace paddlex::ocr {
namespace {

// A GEOS context per call (the reentrant API), freed with its geometries.
class Geos {
 public:
  Geos() : handle_(GEOS_init_r()) {}
  ~Geos() {
    for (GEOSGeometry* g : owned_) GEOSGeom_destroy_r(handle_, g);
    GEOS_finish_r(handle_);
  }
  Geos(const Geos&) = delete;
  Geos& operator=(const Geos&) = delete;

  // The polygon of `points` (closed unless already closed, as shapely's Polygon), or null when shapely would
  // refuse it or find it not is_valid (the only check eval_det_iou.py makes).
  const GEOSGeometry* polygon(const std::vector<cv::Point2f>& points) {
    if (points.size() < 3) return nullptr;
    const size_t n = points.size() + (points.front() != points.back());
    if (n < 4) return nullptr;
    GEOSCoordSequence* ring = GEOSCoordSeq_create_r(handle_, static_cast<unsigned>(n), 2);
    for (size_t i = 0; i < n; ++i) {
      const cv::Point2f& p = points[i % points.size()];
      GEOSCoordSeq_setXY_r(handle_, ring, static_cast<unsigned>(i), p.x, p.y);
    }
    GEOSGeometry* shell = GEOSGeom_createLinearRing_r(handle_, ring);
    if (!shell) return nullptr;
    GEOSGeometry* poly = GEOSGeom_createPolygon_r(handle_, shell, nullptr, 0);
    if (!poly) return nullptr;
    owned_.push_back(poly);
    return GEOSisValid_r(handle_, poly) == 1 ? poly : nullptr;
  }
  double area(const GEOSGeometry* g) const {
    double a = 0;
    GEOSArea_r(handle_, g, &a);
    return a;
  }
  // Overlay areas can differ in the last bits with the operand order; callers keep eval_det_iou.py's.
  double intersection_area(const GEOSGeometry* a, const GEOSGeometry* b) {
    return area_of(GEOSIntersection_r(handle_, a, b));
  }
  double union_area(const GEOSGeometry* a, const GEOSGeometry* b) { return area_of(GEOSUnion_r(handle_, a, b)); }

 private:
  double area_of(GEOSGeometry* g) {
    if (!g) return 0;
    const double a = area(g);
    GEOSGeom_destroy_r(handle_, g);
    return a;
  }
  GEOSContextHandle_t handle_;
  std::vector<GEOSGeometry*> owned_;
};

constexpr double kIouThreshold = 0.5;
constexpr double kAreaPrecisionConstraint = 0.5;

}  // namespace

double polygon_iou(const std::vector<cv::Point2f>& a, const std::vector<cv::Point2f>& b) {
  Geos geos;
  const GEOSGeometry* pa = geos.polygon(a);
  const GEOSGeometry* pb = geos.polygon(b);
  if (!pa || !pb) return 0;
  const double u = geos.union_area(pa, pb);
  return u > 0 ? geos.intersection_area(pa, pb) / u : 0;
}

DetImageCounts match_detections(const std::vector<GroundTruthText>& truth,
                                const std::vector<std::vector<cv::Point2f>>& detections) {
  Geos geos;
  std::vector<const GEOSGeometry*> gts, dts;
  std::vector<bool> gt_dont_care, dt_dont_care;
  std::vector<const GEOSGeometry*> dont_care_regions;
  for (const auto& t : truth) {
    const GEOSGeometry* p = geos.polygon(t.points);
    if (!p) continue;
    gts.push_back(p);
    gt_dont_care.push_back(t.ignore);
    if (t.ignore) dont_care_regions.push_back(p);
  }
  for (const auto& d : detections) {
    const GEOSGeometry* p = geos.polygon(d);
    if (!p) continue;
    bool dont_care = false;
    const double area = geos.area(p);
    for (const GEOSGeometry* region : dont_care_regions)
      if (area > 0 && geos.intersection_area(region, p) / area > kAreaPrecisionConstraint) {
        dont_care = true;
        break;
      }
    dts.push_back(p);
    dt_dont_care.push_back(dont_care);
  }
  DetImageCounts counts;
  std::vector<bool> gt_matched(gts.size(), false), dt_matched(dts.size(), false);
  for (size_t g = 0; g < gts.size(); ++g)
    for (size_t d = 0; d < dts.size(); ++d) {
      if (gt_matched[g] || dt_matched[d] || gt_dont_care[g] || dt_dont_care[d]) continue;
      const double u = geos.union_area(dts[d], gts[g]);
      const double iou = u > 0 ? geos.intersection_area(dts[d], gts[g]) / u : 0;
      if (iou > kIouThreshold) {
        gt_matched[g] = dt_matched[d] = true;
        ++counts.matched;
      }
    }
  for (bool c : gt_dont_care) counts.gt_care += !c;
  for (bool c : dt_dont_care) counts.det_care += !c;
  return counts;
}

DetMetricValues det_metric(const std::vector<DetImageCounts>& images) {
  int64_t gt_care = 0, det_care = 0, matched = 0;
  for (const auto& c : images) gt_care += c.gt_care, det_care += c.det_care, matched += c.matched;
  DetMetricValues v;
  v.recall = gt_care ? static_cast<double>(matched) / gt_care : 0;
  v.precision = det_care ? static_cast<double>(matched) / det_care : 0;
  v.hmean = v.precision + v.recall > 0 ? 2 * v.precision * v.recall / (v.precision + v.recall) : 0;
  return v;
}

}  // namespace paddlex::ocr
