// PaddleClas's RandAugmentV4, the "Custom RandAugment for ML-Decoder" (PaddleClas
// ppcls/data/preprocess/ops/randaugment.py, classes RandAugmentV4 and SubPolicyV2). Every (op, magnitude index
// 1..9) pair of the 15 ops makes 135 choices; one of the 135 x 135 ordered pairs is drawn uniformly and each of its
// two ops runs with probability 0.5. Magnitudes are 10-point numpy linspaces indexed by the magnitude index.
//
// The ops reproduce Pillow's own C code (libImaging Geometry.c, Filter.c, Blend.c, Convert.c; ImageOps and
// ImageEnhance), checked against Pillow 13, integer rounding included, rather than approximating it with OpenCV:
//  - shearX/Y: Image.transform(AFFINE, BICUBIC) with PIL's cubic (a = -1, where OpenCV's INTER_CUBIC uses -0.75),
//    sampled at output pixel centres, edge taps clamped, result truncated; outside the source: fill 128.
//  - translateX/Y: PIL's nearest-neighbour ImagingScaleAffine (source x = floor(x + 0.5 + shift)); fill 128.
//  - rotate: counter-clockwise about (w/2, h/2) in PIL's 16.16 fixed-point nearest-neighbour path, no random sign;
//    the reference's RGBA rotate composited over (128,128,128,128) equals filling uncovered pixels with 128.
//  - color/contrast/brightness/sharpness: Image.blend(degenerate, image, 1 +- m) in single precision, clamped and
//    truncated (PIL does not round); grey is PIL's L = (19595 R + 38470 G + 7471 B + 32768) >> 16; SMOOTH is
//    PIL's 3x3 kernel [1 1 1; 1 5 1; 1 1 1] / 13 rounded half up, with the one-pixel border left as it is.
//  - posterize/solarize/invert/autocontrast/equalize: ImageOps' per-channel lookup tables, clipped to 0..255.
//  - cutout: the reference's numpy cutout, fill 0.
// Deviations that remain:
//  - the draws come from SampleRng, not Python's `random` / `numpy.random`: a seed reproduces the distribution of
//    a PaddleClas run, not its images;
//  - single/double precision arithmetic is the same as Pillow's, but a compiler that fuses multiply-adds (FMA
//    targets built with contraction enabled, e.g. aarch64) can move a value lying exactly on a rounding boundary
//    by one grey level, in Pillow's build or in this one.
#pragma once
#include <opencv2/core.hpp>

#include "paddlex/core/random.h"

namespace paddlex {

class RandAugmentV4 {
 public:
  // The reference's op order (RandAugmentV4.get_trans_list), which numbers the policy list.
  enum class Op {
    kShearX,
    kShearY,
    kTranslateX,
    kTranslateY,
    kRotate,
    kColor,
    kPosterize,
    kSolarize,
    kContrast,
    kSharpness,
    kBrightness,
    kAutoContrast,
    kEqualize,
    kInvert,
    kCutout
  };
  static constexpr int kOpCount = 15;
  static constexpr int kMaxMagnitude = 9;  // magnitude indices run 0..9; policies use 1..9

  // Applies one uniformly chosen policy (two ops, each with probability 0.5) to `rgb` (8-bit RGB) in place.
  void apply(cv::Mat& rgb, SampleRng& rng) const;
  // One operation at magnitude index 0..kMaxMagnitude, in place. The random sign (geometric and enhance ops) or
  // cutout centre (row, then column) is drawn from `rng` where the reference draws it, even when the magnitude is
  // 0. Throws RunError for an image that is not CV_8UC3 or a magnitude out of range.
  static void apply_op(cv::Mat& rgb, Op op, int magnitude, SampleRng& rng);
};

}  // namespace paddlex
