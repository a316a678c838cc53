// PaddleOCR's text-recognition augmentations (RecAug, RecConAug, TIA / WarpMLS): warp_mls against pixels that
// PaddleOCR's own warp_mls.py produced, the geometry of each TIA op, and each BaseDataAugmentation op against
// its numpy semantics (truncation to uint8 included).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

#include "paddlex/core/random.h"
#include "paddlex/modules/text_recognition/rec_augment.h"

namespace paddlex::ocr {
namespace {

// The input of the reference pixels below: f = (37x + 53y + 7xy) mod 256, pixel (B, G, R) = (f, 255 - f, 3f + y).
cv::Mat pattern(int rows, int cols) {
  cv::Mat image(rows, cols, CV_8UC3);
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) {
      const int f = (37 * x + 53 * y + 7 * x * y) % 256;
      image.at<cv::Vec3b>(y, x) = cv::Vec3b(f, 255 - f, (3 * f + y) % 256);
    }
  }
  return image;
}

int max_abs_diff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  double max_value = 0;
  cv::minMaxLoc(diff.reshape(1), nullptr, &max_value);
  return static_cast<int>(max_value);
}

bool identical(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && max_abs_diff(a, b) == 0;
}

struct RefPixel {
  int y, x;
  cv::Vec3b bgr;
};

std::vector<cv::Point2f> corners(float w, float h) { return {{0, 0}, {w, 0}, {w, h}, {0, h}}; }

TEST(RecAugment, WarpMlsWithUnmovedPointsIsTheIdentityWithinOneLevel) {
  // Not exact, in the reference either: float32 residues of about 1e-5 px in the solved map make the truncated
  // bilinear sample lose one level on roughly half the values.
  const cv::Mat image = pattern(48, 320);
  std::vector<cv::Point2f> points = corners(320, 48);
  for (float x : {80.f, 160.f, 240.f}) {
    points.emplace_back(x, 0.f);
    points.emplace_back(x, 48.f);
  }
  const cv::Mat out = warp_mls(image, points, points, 320, 48);
  ASSERT_EQ(out.size(), image.size());
  ASSERT_EQ(out.type(), CV_8UC3);
  EXPECT_LE(max_abs_diff(out, image), 1);
  // A constant image stays exactly constant.
  const cv::Mat grey(48, 320, CV_8UC3, cv::Scalar::all(100));
  EXPECT_TRUE(identical(warp_mls(grey, points, points, 320, 48), grey));
}

TEST(RecAugment, WarpMlsTranslatesWithTheControlPoints) {
  // Every destination point 5 px right and 2 px down of its source: output (x, y) samples input (x - 5, y - 2),
  // clamped at the top and left edges.
  const cv::Mat image = pattern(48, 320);
  std::vector<cv::Point2f> src = corners(320, 48), dst;
  src.emplace_back(100.f, 0.f);
  src.emplace_back(200.f, 48.f);
  for (const auto& p : src) dst.emplace_back(p.x + 5, p.y + 2);
  const cv::Mat out = warp_mls(image, src, dst, 320, 48);
  int worst = 0;
  for (int y = 0; y < 48; ++y) {
    for (int x = 0; x < 320; ++x) {
      const cv::Vec3b expected = image.at<cv::Vec3b>(std::max(y - 2, 0), std::max(x - 5, 0));
      for (int c = 0; c < 3; ++c) worst = std::max(worst, std::abs(expected[c] - out.at<cv::Vec3b>(y, x)[c]));
    }
  }
  EXPECT_LE(worst, 1);
}

// Expected pixels from PaddleOCR's ppocr/data/imaug/text_image_aug/warp_mls.py (numpy 2.4, float64 host):
//   WarpMLS(pattern(48, 320), src_pts, dst_pts, 320, 48).generate()[y, x]
// with the points below. The C++ port matched that whole output, and 68 other cases (TIA point sets drawn by
// augment.py's own code on sizes up to 159 x 449, colour and grey), value for value.
TEST(RecAugment, WarpMlsMatchesPaddleOcrOnADistortion) {
  std::vector<cv::Point2f> src = corners(320, 48);
  for (float x : {80.f, 160.f}) {
    src.emplace_back(x, 0.f);
    src.emplace_back(x, 48.f);
  }
  const std::vector<cv::Point2f> dst{{3, 1},        {316, 2},      {319, 43},      {6, 46},
                                     {82.5f, -4.5f}, {76.5f, 49.5f}, {161.5f, 3.5f}, {151.5f, 45.5f}};
  const cv::Mat out = warp_mls(pattern(48, 320), src, dst, 320, 48);
  const std::vector<RefPixel> expected{
      {0, 0, {0, 255, 0}},        {0, 319, {27, 228, 81}},   {47, 0, {187, 68, 96}},   {47, 319, {205, 50, 150}},
      {10, 37, {137, 117, 128}},  {23, 150, {122, 132, 77}}, {30, 201, {37, 217, 143}}, {40, 299, {176, 78, 49}},
      {5, 100, {172, 82, 112}},   {46, 250, {65, 189, 98}}};
  for (const auto& p : expected) {
    const cv::Vec3b got = out.at<cv::Vec3b>(p.y, p.x);
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(got[c], p.bgr[c], 1) << "pixel (" << p.x << ", " << p.y << ") c" << c;
  }
  const cv::Scalar sum = cv::sum(out);
  EXPECT_NEAR(sum[0] + sum[1] + sum[2], 5826191.0, 200.0);
}

// tia_perspective's bottom-left point (0, h - 1) sits on the grid point (0, 47). The reference solves MLS there
// over the other three points instead of taking that point's source (its `k == pt_count - 1` test after a break
// at the last point), which moves the bottom-left corner about 6 px; the port keeps that. Same provenance as above.
TEST(RecAugment, WarpMlsKeepsTheReferenceLastPointQuirk) {
  const std::vector<cv::Point2f> dst{{0, 5}, {320, 17}, {320, 39}, {0, 47}};
  const cv::Mat out = warp_mls(pattern(48, 320), corners(320, 48), dst, 320, 48);
  const std::vector<RefPixel> expected{
      {47, 0, {181, 73, 74}},   {45, 5, {129, 125, 156}}, {40, 12, {83, 171, 102}},  {44, 40, {186, 68, 147}},
      {30, 3, {175, 79, 42}},   {0, 0, {0, 254, 0}},      {0, 319, {161, 93, 169}},  {47, 319, {153, 101, 115}},
      {23, 150, {211, 43, 161}}};
  for (const auto& p : expected) {
    const cv::Vec3b got = out.at<cv::Vec3b>(p.y, p.x);
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(got[c], p.bgr[c], 1) << "pixel (" << p.x << ", " << p.y << ") c" << c;
  }
}

TEST(RecAugment, WarpMlsHandlesGreyImagesAndRejectsBadInput) {
  cv::Mat grey(37, 101, CV_8UC1);
  cv::randu(grey, 0, 256);
  const auto pts = corners(101, 37);
  const cv::Mat out = warp_mls(grey, pts, pts, 101, 37);
  EXPECT_EQ(out.type(), CV_8UC1);
  EXPECT_LE(max_abs_diff(out, grey), 1);
  EXPECT_ANY_THROW(warp_mls(grey, pts, {{0, 0}}, 101, 37));
  EXPECT_ANY_THROW(warp_mls(cv::Mat(10, 10, CV_32FC1), pts, pts, 10, 10));
}

TEST(RecAugment, TiaOpsKeepSizeAndTypeAndFollowTheSeed) {
  const cv::Mat image = pattern(48, 320);
  const auto run = [&](int op, uint64_t seed) {
    SampleRng rng(seed);
    if (op == 0) return tia_distort(image, 4, rng);
    if (op == 1) return tia_stretch(image, 5, rng);
    return tia_perspective(image, rng);
  };
  for (int op = 0; op < 3; ++op) {
    const cv::Mat a = run(op, 11), b = run(op, 11), c = run(op, 12);
    EXPECT_EQ(a.size(), image.size()) << op;
    EXPECT_EQ(a.type(), CV_8UC3) << op;
    EXPECT_TRUE(identical(a, b)) << op;
    EXPECT_FALSE(identical(a, c)) << op;
    EXPECT_FALSE(identical(a, image)) << op;
  }
  // Degenerate sizes do not throw (numpy's randint(0) would for h < 2).
  SampleRng rng(1);
  EXPECT_EQ(tia_perspective(pattern(1, 30), rng).size(), cv::Size(30, 1));
  EXPECT_EQ(tia_distort(pattern(5, 5), 6, rng).size(), cv::Size(5, 5));
}

TEST(RecAugment, TiaStretchMovesMostlyHorizontally) {
  // The cut lines shift in x only, top and bottom together. The similarity fit still bends rows a little (up to
  // two rows here, in the reference too), and the top-left pixel, a control point on the grid, stays exact.
  cv::Mat stripes(48, 320, CV_8UC3);
  for (int y = 0; y < 48; ++y) stripes.row(y).setTo(cv::Scalar::all(y * 5));
  const cv::Mat image = pattern(48, 320);
  for (uint64_t seed = 0; seed < 5; ++seed) {
    SampleRng a(seed), b(seed);
    EXPECT_LE(max_abs_diff(tia_stretch(stripes, 4, a), stripes), 15) << seed;
    const cv::Mat out = tia_stretch(image, 4, b);
    EXPECT_EQ(out.at<cv::Vec3b>(0, 0), image.at<cv::Vec3b>(0, 0));
    EXPECT_GT(max_abs_diff(out, image), 100);
  }
}

TEST(RecAugment, ReverseIsTheComplement) {
  const cv::Mat image = pattern(4, 5);
  const cv::Mat out = bda_reverse(image);
  for (int i = 0; i < 4 * 5 * 3; ++i) EXPECT_EQ(out.data[i], 255 - image.data[i]);
}

TEST(RecAugment, RecAugFiresTheReverseBranchAboutFortyPercentOfTheTime) {
  // On mid grey every other op moves values by at most one level, so an inverted output is the reverse branch.
  const cv::Mat grey(48, 320, CV_8UC3, cv::Scalar::all(100));
  int inverted = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    cv::Mat image = grey.clone();
    SampleRng rng(seed);
    rec_aug(image, rng);
    const double mean = cv::mean(image)[0];
    EXPECT_TRUE(mean > 153 || mean < 101) << "seed " << seed << " mean " << mean;
    inverted += mean > 127;
  }
  EXPECT_GT(inverted, 50);
  EXPECT_LT(inverted, 110);
}

TEST(RecAugment, RecAugKeepsChannelsAndWidthAndIsDeterministic) {
  const cv::Mat image = pattern(48, 320);
  int changed_height = 0, differ = 0;
  cv::Mat previous;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    cv::Mat a = image.clone(), b = image.clone();
    SampleRng ra(seed), rb(seed);
    rec_aug(a, ra);
    rec_aug(b, rb);
    ASSERT_EQ(a.type(), CV_8UC3);
    EXPECT_EQ(a.cols, 320);
    EXPECT_GE(a.rows, 40);
    EXPECT_LE(a.rows, 48);
    EXPECT_TRUE(identical(a, b)) << "seed " << seed;
    changed_height += a.rows != 48;
    if (!previous.empty()) differ += !identical(a, previous);
    previous = a;
  }
  EXPECT_GT(changed_height, 0);  // the crop branch fired
  EXPECT_GT(differ, 30);
  // Images below 20 px skip distort, stretch and crop but still run.
  cv::Mat small = pattern(12, 16);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    cv::Mat s = small.clone();
    SampleRng rng(seed);
    rec_aug(s, rng);
    EXPECT_EQ(s.size(), small.size());
  }
}

TEST(RecAugment, CropDropsUpToEightRowsFromOneEnd) {
  const cv::Mat image = pattern(48, 50);
  bool saw_top = false, saw_bottom = false;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    SampleRng rng(seed);
    const cv::Mat out = bda_crop(image, rng);
    const int dropped = 48 - out.rows;
    ASSERT_GE(dropped, 1);
    ASSERT_LE(dropped, 8);
    ASSERT_EQ(out.cols, 50);
    const bool top = identical(out, image.rowRange(dropped, 48));
    const bool bottom = identical(out, image.rowRange(0, 48 - dropped));
    EXPECT_TRUE(top || bottom);
    saw_top |= top;
    saw_bottom |= bottom;
  }
  EXPECT_TRUE(saw_top && saw_bottom);
  SampleRng rng(0);
  EXPECT_EQ(bda_crop(pattern(1, 30), rng).rows, 1);  // min(t, h - 1) = 0 rows
}

TEST(RecAugment, BlurOnlyAboveTenPixels) {
  const cv::Mat small = pattern(10, 40);
  EXPECT_TRUE(identical(bda_blur(small), small));
  const cv::Mat image = pattern(11, 40);
  EXPECT_FALSE(identical(bda_blur(image), image));
  // A crop's view blurs as its own image, as the reference's numpy view does.
  const cv::Mat big = pattern(30, 40);
  EXPECT_TRUE(identical(bda_blur(big.rowRange(5, 25)), bda_blur(big.rowRange(5, 25).clone())));
}

TEST(RecAugment, HsvLowersValueByOneLevelOrLeavesItOnGrey) {
  // Grey has S = 0, so the HSV round trip is exact and only V's truncated scaling shows: V * (1 + delta) with
  // |delta| < 0.001 keeps V for delta >= 0 and drops one level for delta < 0.
  cv::Mat grey(6, 256, CV_8UC3);
  for (int x = 0; x < 256; ++x) grey.col(x).setTo(cv::Scalar::all(x));
  bool saw_same = false, saw_lower = false;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    SampleRng rng(seed);
    const cv::Mat out = bda_hsv(grey, rng);
    cv::Mat diff;
    cv::subtract(grey, out, diff, cv::noArray(), CV_32S);
    double lo = 0, hi = 0;
    cv::minMaxLoc(diff.reshape(1), &lo, &hi);
    ASSERT_GE(lo, 0);
    ASSERT_LE(hi, 1);
    if (hi == 0) saw_same = true;
    if (hi == 1) {
      saw_lower = true;
      EXPECT_EQ(cv::countNonZero(diff.reshape(1)), 6 * 255 * 3);  // every value but 0
    }
  }
  EXPECT_TRUE(saw_same && saw_lower);
}

TEST(RecAugment, JitterSmearsDiagonallyOnlyOnLargeImages) {
  // s = int(U * min(h, w) * 0.01); a pass i < s pastes the original shifted by (i, i), so pixel (r, c) ends up
  // as src(r - k, c - k) with k = min(r, c, s - 1). On 48-px text lines s <= 0: no change, one draw.
  const cv::Mat line = pattern(48, 320);
  SampleRng line_rng(3);
  EXPECT_TRUE(identical(bda_jitter(line, line_rng), line));

  const cv::Mat image = pattern(300, 310);
  int checked = 0;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    SampleRng rng(seed), probe(seed);
    const int s = static_cast<int>(probe.uniform() * 300 * 0.01);
    const cv::Mat out = bda_jitter(image, rng);
    for (int r = 0; r < 300; r += 7) {
      for (int c = 0; c < 310; c += 5) {
        const int k = std::max(0, std::min({r, c, s - 1}));
        ASSERT_EQ(out.at<cv::Vec3b>(r, c), image.at<cv::Vec3b>(r - k, c - k)) << "s " << s;
      }
    }
    checked += s >= 2;
  }
  EXPECT_GT(checked, 0);
}

TEST(RecAugment, NoiseLowersAboutHalfTheValuesByOne) {
  // uint8(clip(v + 0.5 * N(0, sqrt(0.1)))): the noise is below one level, so truncation leaves v or v - 1.
  cv::Mat image(48, 320, CV_8UC3);
  image.colRange(0, 100).setTo(cv::Scalar::all(0));
  image.colRange(100, 200).setTo(cv::Scalar::all(100));
  image.colRange(200, 320).setTo(cv::Scalar::all(255));
  SampleRng rng(9);
  const cv::Mat out = bda_noise(image, rng);
  EXPECT_EQ(cv::countNonZero(out.colRange(0, 100).reshape(1)), 0);
  int lowered = 0, total = 0;
  for (int y = 0; y < 48; ++y) {
    for (int x = 100; x < 320; ++x) {
      for (int c = 0; c < 3; ++c) {
        const int v = image.at<cv::Vec3b>(y, x)[c], o = out.at<cv::Vec3b>(y, x)[c];
        ASSERT_TRUE(o == v || o == v - 1) << v << " -> " << o;
        lowered += o == v - 1;
        ++total;
      }
    }
  }
  EXPECT_NEAR(static_cast<double>(lowered) / total, 0.5, 0.02);
}

TEST(RecAugment, ConcatResizesToTheHeightWithPythonRounding) {
  // round(21 / 32 * 48) = round(31.5) = 32 and round(23 / 32 * 48) = round(34.5) = 34: Python rounds half to even.
  const cv::Mat out = concat_text_images(pattern(32, 21), pattern(32, 23), 48);
  EXPECT_EQ(out.rows, 48);
  EXPECT_EQ(out.cols, 32 + 34);
  EXPECT_EQ(out.type(), CV_8UC3);
  EXPECT_EQ(concat_text_images(pattern(48, 320), pattern(30, 77), 48).cols, 320 + 123);  // 123.2
  EXPECT_EQ(concat_text_images(pattern(20, 7), pattern(64, 500), 48).cols, 17 + 375);    // 16.8, 375
  // The left part is `a` at its own size when a already has the height.
  const cv::Mat a = pattern(48, 100);
  const cv::Mat joined = concat_text_images(a, pattern(24, 30), 48);
  EXPECT_TRUE(identical(joined.colRange(0, 100), a));
  EXPECT_ANY_THROW(concat_text_images(a, cv::Mat(48, 10, CV_8UC1), 48));
}

}  // namespace
}  // namespace paddlex::ocr
