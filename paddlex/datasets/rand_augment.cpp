#include "paddlex/datasets/rand_augment.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "paddlex/core/errors.h"

namespace paddlex {
namespace {

using Op = RandAugmentV4::Op;

constexpr int kMagnitudeLevels = RandAugmentV4::kMaxMagnitude + 1;  // each range is np.linspace(start, stop, 10)
constexpr double kApplyProbability = 0.5;
constexpr uint8_t kGeometricFill = 128;  // SubPolicyV2's fillcolor, and the grey the rotation is composited over
constexpr double kPi = 3.141592653589793;

// np.linspace(start, stop, 10)[index] bit for bit: numpy computes index * ((stop - start) / 9) + start and sets the
// last point to `stop` exactly.
double linspace_at(double start, double stop, int index) {
  if (index == kMagnitudeLevels - 1) return stop;
  const double step = (stop - start) / (kMagnitudeLevels - 1);
  return index * step + start;
}

// np.round(...).astype(int): half to even, which nearbyint does in the default rounding mode.
int rounded_linspace_at(double start, double stop, int index) {
  return static_cast<int>(std::nearbyint(linspace_at(start, stop, index)));
}

// random.choice([-1, 1]).
double random_sign(SampleRng& rng) { return rng.below(2) == 0 ? -1.0 : 1.0; }

// Geometry.c's FLOOR and COORD macros.
int pil_floor(double v) { return static_cast<int>(std::floor(v)); }
int pil_coord(double v) { return v < 0.0 ? -1 : static_cast<int>(v); }

// How Pillow turns a computed value into a byte everywhere here: clamp, then truncate (no rounding).
uint8_t clamp_truncate(double v) {
  if (v <= 0.0) return 0;
  if (v >= 255.0) return 255;
  return static_cast<uint8_t>(v);
}

// ---- geometry (Geometry.c). `a` maps output to input: (x, y) -> (a0 x + a1 y + a2, a3 x + a4 y + a5).

using Affine = std::array<double, 6>;

// PIL's cubic through four samples at fractional offset d (a = -1 convolution).
double pil_cubic(double v1, double v2, double v3, double v4, double d) {
  const double p1 = v2;
  const double p2 = -v1 + v3;
  const double p3 = 2 * (v1 - v2) + v3 - v4;
  const double p4 = -v1 + v2 - v3 + v4;
  return p1 + d * (p2 + d * (p3 + d * p4));
}

// ImagingGenericTransform with bicubic_filter32RGB: the output pixel centre is mapped, a source point outside the
// image keeps the fill, and the 4x4 taps are clamped to the edge (PIL repeats the last valid row, the same thing).
cv::Mat affine_bicubic(const cv::Mat& src, const Affine& a) {
  cv::Mat out(src.size(), CV_8UC3, cv::Scalar::all(kGeometricFill));
  const int width = src.cols, height = src.rows;
  for (int y = 0; y < height; ++y) {
    auto* out_row = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < width; ++x) {
      const double xc = x + 0.5, yc = y + 0.5;
      double xin = a[0] * xc + a[1] * yc + a[2];
      double yin = a[3] * xc + a[4] * yc + a[5];
      if (xin < 0.0 || xin >= width || yin < 0.0 || yin >= height) continue;
      xin -= 0.5;
      yin -= 0.5;
      const int x0 = pil_floor(xin), y0 = pil_floor(yin);
      const double dx = xin - x0, dy = yin - y0;
      std::array<int, 4> tap_x{}, tap_y{};
      for (int k = 0; k < 4; ++k) {
        tap_x[k] = std::clamp(x0 - 1 + k, 0, width - 1);
        tap_y[k] = std::clamp(y0 - 1 + k, 0, height - 1);
      }
      for (int c = 0; c < 3; ++c) {
        std::array<double, 4> rows{};
        for (int k = 0; k < 4; ++k) {
          const auto* in = src.ptr<cv::Vec3b>(tap_y[k]);
          rows[k] = pil_cubic(in[tap_x[0]][c], in[tap_x[1]][c], in[tap_x[2]][c], in[tap_x[3]][c], dx);
        }
        out_row[x][c] = clamp_truncate(pil_cubic(rows[0], rows[1], rows[2], rows[3], dy));
      }
    }
  }
  return out;
}

// ImagingScaleAffine for a pure shift (a0 = a4 = 1, NEAREST): source coordinates accumulate from the first pixel
// centre exactly as PIL's do.
cv::Mat translate_nearest(const cv::Mat& src, double shift_x, double shift_y) {
  cv::Mat out(src.size(), CV_8UC3, cv::Scalar::all(kGeometricFill));
  std::vector<int> source_x(src.cols, 0);
  int first_x = src.cols, end_x = 0;
  double xo = shift_x + 0.5;
  for (int x = 0; x < src.cols; ++x) {
    const int xin = pil_coord(xo);
    if (xin >= 0 && xin < src.cols) {
      end_x = x + 1;
      first_x = std::min(first_x, x);
      source_x[x] = xin;
    }
    xo += 1.0;
  }
  double yo = shift_y + 0.5;
  for (int y = 0; y < src.rows; ++y) {
    const int yin = pil_coord(yo);
    if (yin >= 0 && yin < src.rows) {
      const auto* in = src.ptr<cv::Vec3b>(yin);
      auto* out_row = out.ptr<cv::Vec3b>(y);
      for (int x = first_x; x < end_x; ++x) out_row[x] = in[source_x[x]];
    }
    yo += 1.0;
  }
  return out;
}

// Python's round(v, 15), which Image.rotate applies to the matrix: correctly rounded to 15 decimals (glibc's printf
// rounds correctly too) and read back.
double python_round15(double v) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.15f", v);
  return std::strtod(text, nullptr);
}

// ImagingTransformAffine, NEAREST, rotated matrix: PIL uses 16.16 fixed point when all four corners map within
// +-32768, and accumulated doubles otherwise; both are kept so that every image size matches.
cv::Mat affine_nearest(const cv::Mat& src, const Affine& a) {
  cv::Mat out(src.size(), CV_8UC3, cv::Scalar::all(kGeometricFill));
  const int width = src.cols, height = src.rows;
  const auto fits_fixed = [&a](int x, int y) {
    return std::fabs(x * a[0] + y * a[1] + a[2]) < 32768.0 && std::fabs(x * a[3] + y * a[4] + a[5]) < 32768.0;
  };
  const auto copy_if_inside = [&](int xin, int yin, cv::Vec3b& pixel) {
    if (xin >= 0 && xin < width && yin >= 0 && yin < height) pixel = src.at<cv::Vec3b>(yin, xin);
  };
  if (fits_fixed(0, 0) && fits_fixed(width, height) && fits_fixed(0, height) && fits_fixed(width, 0)) {
    const auto fix = [](double v) { return pil_floor(v * 65536.0 + 0.5); };
    const int a0 = fix(a[0]), a1 = fix(a[1]), a3 = fix(a[3]), a4 = fix(a[4]);
    int row_x = fix(a[2] + a[0] * 0.5 + a[1] * 0.5);
    int row_y = fix(a[5] + a[3] * 0.5 + a[4] * 0.5);
    for (int y = 0; y < height; ++y, row_x += a1, row_y += a4) {
      auto* out_row = out.ptr<cv::Vec3b>(y);
      int xx = row_x, yy = row_y;
      // Arithmetic right shift floors negative coordinates, as in PIL's build.
      for (int x = 0; x < width; ++x, xx += a0, yy += a3) copy_if_inside(xx >> 16, yy >> 16, out_row[x]);
    }
    return out;
  }
  double row_x = a[2] + a[1] * 0.5 + a[0] * 0.5;
  double row_y = a[5] + a[4] * 0.5 + a[3] * 0.5;
  for (int y = 0; y < height; ++y, row_x += a[1], row_y += a[4]) {
    auto* out_row = out.ptr<cv::Vec3b>(y);
    double xx = row_x, yy = row_y;
    for (int x = 0; x < width; ++x, xx += a[0], yy += a[3]) copy_if_inside(pil_coord(xx), pil_coord(yy), out_row[x]);
  }
  return out;
}

// Image.rotate(degrees) (counter-clockwise, NEAREST, same size) as Image.py builds its inverse matrix.
cv::Mat rotate_nearest(const cv::Mat& src, double degrees) {
  const double radians = -(degrees * (kPi / 180.0));
  Affine a = {python_round15(std::cos(radians)), python_round15(std::sin(radians)), 0.0,
              python_round15(-std::sin(radians)), python_round15(std::cos(radians)), 0.0};
  const double centre_x = src.cols / 2.0, centre_y = src.rows / 2.0;
  const double shift_x = a[0] * -centre_x + a[1] * -centre_y + a[2];
  const double shift_y = a[3] * -centre_x + a[4] * -centre_y + a[5];
  a[2] = shift_x + centre_x;
  a[5] = shift_y + centre_y;
  return affine_nearest(src, a);
}

// ---- ImageEnhance

// Convert.c rgb2l, ITU-R 601-2 luma in 16-bit fixed point.
uint8_t pil_luma(const cv::Vec3b& rgb) {
  return static_cast<uint8_t>((rgb[0] * 19595 + rgb[1] * 38470 + rgb[2] * 7471 + 0x8000) >> 16);
}

// Image.blend(degenerate, image, factor) (Blend.c), written into `image`: degenerate + factor * (image -
// degenerate) in single precision, clamped and truncated.
void blend_into(cv::Mat& image, const cv::Mat& degenerate, float factor) {
  for (int y = 0; y < image.rows; ++y) {
    auto* row = image.ptr<cv::Vec3b>(y);
    const auto* base = degenerate.ptr<cv::Vec3b>(y);
    for (int x = 0; x < image.cols; ++x) {
      for (int c = 0; c < 3; ++c) {
        const float mixed = static_cast<float>(base[x][c]) + factor * static_cast<float>(row[x][c] - base[x][c]);
        row[x][c] = clamp_truncate(mixed);
      }
    }
  }
}

// ImageEnhance's `1 + magnitude * random.choice([-1, 1])`, passed to C as a float.
float enhance_factor(int magnitude, SampleRng& rng) {
  return static_cast<float>(1.0 + linspace_at(0.0, 0.9, magnitude) * random_sign(rng));
}

// ImageEnhance.Color's degenerate: image.convert("L").convert("RGB").
cv::Mat grey_as_rgb(const cv::Mat& rgb) {
  cv::Mat grey(rgb.size(), CV_8UC3);
  for (int y = 0; y < rgb.rows; ++y) {
    const auto* in = rgb.ptr<cv::Vec3b>(y);
    auto* out = grey.ptr<cv::Vec3b>(y);
    for (int x = 0; x < rgb.cols; ++x) out[x] = cv::Vec3b::all(pil_luma(in[x]));
  }
  return grey;
}

// ImageEnhance.Contrast's degenerate: the mean of the L image, int(mean + 0.5), everywhere.
cv::Mat mean_grey(const cv::Mat& rgb) {
  int64_t sum = 0;
  for (int y = 0; y < rgb.rows; ++y) {
    const auto* in = rgb.ptr<cv::Vec3b>(y);
    for (int x = 0; x < rgb.cols; ++x) sum += pil_luma(in[x]);
  }
  const double mean = static_cast<double>(sum) / static_cast<double>(rgb.total());
  return cv::Mat(rgb.size(), CV_8UC3, cv::Scalar::all(static_cast<int>(mean + 0.5)));
}

// ImageEnhance.Sharpness's degenerate: ImageFilter.SMOOTH through Filter.c's ImagingFilter3x3 — float weights
// k / 13, rows summed from y + 1 up to y - 1 after the 0.5 rounding offset, then truncation; the one-pixel border
// is copied and an image smaller than the kernel is returned unchanged.
cv::Mat pil_smooth(const cv::Mat& rgb) {
  cv::Mat out = rgb.clone();
  if (rgb.rows < 3 || rgb.cols < 3) return out;
  const float side = 1.0f / 13.0f, centre = 5.0f / 13.0f;
  const auto row_sum = [](const cv::Vec3b* row, int x, int c, float middle_weight, float side_weight) {
    return static_cast<float>(row[x - 1][c]) * side_weight + static_cast<float>(row[x][c]) * middle_weight +
           static_cast<float>(row[x + 1][c]) * side_weight;
  };
  for (int y = 1; y < rgb.rows - 1; ++y) {
    const auto* above = rgb.ptr<cv::Vec3b>(y - 1);
    const auto* row = rgb.ptr<cv::Vec3b>(y);
    const auto* below = rgb.ptr<cv::Vec3b>(y + 1);
    auto* out_row = out.ptr<cv::Vec3b>(y);
    for (int x = 1; x < rgb.cols - 1; ++x) {
      for (int c = 0; c < 3; ++c) {
        float sum = 0.5f;
        sum += row_sum(below, x, c, side, side);
        sum += row_sum(row, x, c, centre, side);
        sum += row_sum(above, x, c, side, side);
        out_row[x][c] = clamp_truncate(sum);
      }
    }
  }
  return out;
}

// ---- ImageOps: per-channel lookup tables (ImageOps._lut), entries clipped to 0..255 as Image.point does.

using Lut = std::array<uint8_t, 256>;
using Histogram = std::array<int64_t, 256>;

Lut make_lut(int (*entry)(int, int), int parameter) {
  Lut lut{};
  for (int i = 0; i < 256; ++i) lut[i] = static_cast<uint8_t>(std::clamp(entry(i, parameter), 0, 255));
  return lut;
}

Lut identity_lut() {
  return make_lut([](int i, int) { return i; }, 0);
}

void apply_luts(cv::Mat& rgb, const std::array<Lut, 3>& luts) {
  for (int y = 0; y < rgb.rows; ++y) {
    auto* row = rgb.ptr<cv::Vec3b>(y);
    for (int x = 0; x < rgb.cols; ++x)
      for (int c = 0; c < 3; ++c) row[x][c] = luts[c][row[x][c]];
  }
}

void apply_lut(cv::Mat& rgb, const Lut& lut) { apply_luts(rgb, {lut, lut, lut}); }

std::array<Histogram, 3> channel_histograms(const cv::Mat& rgb) {
  std::array<Histogram, 3> histograms{};
  for (int y = 0; y < rgb.rows; ++y) {
    const auto* row = rgb.ptr<cv::Vec3b>(y);
    for (int x = 0; x < rgb.cols; ++x)
      for (int c = 0; c < 3; ++c) ++histograms[c][row[x][c]];
  }
  return histograms;
}

// ImageOps.autocontrast(cutoff=0): stretch [lo, hi] to [0, 255] with int() truncation; a flat channel is kept.
Lut autocontrast_lut(const Histogram& histogram) {
  int lo = 0, hi = 255;
  while (lo < 256 && histogram[lo] == 0) ++lo;
  while (hi >= 0 && histogram[hi] == 0) --hi;
  if (hi <= lo) return identity_lut();
  const double scale = 255.0 / (hi - lo);
  const double offset = -lo * scale;
  Lut lut{};
  for (int i = 0; i < 256; ++i) lut[i] = static_cast<uint8_t>(std::clamp(static_cast<int>(i * scale + offset), 0, 255));
  return lut;
}

// ImageOps.equalize: step = (pixels - count of the highest present value) // 255; no change when a channel has
// one value or step is 0.
Lut equalize_lut(const Histogram& histogram) {
  int64_t total = 0, last_count = 0;
  int present_values = 0;
  for (int64_t count : histogram) {
    if (count == 0) continue;
    total += count;
    last_count = count;
    ++present_values;
  }
  if (present_values <= 1) return identity_lut();
  const int64_t step = (total - last_count) / 255;
  if (step == 0) return identity_lut();
  Lut lut{};
  int64_t running = step / 2;
  for (int i = 0; i < 256; ++i) {
    lut[i] = static_cast<uint8_t>(std::min<int64_t>(running / step, 255));
    running += histogram[i];
  }
  return lut;
}

// The reference's numpy cutout: centre row then column drawn in [0, size], the square [c - half, c + half) clipped
// to the image set to 0.
void cutout(cv::Mat& rgb, int half_size, SampleRng& rng) {
  const int centre_y = static_cast<int>(rng.below(static_cast<uint64_t>(rgb.rows) + 1));
  const int centre_x = static_cast<int>(rng.below(static_cast<uint64_t>(rgb.cols) + 1));
  const int top = std::max(0, centre_y - half_size), bottom = std::min(rgb.rows, centre_y + half_size);
  const int left = std::max(0, centre_x - half_size), right = std::min(rgb.cols, centre_x + half_size);
  if (bottom > top && right > left) rgb(cv::Rect(left, top, right - left, bottom - top)).setTo(cv::Scalar::all(0));
}

}  // namespace

void RandAugmentV4::apply(cv::Mat& rgb, SampleRng& rng) const {
  constexpr uint64_t kChoices = static_cast<uint64_t>(kOpCount) * kMaxMagnitude;  // (op, magnitude 1..9) pairs
  const uint64_t policy = rng.below(kChoices * kChoices);
  for (const uint64_t choice : {policy / kChoices, policy % kChoices}) {
    if (rng.uniform() < kApplyProbability) {
      apply_op(rgb, static_cast<Op>(choice / kMaxMagnitude), 1 + static_cast<int>(choice % kMaxMagnitude), rng);
    }
  }
}

void RandAugmentV4::apply_op(cv::Mat& rgb, Op op, int magnitude, SampleRng& rng) {
  if (rgb.type() != CV_8UC3) throw RunError("RandAugmentV4 needs an 8-bit 3-channel RGB image");
  if (magnitude < 0 || magnitude > kMaxMagnitude) {
    throw RunError("RandAugmentV4 magnitude index " + std::to_string(magnitude) + " is outside 0.." +
                   std::to_string(kMaxMagnitude));
  }
  switch (op) {
    case Op::kShearX: {
      const double shear = linspace_at(0.0, 0.3, magnitude) * random_sign(rng);
      affine_bicubic(rgb, {1.0, shear, 0.0, 0.0, 1.0, 0.0}).copyTo(rgb);
      return;
    }
    case Op::kShearY: {
      const double shear = linspace_at(0.0, 0.3, magnitude) * random_sign(rng);
      affine_bicubic(rgb, {1.0, 0.0, 0.0, shear, 1.0, 0.0}).copyTo(rgb);
      return;
    }
    case Op::kTranslateX: {
      const double shift = linspace_at(0.0, 150.0 / 331, magnitude) * rgb.cols * random_sign(rng);
      translate_nearest(rgb, shift, 0.0).copyTo(rgb);
      return;
    }
    case Op::kTranslateY: {
      const double shift = linspace_at(0.0, 150.0 / 331, magnitude) * rgb.rows * random_sign(rng);
      translate_nearest(rgb, 0.0, shift).copyTo(rgb);
      return;
    }
    case Op::kRotate:
      rotate_nearest(rgb, linspace_at(0.0, 30.0, magnitude)).copyTo(rgb);
      return;
    case Op::kColor: {
      const cv::Mat grey = grey_as_rgb(rgb);
      blend_into(rgb, grey, enhance_factor(magnitude, rng));
      return;
    }
    case Op::kPosterize: {
      const int kept_bits = rounded_linspace_at(8.0, 4.0, magnitude);
      apply_lut(rgb, make_lut([](int i, int bits) { return i & ~((1 << (8 - bits)) - 1); }, kept_bits));
      return;
    }
    case Op::kSolarize: {
      const double threshold = linspace_at(256.0, 0.0, magnitude);
      Lut lut{};
      for (int i = 0; i < 256; ++i) lut[i] = static_cast<uint8_t>(i < threshold ? i : 255 - i);
      apply_lut(rgb, lut);
      return;
    }
    case Op::kContrast: {
      const cv::Mat mean = mean_grey(rgb);
      blend_into(rgb, mean, enhance_factor(magnitude, rng));
      return;
    }
    case Op::kSharpness: {
      const cv::Mat smooth = pil_smooth(rgb);
      blend_into(rgb, smooth, enhance_factor(magnitude, rng));
      return;
    }
    case Op::kBrightness: {
      const cv::Mat black(rgb.size(), CV_8UC3, cv::Scalar::all(0));
      blend_into(rgb, black, enhance_factor(magnitude, rng));
      return;
    }
    case Op::kAutoContrast: {
      const auto histograms = channel_histograms(rgb);
      apply_luts(rgb, {autocontrast_lut(histograms[0]), autocontrast_lut(histograms[1]),
                       autocontrast_lut(histograms[2])});
      return;
    }
    case Op::kEqualize: {
      const auto histograms = channel_histograms(rgb);
      apply_luts(rgb, {equalize_lut(histograms[0]), equalize_lut(histograms[1]), equalize_lut(histograms[2])});
      return;
    }
    case Op::kInvert:
      apply_lut(rgb, make_lut([](int i, int) { return 255 - i; }, 0));
      return;
    case Op::kCutout:
      cutout(rgb, rounded_linspace_at(0.0, 20.0, magnitude), rng);
      return;
  }
  throw RunError("RandAugmentV4: unknown op " + std::to_string(static_cast<int>(op)));
}

}  // namespace paddlex
