#include "paddlex/modules/text_recognition/rec_augment.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>

#include "paddlex/core/errors.h"

namespace paddlex::ocr {
namespace {

constexpr int kGrid = 100;      // WarpMLS.grid_size
constexpr double kProb = 0.4;   // every RecAug / BaseDataAugmentation default probability

void check_8u(const cv::Mat& img, const char* what) {
  if (img.empty() || img.depth() != CV_8U || img.channels() > 4)
    throw RunError(std::string(what) + ": expected a non-empty 8-bit image with 1 to 4 channels");
}

void check_bgr(const cv::Mat& img, const char* what) {
  if (img.empty() || img.type() != CV_8UC3) throw RunError(std::string(what) + ": expected a non-empty CV_8UC3 image");
}

// calc_delta's grid along one axis: every multiple of 100 below `size`, then size - 1 if not already there.
std::vector<int> grid_coords(int size) {
  std::vector<int> coords;
  for (int i = 0; i < size; i += kGrid) coords.push_back(i);
  if (coords.back() != size - 1) coords.push_back(size - 1);
  return coords;
}

struct Delta {
  double dx = 0, dy = 0;
};

// Backward displacement (source - destination) at grid point (x, y), as calc_delta computes it. The numpy dtypes are
// kept because they decide the last bit, and a truncated uint8 can hang on it: the weights, their sum, the centred
// point, the per-point terms and the accumulated result are float32; the weighted centroids and miu_s float64.
// (A build that fuses multiply-adds, e.g. -march=native with FMA, can still move a boundary value by one level.)
Delta mls_delta(int x, int y, const std::vector<cv::Point2d>& p, const std::vector<cv::Point2d>& q,
                std::vector<float>& w) {
  const size_t n = p.size();
  size_t hit = n;
  for (size_t k = 0; k < n; ++k) {
    if (x == p[k].x && y == p[k].y) {
      hit = k;
      break;
    }
  }
  // On a control point the map is that point's source. The reference only takes this branch for a point other
  // than the last one: `if k == pt_count - 1` after the loop is also true when the loop broke at the last point,
  // so then it solves MLS over the remaining points. Kept for parity.
  if (hit + 1 < n) return {q[hit].x - x, q[hit].y - y};

  float sw = 0;
  double swp_x = 0, swp_y = 0, swq_x = 0, swq_y = 0;
  for (size_t k = 0; k < n; ++k) {
    if (k == hit) continue;
    const double ex = x - p[k].x, ey = y - p[k].y;
    w[k] = static_cast<float>(1.0 / (ex * ex + ey * ey));
    sw += w[k];
    swp_x += static_cast<double>(w[k]) * p[k].x;
    swp_y += static_cast<double>(w[k]) * p[k].y;
    swq_x += static_cast<double>(w[k]) * q[k].x;
    swq_y += static_cast<double>(w[k]) * q[k].y;
  }
  const double inv_sw = 1.0f / sw;  // `1 / sw` with sw a float32 scalar stays float32
  const double pstar_x = inv_sw * swp_x, pstar_y = inv_sw * swp_y;
  const double qstar_x = inv_sw * swq_x, qstar_y = inv_sw * swq_y;

  double miu_s = 0;
  for (size_t k = 0; k < n; ++k) {
    if (k == hit) continue;
    const double ix = p[k].x - pstar_x, iy = p[k].y - pstar_y;
    miu_s += static_cast<double>(w[k]) * (ix * ix + iy * iy);
  }
  // Every control point at one place: no rotation or scale to solve for, only the translation (numpy gives NaN).
  if (!(miu_s > 0)) {
    return {static_cast<float>(static_cast<float>(qstar_x) - static_cast<float>(x)),
            static_cast<float>(static_cast<float>(qstar_y) - static_cast<float>(y))};
  }

  const float cx = static_cast<float>(x - pstar_x), cy = static_cast<float>(y - pstar_y);
  const double cjx = -cy, cjy = cx;  // cur_pt rotated by 90 degrees
  float new_x = 0, new_y = 0;
  for (size_t k = 0; k < n; ++k) {
    if (k == hit) continue;
    const double ix = p[k].x - pstar_x, iy = p[k].y - pstar_y;
    const double jx = -iy, jy = ix;
    float t0 = static_cast<float>((ix * cx + iy * cy) * q[k].x - (jx * cx + jy * cy) * q[k].y);
    float t1 = static_cast<float>(-(ix * cjx + iy * cjy) * q[k].x + (jx * cjx + jy * cjy) * q[k].y);
    const double scale = static_cast<double>(w[k]) / miu_s;
    t0 = static_cast<float>(t0 * scale);
    t1 = static_cast<float>(t1 * scale);
    new_x += t0;
    new_y += t1;
  }
  new_x = static_cast<float>(new_x + qstar_x);
  new_y = static_cast<float>(new_y + qstar_y);
  return {new_x - static_cast<float>(x), new_y - static_cast<float>(y)};
}

// Bilinear sampling of one output row segment at source positions (xs, ys), already clamped to the image. The
// value is computed in float64, rounded to float32 (the reference's output buffer) and truncated to uint8. The
// neighbours are gathered first so that the arithmetic runs as plain loops the compiler vectorizes.
template <int CN>
void sample_row(const cv::Mat& src, const double* xs, const double* ys, int n, uint8_t* out) {
  constexpr int kMax = kGrid * CN;
  std::array<double, kMax> v11, v12, v21, v22, fx, fy;
  for (int k = 0; k < n; ++k) {
    const int x0 = static_cast<int>(xs[k]), y0 = static_cast<int>(ys[k]);  // >= 0, so truncation is floor
    const int x1 = x0 + (xs[k] > x0 ? 1 : 0), y1 = y0 + (ys[k] > y0 ? 1 : 0);  // ceil
    const uint8_t* r0 = src.ptr<uint8_t>(y0);
    const uint8_t* r1 = src.ptr<uint8_t>(y1);
    for (int c = 0; c < CN; ++c) {
      const int i = k * CN + c;
      v11[i] = r0[x0 * CN + c];
      v12[i] = r0[x1 * CN + c];
      v21[i] = r1[x0 * CN + c];
      v22[i] = r1[x1 * CN + c];
      fx[i] = xs[k] - x0;
      fy[i] = ys[k] - y0;
    }
  }
  for (int i = 0; i < n * CN; ++i) {
    const double v = (v11[i] * (1 - fx[i]) + v12[i] * fx[i]) * (1 - fy[i]) +
                     (v21[i] * (1 - fx[i]) + v22[i] * fx[i]) * fy[i];
    const float f = std::min(std::max(static_cast<float>(v), 0.0f), 255.0f);
    out[i] = static_cast<uint8_t>(f);
  }
}

using SampleRowFn = void (*)(const cv::Mat&, const double*, const double*, int, uint8_t*);

SampleRowFn sampler_for(int channels) {
  switch (channels) {
    case 1: return sample_row<1>;
    case 2: return sample_row<2>;
    case 3: return sample_row<3>;
    default: return sample_row<4>;
  }
}

// np.random.randint(n) as a float coordinate offset. numpy raises for n <= 0; below(0) gives 0, i.e. no move.
float draw(SampleRng& rng, int n) { return static_cast<float>(rng.below(n > 0 ? static_cast<uint64_t>(n) : 0)); }

// P(floor(e) < k) bounds for e = 0.5 * N(0, sqrt(0.1)), the reference's noise: floor(e) is all that survives the
// truncation to uint8. P(e < -1) = Phi(-1 / 0.158) ~ 1.3e-10; floor(e) <= -3 or >= 2 has probability ~1e-36.
double noise_tail() {
  static const double tail = 0.5 * std::erfc(1.0 / (0.5 * std::sqrt(0.1) * std::sqrt(2.0)));
  return tail;
}

}  // namespace

cv::Mat warp_mls(const cv::Mat& src, const std::vector<cv::Point2f>& src_pts,
                 const std::vector<cv::Point2f>& dst_pts, int dst_w, int dst_h, double trans_ratio) {
  check_8u(src, "warp_mls");
  if (src_pts.size() != dst_pts.size()) throw RunError("warp_mls: src_pts and dst_pts differ in length");
  if (dst_w <= 0 || dst_h <= 0) throw RunError("warp_mls: empty output size");

  // Displacements on the grid; all zero (identity) with fewer than two points, as in the reference.
  const std::vector<int> gx = grid_coords(dst_w), gy = grid_coords(dst_h);
  const int ngx = static_cast<int>(gx.size()), ngy = static_cast<int>(gy.size());
  std::vector<double> rdx(gx.size() * gy.size(), 0.0), rdy(rdx.size(), 0.0);
  if (dst_pts.size() >= 2) {
    std::vector<cv::Point2d> p(dst_pts.begin(), dst_pts.end()), q(src_pts.begin(), src_pts.end());
    std::vector<float> w(p.size(), 0.0f);
    for (int b = 0; b < ngy; ++b) {
      for (int a = 0; a < ngx; ++a) {
        const Delta d = mls_delta(gx[a], gy[b], p, q, w);
        rdx[b * ngx + a] = d.dx;
        rdy[b * ngx + a] = d.dy;
      }
    }
  }

  // gen_img: cells start at multiples of 100; a cell of h rows interpolates with di / h, so its last row stops
  // one step short of the next grid value (the image's last row and column never reach theirs exactly).
  cv::Mat dst(dst_h, dst_w, src.type());
  const SampleRowFn sample = sampler_for(src.channels());
  const double max_x = src.cols - 1, max_y = src.rows - 1;
  const int cn = src.channels();
  std::array<double, kGrid> cf{}, cf1{}, xs{}, ys{};
  for (int ci = 0; ci * kGrid < dst_h; ++ci) {
    const int y0 = ci * kGrid, ch = std::min(kGrid, dst_h - y0);
    const int b0 = ci, b1 = std::min(ci + 1, ngy - 1);
    for (int cj = 0; cj * kGrid < dst_w; ++cj) {
      const int x0 = cj * kGrid, cw = std::min(kGrid, dst_w - x0);
      const int a0 = cj, a1 = std::min(cj + 1, ngx - 1);
      const double x11 = rdx[b0 * ngx + a0], x12 = rdx[b0 * ngx + a1], x21 = rdx[b1 * ngx + a0],
                   x22 = rdx[b1 * ngx + a1];
      const double y11 = rdy[b0 * ngx + a0], y12 = rdy[b0 * ngx + a1], y21 = rdy[b1 * ngx + a0],
                   y22 = rdy[b1 * ngx + a1];
      for (int dj = 0; dj < cw; ++dj) {
        cf[dj] = static_cast<double>(dj) / cw;
        cf1[dj] = 1 - cf[dj];
      }
      for (int di = 0; di < ch; ++di) {
        const double rf = static_cast<double>(di) / ch, rf1 = 1 - rf;
        const double row = y0 + di;
        for (int dj = 0; dj < cw; ++dj) {
          const double ddx = (x11 * cf1[dj] + x12 * cf[dj]) * rf1 + (x21 * cf1[dj] + x22 * cf[dj]) * rf;
          const double ddy = (y11 * cf1[dj] + y12 * cf[dj]) * rf1 + (y21 * cf1[dj] + y22 * cf[dj]) * rf;
          double sx = (x0 + dj) + ddx * trans_ratio, sy = row + ddy * trans_ratio;
          sx = sx > 0 ? (sx < max_x ? sx : max_x) : 0;  // np.clip; a NaN lands on 0
          sy = sy > 0 ? (sy < max_y ? sy : max_y) : 0;
          xs[dj] = sx;
          ys[dj] = sy;
        }
        sample(src, xs.data(), ys.data(), cw, dst.ptr<uint8_t>(y0 + di) + x0 * cn);
      }
    }
  }
  return dst;
}

cv::Mat tia_distort(const cv::Mat& img, int segment, SampleRng& rng) {
  check_8u(img, "tia_distort");
  if (segment < 1) throw RunError("tia_distort: segment must be >= 1");
  const int h = img.rows, w = img.cols;
  const int cut = w / segment, thresh = cut / 3;
  const float half = thresh * 0.5f;
  std::vector<cv::Point2f> src{{0.f, 0.f}, {float(w), 0.f}, {float(w), float(h)}, {0.f, float(h)}};
  std::vector<cv::Point2f> dst;
  // Corners inwards; x is drawn before y, corner by corner, as the reference's list literals evaluate.
  const float ax = draw(rng, thresh), ay = draw(rng, thresh);
  dst.emplace_back(ax, ay);
  const float bx = draw(rng, thresh), by = draw(rng, thresh);
  dst.emplace_back(w - bx, by);
  const float cx = draw(rng, thresh), cy = draw(rng, thresh);
  dst.emplace_back(w - cx, h - cy);
  const float dx = draw(rng, thresh), dy = draw(rng, thresh);
  dst.emplace_back(dx, h - dy);
  for (int k = 1; k < segment; ++k) {
    const float x = static_cast<float>(cut * k);
    src.emplace_back(x, 0.f);
    src.emplace_back(x, float(h));
    const float tx = draw(rng, thresh) - half, ty = draw(rng, thresh) - half;
    dst.emplace_back(x + tx, ty);
    const float bx2 = draw(rng, thresh) - half, by2 = draw(rng, thresh) - half;
    dst.emplace_back(x + bx2, h + by2);
  }
  return warp_mls(img, src, dst, w, h);
}

cv::Mat tia_stretch(const cv::Mat& img, int segment, SampleRng& rng) {
  check_8u(img, "tia_stretch");
  if (segment < 1) throw RunError("tia_stretch: segment must be >= 1");
  const int h = img.rows, w = img.cols;
  const int cut = w / segment, thresh = cut * 4 / 5;
  const float half = thresh * 0.5f;
  std::vector<cv::Point2f> src{{0.f, 0.f}, {float(w), 0.f}, {float(w), float(h)}, {0.f, float(h)}};
  std::vector<cv::Point2f> dst = src;
  for (int k = 1; k < segment; ++k) {
    const float x = static_cast<float>(cut * k);
    const float move = draw(rng, thresh) - half;
    src.emplace_back(x, 0.f);
    src.emplace_back(x, float(h));
    dst.emplace_back(x + move, 0.f);
    dst.emplace_back(x + move, float(h));
  }
  return warp_mls(img, src, dst, w, h);
}

cv::Mat tia_perspective(const cv::Mat& img, SampleRng& rng) {
  check_8u(img, "tia_perspective");
  const int h = img.rows, w = img.cols;
  const int thresh = h / 2;
  const std::vector<cv::Point2f> src{{0.f, 0.f}, {float(w), 0.f}, {float(w), float(h)}, {0.f, float(h)}};
  std::vector<cv::Point2f> dst;
  dst.emplace_back(0.f, draw(rng, thresh));
  dst.emplace_back(float(w), draw(rng, thresh));
  dst.emplace_back(float(w), h - draw(rng, thresh));
  dst.emplace_back(0.f, h - draw(rng, thresh));
  return warp_mls(img, src, dst, w, h);
}

cv::Mat bda_crop(const cv::Mat& img, SampleRng& rng) {
  check_8u(img, "bda_crop");
  const int h = img.rows;
  const int top_crop = std::min(1 + static_cast<int>(rng.below(8)), h - 1);
  const bool from_top = rng.below(2) == 1;
  return (from_top ? img.rowRange(top_crop, h) : img.rowRange(0, h - top_crop)).clone();
}

cv::Mat bda_blur(const cv::Mat& img) {
  check_8u(img, "bda_blur");
  if (img.rows <= 10 || img.cols <= 10) return img.clone();
  // A ROI would take its border from the parent's pixels; the reference's numpy views never do.
  const cv::Mat src = img.isSubmatrix() ? img.clone() : img;
  cv::Mat out;
  cv::GaussianBlur(src, out, cv::Size(5, 5), 1.0);
  return out;
}

cv::Mat bda_hsv(const cv::Mat& img, SampleRng& rng) {
  check_bgr(img, "bda_hsv");
  // delta = 0.001 * random() * flag(), flag() = 1 if random() > 0.5000001 else -1, drawn in that order.
  const double magnitude = rng.uniform();
  const double sign = rng.uniform() > 0.5000001 ? 1.0 : -1.0;
  const double scale = 1 + 0.001 * magnitude * sign;
  // hsv[:, :, 2] * (1 + delta) is float64, stored back into uint8 by truncation.
  std::array<uint8_t, 256> lut{};
  for (int v = 0; v < 256; ++v) lut[v] = static_cast<uint8_t>(std::min(255.0, v * scale));
  cv::Mat hsv;
  cv::cvtColor(img, hsv, cv::COLOR_BGR2HSV);
  for (int r = 0; r < hsv.rows; ++r) {
    uint8_t* px = hsv.ptr<uint8_t>(r);
    for (int c = 0; c < hsv.cols; ++c) px[c * 3 + 2] = lut[px[c * 3 + 2]];
  }
  cv::Mat out;
  cv::cvtColor(hsv, out, cv::COLOR_HSV2BGR);
  return out;
}

cv::Mat bda_jitter(const cv::Mat& img, SampleRng& rng) {
  check_8u(img, "bda_jitter");
  cv::Mat out = img.clone();
  const int rows = img.rows, cols = img.cols;
  if (rows <= 10 || cols <= 10) return out;
  const int s = static_cast<int>(rng.uniform() * std::min(rows, cols) * 0.01);
  // The reference's loop, each pass pasting the original shifted by i down and right over the previous result
  // (pass 0 is the plain copy made above, so s = 1 changes nothing either).
  for (int i = 1; i < s; ++i) {
    img(cv::Rect(0, 0, cols - i, rows - i)).copyTo(out(cv::Rect(i, i, cols - i, rows - i)));
  }
  return out;
}

cv::Mat bda_noise(const cv::Mat& img, SampleRng& rng) {
  check_8u(img, "bda_noise");
  // out = uint8(clip(v + e, 0, 255)) = clamp(v + floor(e), 0, 255) for integer v, so drawing floor(e) from its
  // exact distribution (one uniform per value, by inverse CDF) gives the reference's output distribution without
  // a Gaussian per value.
  const double lo = noise_tail(), hi = 1.0 - noise_tail();
  cv::Mat out = img.clone();
  const int n = out.cols * out.channels();
  for (int r = 0; r < out.rows; ++r) {
    uint8_t* px = out.ptr<uint8_t>(r);
    for (int k = 0; k < n; ++k) {
      const double u = rng.uniform();
      const int step = -1 + (u >= 0.5) - (u < lo) + (u >= hi);  // floor(e) in {-2, -1, 0, 1}
      px[k] = static_cast<uint8_t>(std::clamp(px[k] + step, 0, 255));
    }
  }
  return out;
}

cv::Mat bda_reverse(const cv::Mat& img) {
  check_8u(img, "bda_reverse");
  cv::Mat out;
  cv::bitwise_not(img, out);  // 255 - x for uint8
  return out;
}

void base_data_augmentation(cv::Mat& bgr_image, SampleRng& rng) {
  check_bgr(bgr_image, "base_data_augmentation");
  cv::Mat img = bgr_image;
  const int h = img.rows, w = img.cols;  // the crop test uses the size on entry
  if (rng.uniform() <= kProb && h >= 20 && w >= 20) img = bda_crop(img, rng);
  if (rng.uniform() <= kProb) img = bda_blur(img);
  if (rng.uniform() <= kProb) img = bda_hsv(img, rng);
  if (rng.uniform() <= kProb) img = bda_jitter(img, rng);
  if (rng.uniform() <= kProb) img = bda_noise(img, rng);
  if (rng.uniform() <= kProb) img = bda_reverse(img);
  bgr_image = img;
}

void rec_aug(cv::Mat& bgr_image, SampleRng& rng) {
  check_bgr(bgr_image, "rec_aug");
  cv::Mat img = bgr_image;
  if (rng.uniform() <= kProb) {
    if (img.rows >= 20 && img.cols >= 20) {
      const int distort_segments = 3 + static_cast<int>(rng.below(4));
      img = tia_distort(img, distort_segments, rng);
      const int stretch_segments = 3 + static_cast<int>(rng.below(4));
      img = tia_stretch(img, stretch_segments, rng);
    }
    img = tia_perspective(img, rng);  // also for small images (the reference raises for h < 2; here a no-op)
  }
  base_data_augmentation(img, rng);
  bgr_image = img;
}

cv::Mat concat_text_images(const cv::Mat& a, const cv::Mat& b, int height) {
  if (a.empty() || b.empty() || a.type() != b.type()) throw RunError("concat_text_images: need two images of one type");
  if (height <= 0) throw RunError("concat_text_images: height must be positive");
  // round(w / h * height): the division first, then Python's round (half to even, which nearbyint does in the
  // default rounding mode). A width of 0 (cv2 would raise) becomes 1.
  const auto width_of = [height](const cv::Mat& m) {
    const double wf = static_cast<double>(m.cols) / m.rows * height;
    return std::max(1, static_cast<int>(std::nearbyint(wf)));
  };
  cv::Mat ra, rb, out;
  cv::resize(a, ra, cv::Size(width_of(a), height), 0, 0, cv::INTER_LINEAR);
  cv::resize(b, rb, cv::Size(width_of(b), height), 0, 0, cv::INTER_LINEAR);
  cv::hconcat(ra, rb, out);
  return out;
}

}  // namespace paddlex::ocr
