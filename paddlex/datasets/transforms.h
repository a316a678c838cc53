// Image transforms for classification: train (random resized crop + flip) and eval (resize short + center
// crop), then normalization into a CHW float buffer. Randomness comes only from the SampleRng passed in,
// so a sample's augmentation is a pure function of its seed.
#pragma once
#include <opencv2/core.hpp>

#include <array>
#include <cstdint>

namespace paddlex {

// SplitMix64-based generator: tiny, fast, identical on every platform and standard library.
class SampleRng {
 public:
  explicit SampleRng(uint64_t seed) : state_(seed) {}
  uint64_t next_u64();
  double uniform();                          // [0, 1)
  double uniform(double lo, double hi);      // [lo, hi)
  uint64_t below(uint64_t n);                // [0, n)

 private:
  uint64_t state_;
};

// Mixes several integers into one well-spread seed (seed, epoch, index, ...).
uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c = 0, uint64_t d = 0);

struct NormalizeSpec {
  std::array<double, 3> mean{0.485, 0.456, 0.406};
  std::array<double, 3> std{0.229, 0.224, 0.225};
};

// torchvision RandomResizedCrop: area fraction in [scale_lo, scale_hi], aspect ratio log-uniform in
// [3/4, 4/3], 10 tries, then a center crop of the clamped ratio; resized to size x size (bilinear).
cv::Mat random_resized_crop(const cv::Mat& rgb, int size, double scale_lo, double scale_hi, SampleRng& rng);

// Eval: resize the short side to `resize_short` (bilinear), then center-crop crop x crop.
cv::Mat resize_short_center_crop(const cv::Mat& rgb, int resize_short, int crop);

void horizontal_flip_inplace(cv::Mat& rgb);

// Writes an 8-bit HxWx3 RGB image as normalized float CHW into `dst` (3*H*W floats).
void normalize_to_chw(const cv::Mat& rgb, const NormalizeSpec& norm, float* dst);

}  // namespace paddlex
