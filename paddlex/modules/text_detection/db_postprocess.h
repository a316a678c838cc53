// PaddleOCR's DBPostProcess (box_type quad, score_mode fast), shared by evaluate and predict: the shrink map
// thresholded, each contour's minimum-area box scored on the map, grown by Vatti offsetting (Clipper, as
// pyclipper) and scaled to the source image.
#pragma once
#include <array>
#include <opencv2/core.hpp>
#include <vector>

namespace paddlex::ocr {

struct DbPostProcessOptions {
  float thresh = 0.3f;        // pixels of the map above this form the text regions
  double box_thresh = 0.6;    // boxes whose mean map value is below this are dropped (a double, as Python's)
  int max_candidates = 1000;  // contours looked at, in OpenCV's order
  double unclip_ratio = 1.5;  // offset distance = area * ratio / perimeter
};

// A detected text box: 4 corners (top-left, top-right, bottom-right, bottom-left) in source pixels.
struct TextBox {
  std::array<cv::Point, 4> points;
  double score = 0;
};

// The boxes of one probability map `pred` (HxW float32, the model's output for an input of that size) for a
// source image of `source_size` pixels.
std::vector<TextBox> db_postprocess(const cv::Mat& pred, cv::Size source_size, const DbPostProcessOptions& options);

// PaddleOCR's get_mini_boxes: the minimum-area rectangle of `points` (integer or float points: minAreaRect's
// convex hull depends on which) as [TL, TR, BR, BL] and its shorter side.
std::array<cv::Point2f, 4> mini_box(cv::InputArray points, float* shorter_side);

// box_score_fast: the mean of `pred` over the quadrilateral `box` (vertices truncated to integers, as numpy's
// astype(int32)), within the box's clipped bounding rectangle.
double box_score_fast(const cv::Mat& pred, const std::array<cv::Point2f, 4>& box);

// unclip: `box` offset outward by area * ratio / perimeter with round joins; the resulting paths.
std::vector<std::vector<cv::Point>> unclip(const std::array<cv::Point2f, 4>& box, double ratio);

}  // namespace paddlex::ocr
