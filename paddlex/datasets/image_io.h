// Image decoding to the engine's canonical form: 8-bit, 3-channel RGB.
#pragma once
#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace paddlex {

// Decodes `path` to 8-bit RGB (grayscale, BGRA and 16-bit inputs are converted).
// Throws RunError naming the path when the file is missing or not a decodable image.
cv::Mat read_image_rgb(const std::string& path);

// Same, but returns an empty Mat instead of throwing (for checkers that collect every problem).
cv::Mat try_read_image_rgb(const std::string& path);

// Predict.input of image tasks: one image file, a directory (its images, sorted by name), or a .txt list (first
// field per line, relative to the list's directory). Throws RunError naming `input` when it yields no image.
std::vector<std::string> collect_image_inputs(const std::string& input);

// Writes `rgb` with `lines` of text on a band below it (tiny images enlarged first so the text stays readable):
// the demo images of check_dataset and the pictures of predict. Throws RunError if it cannot be written.
void save_captioned_image(const cv::Mat& rgb, const std::vector<std::string>& lines, const std::string& path);

}  // namespace paddlex
