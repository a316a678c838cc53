// Image decoding to the engine's canonical form: 8-bit, 3-channel RGB.
#pragma once
#include <opencv2/core.hpp>

#include <string>

namespace paddlex {

// Decodes `path` to 8-bit RGB (grayscale, BGRA and 16-bit inputs are converted).
// Throws RunError naming the path when the file is missing or not a decodable image.
cv::Mat read_image_rgb(const std::string& path);

// Same, but returns an empty Mat instead of throwing (for checkers that collect every problem).
cv::Mat try_read_image_rgb(const std::string& path);

}  // namespace paddlex
