#include "paddlex/datasets/transforms.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace paddlex {

uint64_t SampleRng::next_u64() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double SampleRng::uniform() { return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0); }

double SampleRng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

uint64_t SampleRng::below(uint64_t n) { return n == 0 ? 0 : static_cast<uint64_t>(uniform() * n) % n; }

uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  SampleRng rng(a);
  uint64_t h = rng.next_u64();
  for (uint64_t v : {b, c, d}) {
    SampleRng r(h ^ (v * 0xD6E8FEB86659FD93ULL));
    h = r.next_u64();
  }
  return h;
}

cv::Mat random_resized_crop(const cv::Mat& rgb, int size, double scale_lo, double scale_hi, SampleRng& rng) {
  const int width = rgb.cols, height = rgb.rows;
  const double area = static_cast<double>(width) * height;
  const double log_lo = std::log(3.0 / 4.0), log_hi = std::log(4.0 / 3.0);
  cv::Rect box;
  bool found = false;
  for (int attempt = 0; attempt < 10 && !found; ++attempt) {
    double target_area = area * rng.uniform(scale_lo, scale_hi);
    double ratio = std::exp(rng.uniform(log_lo, log_hi));
    int w = static_cast<int>(std::lround(std::sqrt(target_area * ratio)));
    int h = static_cast<int>(std::lround(std::sqrt(target_area / ratio)));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      int y = static_cast<int>(rng.below(static_cast<uint64_t>(height - h + 1)));
      int x = static_cast<int>(rng.below(static_cast<uint64_t>(width - w + 1)));
      box = cv::Rect(x, y, w, h);
      found = true;
    }
  }
  if (!found) {  // Fallback of torchvision: whole image, aspect ratio clamped to the allowed range.
    double in_ratio = static_cast<double>(width) / height;
    int w = width, h = height;
    if (in_ratio < 3.0 / 4.0) {
      h = static_cast<int>(std::lround(w / (3.0 / 4.0)));
    } else if (in_ratio > 4.0 / 3.0) {
      w = static_cast<int>(std::lround(h * (4.0 / 3.0)));
    }
    box = cv::Rect((width - w) / 2, (height - h) / 2, w, h);
  }
  cv::Mat out;
  cv::resize(rgb(box), out, cv::Size(size, size), 0, 0, cv::INTER_LINEAR);
  return out;
}

cv::Mat resize_short_center_crop(const cv::Mat& rgb, int resize_short, int crop) {
  const double scale = static_cast<double>(resize_short) / std::min(rgb.cols, rgb.rows);
  int w = std::max(crop, static_cast<int>(std::lround(rgb.cols * scale)));
  int h = std::max(crop, static_cast<int>(std::lround(rgb.rows * scale)));
  cv::Mat resized;
  cv::resize(rgb, resized, cv::Size(w, h), 0, 0, cv::INTER_LINEAR);  // as PaddleClas ResizeImage
  return resized(cv::Rect((w - crop) / 2, (h - crop) / 2, crop, crop)).clone();
}

void horizontal_flip_inplace(cv::Mat& rgb) { cv::flip(rgb, rgb, 1); }

void normalize_to_chw(const cv::Mat& rgb, const NormalizeSpec& norm, float* dst) {
  const int h = rgb.rows, w = rgb.cols;
  const size_t plane = static_cast<size_t>(h) * w;
  float scale[3], shift[3];
  for (int c = 0; c < 3; ++c) {
    scale[c] = static_cast<float>(1.0 / (255.0 * norm.std[c]));
    shift[c] = static_cast<float>(-norm.mean[c] / norm.std[c]);
  }
  for (int y = 0; y < h; ++y) {
    const uint8_t* row = rgb.ptr<uint8_t>(y);
    float* r = dst + static_cast<size_t>(y) * w;
    float* g = r + plane;
    float* b = g + plane;
    for (int x = 0; x < w; ++x) {
      r[x] = row[3 * x] * scale[0] + shift[0];
      g[x] = row[3 * x + 1] * scale[1] + shift[1];
      b[x] = row[3 * x + 2] * scale[2] + shift[2];
    }
  }
}

}  // namespace paddlex
