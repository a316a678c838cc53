// Text detection building blocks against hand-computed cases and PaddleOCR's own outputs: DetMetric (IoU > 0.5
// one-to-one matching, don't-care regions, global precision / recall / hmean) and DBPostProcess.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "paddlex/modules/text_detection/db_postprocess.h"
#include "paddlex/modules/text_detection/det_metric.h"

namespace paddlex::ocr {
namespace {

std::vector<cv::Point2f> rect(float x0, float y0, float x1, float y1) {
  return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
}

TEST(DetMetric, IouOfSquares) {
  EXPECT_DOUBLE_EQ(polygon_iou(rect(0, 0, 10, 10), rect(0, 0, 10, 10)), 1.0);
  EXPECT_NEAR(polygon_iou(rect(0, 0, 10, 10), rect(5, 0, 15, 10)), 50.0 / 150.0, 1e-12);
  EXPECT_DOUBLE_EQ(polygon_iou(rect(0, 0, 10, 10), rect(20, 20, 30, 30)), 0.0);
  // A bow-tie is not a valid polygon: shapely's is_valid fails, so it counts for nothing.
  EXPECT_DOUBLE_EQ(polygon_iou({{0, 0}, {10, 10}, {10, 0}, {0, 10}}, rect(0, 0, 10, 10)), 0.0);
}

TEST(DetMetric, MatchesAboveHalfIouOnly) {
  // IoU 80 / 120 = 0.67: a match.
  auto c = match_detections({{rect(0, 0, 10, 10), false}}, {rect(2, 0, 12, 10)});
  EXPECT_EQ(c.matched, 1);
  EXPECT_EQ(c.gt_care, 1);
  EXPECT_EQ(c.det_care, 1);
  // IoU exactly 0.5 (50 / 100): the comparison is strict.
  c = match_detections({{rect(0, 0, 10, 10), false}}, {rect(0, 0, 10, 5)});
  EXPECT_EQ(c.matched, 0);
  EXPECT_EQ(c.det_care, 1);
}

TEST(DetMetric, DontCareRegionsCountForNeitherSide) {
  // The second detection lies mostly (81 of 90 units) inside the ### region: don't-care.
  const auto c = match_detections({{rect(0, 0, 10, 10), false}, {rect(20, 20, 30, 30), true}},
                                  {rect(0, 0, 10, 10), rect(21, 20, 30, 30), rect(50, 50, 60, 60)});
  EXPECT_EQ(c.gt_care, 1);
  EXPECT_EQ(c.det_care, 2);
  EXPECT_EQ(c.matched, 1);
}

TEST(DetMetric, GreedyOneToOneInIndexOrder) {
  // Both ground truths overlap the one detection enough; the first in index order takes it.
  const auto c = match_detections({{rect(0, 0, 10, 10), false}, {rect(1, 0, 11, 10), false}}, {rect(0, 0, 10, 10)});
  EXPECT_EQ(c.matched, 1);
  EXPECT_EQ(c.gt_care, 2);
}

TEST(DetMetric, InvalidGroundTruthIsDropped) {
  const auto c =
      match_detections({{{{0, 0}, {10, 10}, {10, 0}, {0, 10}}, false}, {rect(0, 0, 4, 4), false}}, {rect(0, 0, 4, 4)});
  EXPECT_EQ(c.gt_care, 1);
  EXPECT_EQ(c.matched, 1);
}

TEST(DetMetric, PrecisionRecallHmeanOverTheWholeSet) {
  // Image 1: 1 of 2 texts found by its only box; image 2: 1 text, 2 wrong boxes. 1 match of 3 texts, 3 boxes.
  const auto v = det_metric({{2, 1, 1}, {1, 2, 0}});
  EXPECT_DOUBLE_EQ(v.recall, 1.0 / 3);
  EXPECT_DOUBLE_EQ(v.precision, 1.0 / 3);
  EXPECT_DOUBLE_EQ(v.hmean, 1.0 / 3);
  const auto none = det_metric({{0, 0, 0}});
  EXPECT_EQ(none.precision, 0);
  EXPECT_EQ(none.recall, 0);
  EXPECT_EQ(none.hmean, 0);
  const auto half = det_metric({{4, 2, 2}});  // P = 1, R = 0.5
  EXPECT_DOUBLE_EQ(half.hmean, 2 * 1.0 * 0.5 / 1.5);
}

TEST(DbPostProcess, MiniBoxOrdersCornersFromTopLeft) {
  float side = 0;
  const auto box = mini_box(std::vector<cv::Point>{{10, 40}, {60, 20}, {10, 20}, {60, 40}}, &side);
  EXPECT_FLOAT_EQ(side, 20);
  EXPECT_EQ(box[0], cv::Point2f(10, 20));
  EXPECT_EQ(box[1], cv::Point2f(60, 20));
  EXPECT_EQ(box[2], cv::Point2f(60, 40));
  EXPECT_EQ(box[3], cv::Point2f(10, 40));
}

TEST(DbPostProcess, OneTextRegionGrowsByAreaTimesRatioOverPerimeter) {
  cv::Mat pred = cv::Mat::zeros(100, 200, CV_32F);
  pred(cv::Rect(40, 30, 100, 30)) = 0.9f;  // x 40..139, y 30..59
  const auto boxes = db_postprocess(pred, pred.size(), {});
  ASSERT_EQ(boxes.size(), 1u);
  EXPECT_NEAR(boxes[0].score, 0.9, 1e-6);
  // The contour's box is 99 x 29 (pixel centres): d = 99 * 29 * 1.5 / (2 * (99 + 29)) = 16.82, so the box grows to
  // about x 23.2..155.8, y 13.2..75.8 (Clipper works on integers).
  const auto& p = boxes[0].points;
  for (const auto& [got, want] : std::vector<std::pair<cv::Point, cv::Point>>{
           {p[0], {23, 13}}, {p[1], {156, 13}}, {p[2], {156, 76}}, {p[3], {23, 76}}}) {
    EXPECT_NEAR(got.x, want.x, 1) << got << " vs " << want;
    EXPECT_NEAR(got.y, want.y, 1) << got << " vs " << want;
  }
  // Scaled to a source image twice the size of the map.
  const auto scaled = db_postprocess(pred, {400, 200}, {});
  ASSERT_EQ(scaled.size(), 1u);
  EXPECT_NEAR(scaled[0].points[2].x, 2 * p[2].x, 2);
  EXPECT_NEAR(scaled[0].points[2].y, 2 * p[2].y, 2);
}

TEST(DbPostProcess, WeakAndTinyRegionsAreDropped) {
  cv::Mat pred = cv::Mat::zeros(100, 200, CV_32F);
  pred(cv::Rect(40, 30, 100, 30)) = 0.5f;  // above thresh 0.3, below box_thresh 0.6
  EXPECT_TRUE(db_postprocess(pred, pred.size(), {}).empty());
  DbPostProcessOptions lenient;
  lenient.box_thresh = 0.4;
  EXPECT_EQ(db_postprocess(pred, pred.size(), lenient).size(), 1u);
  cv::Mat tiny = cv::Mat::zeros(100, 200, CV_32F);
  tiny(cv::Rect(10, 10, 3, 3)) = 1.0f;  // a 2 x 2 box between pixel centres: below min_size 3
  EXPECT_TRUE(db_postprocess(tiny, tiny.size(), {}).empty());
  // max_candidates bounds the contours looked at.
  cv::Mat two = cv::Mat::zeros(100, 200, CV_32F);
  two(cv::Rect(10, 10, 50, 20)) = 0.9f;
  two(cv::Rect(100, 60, 50, 20)) = 0.9f;
  EXPECT_EQ(db_postprocess(two, two.size(), {}).size(), 2u);
  DbPostProcessOptions one;
  one.max_candidates = 1;
  EXPECT_EQ(db_postprocess(two, two.size(), one).size(), 1u);
}

// Regression cases with expected values from PaddleOCR's own Python (ppocr/postprocess/db_postprocess.py and
// ppocr/metrics/eval_det_iou.py at PaddleOCR 8853b21, Dec 2025), run on the same inputs with numpy 1.26 /
// opencv-python 4.6.0.66 / shapely 2.0.1 (GEOS 3.11.1) and again with numpy 2.4 / opencv-python 4.14 and 5.0 /
// shapely 2.2 (GEOS 3.14): every stack gave these numbers.

// The map is drawn with the same OpenCV calls in Python; shape_list = [[src_h, src_w, ...]] as float64.
cv::Mat drawn_probability_map() {
  cv::Mat m = cv::Mat::zeros(96, 160, CV_32F);
  cv::fillPoly(m, std::vector<std::vector<cv::Point>>{{{10, 20}, {70, 8}, {74, 26}, {14, 38}}}, 0.9);  // rotated
  cv::rectangle(m, {30, 15}, {50, 30}, 0.7, cv::FILLED);    // a weaker part inside it
  cv::rectangle(m, {130, 60}, {165, 80}, 0.8, cv::FILLED);  // runs off the right edge
  cv::rectangle(m, {20, 60}, {90, 75}, 0.55, cv::FILLED);   // above thresh, below box_thresh
  cv::rectangle(m, {100, 10}, {102, 12}, 1.0, cv::FILLED);  // below min_size
  cv::ellipse(m, {110, 40}, {25, 6}, 20, 0, 360, 0.95, cv::FILLED);
  cv::fillPoly(m, std::vector<std::vector<cv::Point>>{{{60, 85}, {95, 80}, {97, 92}, {62, 95}}}, 0.85);
  return m;
}

TEST(DbPostProcess, MatchesPaddleOcrOnADrawnMap) {
  const cv::Mat m = drawn_probability_map();
  struct Want {
    std::array<cv::Point, 4> points;
    double score;
  };
  const std::vector<Want> at_map_size = {{{{{51, 78}, {101, 71}, {105, 96}, {55, 96}}}, 0.731666687189364},
                                         {{{{121, 51}, {160, 51}, {160, 89}, {121, 89}}}, 0.800000011920929},
                                         {{{{84, 14}, {145, 39}, {135, 65}, {74, 40}}}, 0.7002857054982866},
                                         {{{{0, 10}, {79, 0}, {87, 35}, {5, 52}}}, 0.769417089553244}};
  const std::vector<Want> at_411x250 = {{{{{131, 203}, {260, 185}, {270, 250}, {141, 250}}}, 0.731666687189364},
                                        {{{{311, 133}, {411, 133}, {411, 232}, {311, 232}}}, 0.800000011920929},
                                        {{{{216, 37}, {373, 101}, {346, 169}, {189, 104}}}, 0.7002857054982866},
                                        {{{{0, 27}, {202, 0}, {225, 90}, {12, 136}}}, 0.769417089553244}};
  for (const auto& [size, want] : {std::pair{m.size(), at_map_size}, std::pair{cv::Size(411, 250), at_411x250}}) {
    const auto got = db_postprocess(m, size, {});
    ASSERT_EQ(got.size(), want.size()) << size;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i].points, want[i].points) << size << " box " << i;
      EXPECT_NEAR(got[i].score, want[i].score, 1e-12) << size << " box " << i;
    }
  }
}

TEST(DetMetric, MatchesPaddleOcrNearTheThresholds) {
  using P = std::vector<cv::Point2f>;
  const std::vector<GroundTruthText> truth = {
      {rect(10, 10, 40, 22), false},
      {{{50.5f, 30.25f}, {90.75f, 35.5f}, {88.0f, 50.125f}, {47.25f, 44.0f}}, false},
      {rect(100, 100, 160, 120), true},
      {{{0, 60}, {30, 80}, {30, 60}, {0, 80}}, false},  // a bow-tie: dropped
      {{{120.5f, 10.5f}, {180.25f, 20.0f}, {176.0f, 41.75f}, {116.5f, 31.5f}}, false}};
  const std::vector<P> detections = {rect(19, 10, 49, 22),                      // IoU 21 / 39 with truth 0
                                     {{55, 34}, {96, 40}, {93, 54}, {52, 48}},  // IoU 0.50126 with truth 1: a match
                                     rect(100, 95, 150, 125),                   // 2/3 over the ### region: don't-care
                                     rect(140, 105, 200, 120),                  // 1/3 over it: counts, unmatched
                                     {{111, 4}, {171, 14}, {167, 36}, {107, 26}},  // IoU 0.49998 with truth 4: no match
                                     {{121, 17}, {181, 27}, {177, 49}, {117, 39}},  // IoU 0.50035 with truth 4: a match
                                     {{5, 90}, {25, 70}, {25, 90}, {5, 70}}};       // a bow-tie: dropped
  const auto first = match_detections(truth, detections);
  EXPECT_EQ(first.gt_care, 3);
  EXPECT_EQ(first.det_care, 5);
  EXPECT_EQ(first.matched, 3);
  EXPECT_NEAR(polygon_iou(detections[1], truth[1].points), 0.5012590131390666, 1e-12);
  EXPECT_NEAR(polygon_iou(detections[4], truth[4].points), 0.49998202011765397, 1e-12);
  EXPECT_NEAR(polygon_iou(detections[5], truth[4].points), 0.5003496348747238, 1e-12);
  // A detection on a lone ### region is don't-care; the other one counts against precision.
  const auto second = match_detections({{rect(0, 0, 20, 10), true}}, {rect(0, 0, 20, 10), rect(30, 30, 40, 40)});
  EXPECT_EQ(second.gt_care, 0);
  EXPECT_EQ(second.det_care, 1);
  EXPECT_EQ(second.matched, 0);
  const auto v = det_metric({first, second});
  EXPECT_DOUBLE_EQ(v.precision, 0.5);
  EXPECT_DOUBLE_EQ(v.recall, 1.0);
  EXPECT_DOUBLE_EQ(v.hmean, 0.6666666666666666);
}

}  // namespace
}  // namespace paddlex::ocr
