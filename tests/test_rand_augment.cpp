// RandAugmentV4 (PaddleClas's RandAugment for ML-Decoder): each op against values worked out by hand from Pillow's
// algorithms, the resampling ops against arrays Pillow 13 produced for the same inputs, and the policy draw.
#include <gtest/gtest.h>

#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

#include "paddlex/core/errors.h"
#include "paddlex/core/random.h"
#include "paddlex/datasets/rand_augment.h"

namespace {

using paddlex::RandAugmentV4;
using paddlex::SampleRng;
using Op = RandAugmentV4::Op;

// A seed whose first draw, random.choice([-1, 1]) = below(2) for every signed op, gives `sign`.
uint64_t seed_drawing_sign(int sign) {
  for (uint64_t seed = 1;; ++seed) {
    SampleRng probe(seed);
    if ((probe.below(2) == 0 ? -1 : 1) == sign) return seed;
  }
}

void run_op(cv::Mat& image, Op op, int magnitude, int sign = 1) {
  SampleRng rng(seed_drawing_sign(sign));
  RandAugmentV4::apply_op(image, op, magnitude, rng);
}

// Row-major R, G, B values.
cv::Mat image_of(int rows, int cols, const std::vector<int>& values) {
  EXPECT_EQ(values.size(), static_cast<size_t>(rows * cols * 3));
  cv::Mat image(rows, cols, CV_8UC3);
  for (int i = 0; i < rows * cols * 3; ++i) image.data[i] = static_cast<uint8_t>(values[i]);
  return image;
}

std::vector<int> values_of(const cv::Mat& image) {
  std::vector<int> values;
  for (int y = 0; y < image.rows; ++y)
    for (int x = 0; x < image.cols; ++x)
      for (int c = 0; c < 3; ++c) values.push_back(image.at<cv::Vec3b>(y, x)[c]);
  return values;
}

// The input the Pillow arrays below were made from: f = (37x + 53y + 7xy) mod 256, pixel (f, 255 - f, 3f + y).
cv::Mat pattern(int cols, int rows) {
  cv::Mat image(rows, cols, CV_8UC3);
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) {
      const int f = (x * 37 + y * 53 + x * y * 7) % 256;
      image.at<cv::Vec3b>(y, x) = cv::Vec3b(f, 255 - f, (f * 3 + y) % 256);
    }
  }
  return image;
}

bool same(const cv::Mat& a, const cv::Mat& b) { return values_of(a) == values_of(b); }

TEST(RandAugmentV4, InvertComplementsEachChannel) {
  cv::Mat image = image_of(1, 2, {10, 200, 255, 183, 114, 113});
  run_op(image, Op::kInvert, 0);
  EXPECT_EQ(values_of(image), (std::vector<int>{245, 55, 0, 72, 141, 142}));
}

TEST(RandAugmentV4, PosterizeKeepsTheTopBits) {
  // round(linspace(8, 4, 10)) = 8 8 7 7 6 6 5 5 4 4 bits.
  cv::Mat four_bits = image_of(1, 1, {0b10110111, 200, 255});
  run_op(four_bits, Op::kPosterize, 9);
  EXPECT_EQ(values_of(four_bits), (std::vector<int>{0b10110000, 192, 240}));
  cv::Mat seven_bits = image_of(1, 1, {0b10110111, 200, 255});
  run_op(seven_bits, Op::kPosterize, 2);
  EXPECT_EQ(values_of(seven_bits), (std::vector<int>{0b10110110, 200, 254}));
  cv::Mat eight_bits = image_of(1, 1, {0b10110111, 200, 255});
  run_op(eight_bits, Op::kPosterize, 1);
  EXPECT_EQ(values_of(eight_bits), (std::vector<int>{0b10110111, 200, 255}));
}

TEST(RandAugmentV4, SolarizeInvertsValuesAtOrAboveTheThreshold) {
  // linspace(256, 0, 10)[5] = 113.78: 113 stays, 114 and up are inverted.
  cv::Mat image = image_of(1, 2, {10, 200, 255, 183, 114, 113});
  run_op(image, Op::kSolarize, 5);
  EXPECT_EQ(values_of(image), (std::vector<int>{10, 55, 0, 72, 141, 113}));
  cv::Mat untouched = image_of(1, 2, {10, 200, 255, 183, 114, 113});
  run_op(untouched, Op::kSolarize, 0);  // threshold 256
  EXPECT_EQ(values_of(untouched), (std::vector<int>{10, 200, 255, 183, 114, 113}));
}

TEST(RandAugmentV4, AutoContrastStretchesEachChannelOnItsOwn) {
  // R spans 100..150: scale 5.1, 125 -> int(127.5) = 127. G is flat and B already spans 0..255: both unchanged.
  cv::Mat image = image_of(2, 2, {100, 77, 0, 150, 77, 255, 125, 77, 3, 100, 77, 9});
  run_op(image, Op::kAutoContrast, 0);
  EXPECT_EQ(values_of(image), (std::vector<int>{0, 77, 0, 255, 77, 255, 127, 77, 3, 0, 77, 9}));
}

TEST(RandAugmentV4, EqualizeFollowsPilsStepAlgorithm) {
  // R: four values, 256 pixels each. step = (1024 - 256) // 255 = 3, n starts at 1: lut = 1//3, 257//3, 513//3,
  // 769//3 = 0, 85, 171, 256 clipped to 255. G: one value, unchanged. B: 1021 zeros and one each of 3, 9, 255:
  // step = 1023 // 255 = 4, n = 2: 0 -> 0, 3 -> 1023//4 = 255, 9 -> 256 clipped, 255 -> 255.
  cv::Mat image(32, 32, CV_8UC3);
  for (int i = 0; i < 1024; ++i) image.at<cv::Vec3b>(i / 32, i % 32) = cv::Vec3b(100 + 20 * (i / 256), 5, 0);
  image.at<cv::Vec3b>(0, 1)[2] = 255;
  image.at<cv::Vec3b>(1, 0)[2] = 3;
  image.at<cv::Vec3b>(1, 1)[2] = 9;
  run_op(image, Op::kEqualize, 0);
  const int expected_red[4] = {0, 85, 171, 255};
  for (int i = 0; i < 1024; ++i) {
    const cv::Vec3b pixel = image.at<cv::Vec3b>(i / 32, i % 32);
    ASSERT_EQ(pixel[0], expected_red[i / 256]) << "pixel " << i;
    ASSERT_EQ(pixel[1], 5) << "pixel " << i;
    const bool was_nonzero_blue = i == 1 || i == 32 || i == 33;
    ASSERT_EQ(pixel[2], was_nonzero_blue ? 255 : 0) << "pixel " << i;
  }
  // Under 256 pixels beyond the top value step is 0 and PIL leaves the channel alone.
  cv::Mat small = image_of(1, 2, {10, 20, 30, 40, 50, 60});
  run_op(small, Op::kEqualize, 0);
  EXPECT_EQ(values_of(small), (std::vector<int>{10, 20, 30, 40, 50, 60}));
}

TEST(RandAugmentV4, BrightnessScalesAndTruncatesLikePilBlend) {
  // linspace(0, 0.9, 10)[5] = 0.5: factor 0.5 or 1.5 by the drawn sign; PIL truncates (201 * 0.5 -> 100).
  cv::Mat darker = image_of(1, 2, {201, 100, 101, 255, 0, 7});
  run_op(darker, Op::kBrightness, 5, -1);
  EXPECT_EQ(values_of(darker), (std::vector<int>{100, 50, 50, 127, 0, 3}));
  cv::Mat brighter = image_of(1, 2, {201, 100, 101, 255, 0, 7});
  run_op(brighter, Op::kBrightness, 5, +1);
  EXPECT_EQ(values_of(brighter), (std::vector<int>{255, 150, 151, 255, 0, 10}));
}

TEST(RandAugmentV4, ColorBlendsWithPilsLuma) {
  // L(255, 0, 0) = (255 * 19595 + 32768) >> 16 = 76 and L(0, 0, 255) = 29; factor 0.5: 76 + 0.5 (255 - 76) = 165.
  cv::Mat image = image_of(1, 2, {255, 0, 0, 0, 0, 255});
  run_op(image, Op::kColor, 5, -1);
  EXPECT_EQ(values_of(image), (std::vector<int>{165, 38, 38, 14, 14, 142}));
}

TEST(RandAugmentV4, ContrastBlendsTowardTheRoundedLumaMean) {
  // L = 100, 140, 61, 69: mean 92.5 -> int(93.0) = 93.
  const std::vector<int> input = {100, 100, 100, 140, 140, 140, 61, 61, 61, 200, 10, 30};
  cv::Mat flatter = image_of(1, 4, input);
  run_op(flatter, Op::kContrast, 5, -1);  // factor 0.5: 93 + 0.5 (100 - 93) = 96.5 -> 96
  EXPECT_EQ(values_of(flatter), (std::vector<int>{96, 96, 96, 116, 116, 116, 77, 77, 77, 146, 51, 61}));
  cv::Mat steeper = image_of(1, 4, input);
  run_op(steeper, Op::kContrast, 9, +1);  // factor 1.9, clipped at both ends
  EXPECT_EQ(values_of(steeper), (std::vector<int>{106, 106, 106, 182, 182, 182, 32, 32, 32, 255, 0, 0}));
}

TEST(RandAugmentV4, SharpnessBlendsWithPilsSmoothFilter) {
  // Centre smoothed: (8 * 10 + 5 * 100) / 13 = 44.6 -> 45 (rounded half up), (80 + 150) / 13 -> 18, 80 / 13 -> 6.
  // Factor 0.5: 45 + 0.5 * 55 = 72.5 -> 72; the border, left unfiltered, keeps its value.
  cv::Mat image(3, 3, CV_8UC3, cv::Scalar::all(10));
  image.at<cv::Vec3b>(1, 1) = cv::Vec3b(100, 30, 0);
  cv::Mat softer = image.clone();
  run_op(softer, Op::kSharpness, 5, -1);
  cv::Mat expected = image.clone();
  expected.at<cv::Vec3b>(1, 1) = cv::Vec3b(72, 24, 3);
  EXPECT_EQ(values_of(softer), values_of(expected));
  cv::Mat sharper = image.clone();
  run_op(sharper, Op::kSharpness, 5, +1);
  expected.at<cv::Vec3b>(1, 1) = cv::Vec3b(127, 36, 0);
  EXPECT_EQ(values_of(sharper), values_of(expected));
}

TEST(RandAugmentV4, SharpnessMatchesPillowOnAPattern) {
  cv::Mat image = pattern(6, 5);
  run_op(image, Op::kSharpness, 9, +1);  // factor 1.9
  EXPECT_EQ(values_of(image), (std::vector<int>{
      0, 255, 0, 37, 218, 111, 74, 181, 222, 111, 144, 77, 148, 107, 188, 185, 70, 43,
      53, 202, 160, 97, 158, 0, 159, 96, 203, 220, 34, 0, 255, 0, 229, 17, 238, 52,
      106, 149, 64, 175, 80, 255, 255, 0, 114, 0, 255, 0, 18, 236, 199, 105, 150, 61,
      159, 96, 224, 255, 0, 160, 0, 255, 24, 59, 196, 255, 153, 102, 170, 193, 62, 70,
      212, 43, 128, 21, 234, 67, 86, 169, 6, 151, 104, 201, 216, 39, 140, 25, 230, 79}));
}

TEST(RandAugmentV4, ShearWithMagnitudeZeroLeavesTheImageUnchanged) {
  for (const int sign : {-1, +1}) {
    for (const Op op : {Op::kShearX, Op::kShearY}) {
      cv::Mat image = pattern(9, 7);
      run_op(image, op, 0, sign);
      EXPECT_TRUE(same(image, pattern(9, 7))) << "sign " << sign;
    }
  }
}

TEST(RandAugmentV4, ShearMatchesPillowBicubic) {
  // Image.transform(AFFINE, (1, 0.3, 0, 0, 1, 0), BICUBIC, fillcolor=(128,) * 3): the bottom right falls outside.
  cv::Mat shear_x = pattern(6, 5);
  run_op(shear_x, Op::kShearX, 9, +1);
  EXPECT_EQ(values_of(shear_x), (std::vector<int>{
      4, 250, 14, 45, 209, 142, 82, 172, 210, 119, 135, 80, 157, 97, 178, 189, 65, 27,
      67, 187, 89, 117, 137, 92, 161, 93, 115, 234, 20, 100, 139, 115, 138, 0, 255, 35,
      137, 117, 193, 226, 28, 161, 49, 205, 10, 24, 230, 135, 94, 160, 93, 128, 128, 128,
      209, 45, 133, 12, 242, 65, 82, 172, 237, 140, 114, 144, 195, 59, 66, 128, 128, 128,
      10, 244, 21, 113, 141, 70, 198, 56, 213, 158, 96, 109, 0, 255, 69, 128, 128, 128}));
  // (1, 0, 0, -0.1333, 1, 0): the top right samples above the image.
  cv::Mat shear_y = pattern(6, 5);
  run_op(shear_y, Op::kShearY, 4, -1);
  EXPECT_EQ(values_of(shear_y), (std::vector<int>{
      0, 255, 0, 29, 225, 120, 64, 190, 230, 101, 153, 81, 128, 128, 128, 128, 128, 128,
      46, 208, 154, 77, 177, 27, 108, 146, 194, 174, 80, 63, 197, 57, 184, 135, 119, 44,
      99, 155, 61, 139, 115, 187, 218, 36, 136, 86, 168, 0, 162, 92, 170, 11, 243, 55,
      152, 102, 218, 232, 22, 172, 77, 177, 82, 11, 243, 130, 53, 201, 158, 149, 105, 64,
      208, 46, 135, 62, 192, 79, 49, 205, 19, 125, 129, 242, 179, 75, 145, 160, 94, 73}));
}

// Where the marker (200 in channel 0) ended up, and which whole columns and rows hold the fill 128.
struct Moved {
  std::vector<cv::Point> markers;
  std::vector<int> filled_columns, filled_rows;
};
Moved where_things_went(const cv::Mat& image) {
  const cv::Vec3b fill(128, 128, 128);
  Moved moved;
  std::vector<bool> column_filled(image.cols, true), row_filled(image.rows, true);
  for (int y = 0; y < image.rows; ++y) {
    for (int x = 0; x < image.cols; ++x) {
      const cv::Vec3b pixel = image.at<cv::Vec3b>(y, x);
      if (pixel[0] == 200) moved.markers.emplace_back(x, y);
      if (pixel != fill) column_filled[x] = row_filled[y] = false;
    }
  }
  for (int x = 0; x < image.cols; ++x)
    if (column_filled[x]) moved.filled_columns.push_back(x);
  for (int y = 0; y < image.rows; ++y)
    if (row_filled[y]) moved.filled_rows.push_back(y);
  return moved;
}

TEST(RandAugmentV4, TranslateShiftsByTheFractionOfTheSizeAndFills128) {
  // translateX index 9: 150/331 * 20 = 9.06 px; PIL samples x + 0.5 + 9.06 and floors: 9 columns.
  // A positive shift samples to the right, so the content moves left.
  for (const int sign : {+1, -1}) {
    cv::Mat image(3, 20, CV_8UC3, cv::Scalar::all(0));
    image.at<cv::Vec3b>(1, 10) = cv::Vec3b(200, 100, 50);
    run_op(image, Op::kTranslateX, 9, sign);
    const Moved moved = where_things_went(image);
    ASSERT_EQ(moved.markers.size(), 1u) << "sign " << sign;
    EXPECT_EQ(moved.markers[0], cv::Point(sign > 0 ? 1 : 19, 1)) << "sign " << sign;
    EXPECT_EQ(image.at<cv::Vec3b>(moved.markers[0]), cv::Vec3b(200, 100, 50));
    const std::vector<int> fill_right = {11, 12, 13, 14, 15, 16, 17, 18, 19}, fill_left = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    EXPECT_EQ(moved.filled_columns, sign > 0 ? fill_right : fill_left) << "sign " << sign;
  }
  // translateY index 5: 0.2518 * 20 = 5.04 rows.
  for (const int sign : {+1, -1}) {
    cv::Mat image(20, 3, CV_8UC3, cv::Scalar::all(0));
    image.at<cv::Vec3b>(10, 1) = cv::Vec3b(200, 100, 50);
    run_op(image, Op::kTranslateY, 5, sign);
    const Moved moved = where_things_went(image);
    ASSERT_EQ(moved.markers.size(), 1u) << "sign " << sign;
    EXPECT_EQ(moved.markers[0], cv::Point(1, sign > 0 ? 5 : 15)) << "sign " << sign;
    const std::vector<int> fill_bottom = {15, 16, 17, 18, 19}, fill_top = {0, 1, 2, 3, 4};
    EXPECT_EQ(moved.filled_rows, sign > 0 ? fill_bottom : fill_top) << "sign " << sign;
  }
}

TEST(RandAugmentV4, RotateTurnsCounterClockwiseAboutTheCentre) {
  // 30 degrees about (10.5, 10.5): the pixel centre 8 px right of it goes to (10.5 + 8 cos 30, 10.5 - 8 sin 30) =
  // (17.4, 6.5), i.e. up and slightly left, as seen on screen (y down). Uncovered corners get 128.
  cv::Mat image(21, 21, CV_8UC3, cv::Scalar::all(0));
  image.at<cv::Vec3b>(10, 18) = cv::Vec3b(200, 200, 200);
  run_op(image, Op::kRotate, 9);
  const Moved moved = where_things_went(image);
  ASSERT_EQ(moved.markers.size(), 1u);
  EXPECT_EQ(moved.markers[0], cv::Point(17, 6));
  EXPECT_EQ(image.at<cv::Vec3b>(0, 0), cv::Vec3b(128, 128, 128));
  EXPECT_EQ(image.at<cv::Vec3b>(10, 10), cv::Vec3b(0, 0, 0));
}

TEST(RandAugmentV4, RotateMatchesPillowNearest) {
  // rotate_with_fill(img, linspace(0, 30, 10)[k]) of the reference, on an 8x6 image (centre (4, 3)).
  cv::Mat thirty = pattern(8, 6);
  run_op(thirty, Op::kRotate, 9);
  EXPECT_EQ(values_of(thirty), (std::vector<int>{
      128, 128, 128, 128, 128, 128, 111, 144, 77, 148, 107, 188, 17, 238, 52, 61, 194, 184, 207, 48, 111, 128, 128, 128,
      128, 128, 128, 74, 181, 222, 111, 144, 77, 229, 26, 176, 17, 238, 52, 156, 99, 214, 156, 99, 214, 53, 202, 162,
      37, 218, 111, 141, 114, 168, 141, 114, 168, 3, 252, 11, 54, 201, 164, 193, 62, 70, 251, 4, 244, 155, 100, 213,
      53, 202, 160, 157, 98, 217, 208, 47, 114, 77, 178, 234, 135, 120, 152, 25, 230, 79, 25, 230, 79, 185, 70, 48,
      106, 149, 64, 217, 38, 142, 217, 38, 142, 86, 169, 6, 151, 104, 201, 41, 214, 128, 113, 142, 88, 128, 128, 128,
      128, 128, 128, 159, 96, 224, 21, 234, 67, 86, 169, 6, 225, 30, 168, 41, 214, 128, 128, 128, 128, 128, 128, 128}));
  cv::Mat thirteen = pattern(8, 6);
  run_op(thirteen, Op::kRotate, 4);
  EXPECT_EQ(values_of(thirteen), (std::vector<int>{
      128, 128, 128, 128, 128, 128, 111, 144, 77, 148, 107, 188, 185, 70, 43, 222, 33, 154, 105, 150, 60, 105, 150, 60,
      0, 255, 0, 37, 218, 111, 141, 114, 168, 185, 70, 44, 229, 26, 176, 17, 238, 52, 156, 99, 214, 207, 48, 111,
      53, 202, 160, 97, 158, 36, 208, 47, 114, 3, 252, 11, 54, 201, 164, 105, 150, 61, 251, 4, 244, 53, 202, 162,
      106, 149, 64, 157, 98, 217, 19, 236, 60, 77, 178, 234, 135, 120, 152, 193, 62, 70, 90, 165, 18, 155, 100, 213,
      159, 96, 224, 217, 38, 142, 86, 169, 6, 151, 104, 201, 216, 39, 140, 25, 230, 79, 185, 70, 48, 1, 254, 8,
      212, 43, 128, 212, 43, 128, 81, 174, 248, 153, 102, 208, 225, 30, 168, 41, 214, 128, 128, 128, 128, 128, 128,
      128}));
}

TEST(RandAugmentV4, CutoutZeroesTheSquareAroundTheDrawnCentre) {
  // Index 3: half size round(6.67) = 7. The centre row is drawn in [0, 30], then the column in [0, 40].
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    cv::Mat image(30, 40, CV_8UC3, cv::Scalar::all(200));
    SampleRng rng(seed), replay(seed);
    RandAugmentV4::apply_op(image, Op::kCutout, 3, rng);
    const int centre_y = static_cast<int>(replay.below(31)), centre_x = static_cast<int>(replay.below(41));
    for (int y = 0; y < image.rows; ++y) {
      for (int x = 0; x < image.cols; ++x) {
        const bool inside = y >= centre_y - 7 && y < centre_y + 7 && x >= centre_x - 7 && x < centre_x + 7;
        ASSERT_EQ(image.at<cv::Vec3b>(y, x), inside ? cv::Vec3b(0, 0, 0) : cv::Vec3b(200, 200, 200))
            << "seed " << seed << " at (" << x << ", " << y << ")";
      }
    }
  }
  cv::Mat untouched(30, 40, CV_8UC3, cv::Scalar::all(200));
  run_op(untouched, Op::kCutout, 0);
  EXPECT_EQ(cv::countNonZero(untouched.reshape(1) != 200), 0);
}

TEST(RandAugmentV4, ApplyRunsTheDrawnPolicyWithProbabilityOneHalfPerOp) {
  // One draw of the 135 x 135 policies, then for each op a coin and the op's own draws, in the reference's order.
  constexpr uint64_t kChoices = 15 * 9;
  const RandAugmentV4 augment;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    cv::Mat applied = pattern(17, 13), replayed = pattern(17, 13);
    SampleRng rng(seed), replay(seed);
    augment.apply(applied, rng);
    const uint64_t policy = replay.below(kChoices * kChoices);
    for (const uint64_t choice : {policy / kChoices, policy % kChoices}) {
      if (replay.uniform() < 0.5) {
        RandAugmentV4::apply_op(replayed, static_cast<Op>(choice / 9), 1 + static_cast<int>(choice % 9), replay);
      }
    }
    EXPECT_TRUE(same(applied, replayed)) << "seed " << seed;
    EXPECT_EQ(rng.next_u64(), replay.next_u64()) << "seed " << seed << ": a different number of draws";
  }
}

TEST(RandAugmentV4, ApplyIsDeterministicAndKeepsTypeAndSize) {
  const RandAugmentV4 augment;
  int changed = 0, unchanged = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    cv::Mat first = pattern(23, 19), second = pattern(23, 19);
    SampleRng rng_first(seed), rng_second(seed);
    augment.apply(first, rng_first);
    augment.apply(second, rng_second);
    ASSERT_EQ(first.type(), CV_8UC3);
    ASSERT_EQ(first.size(), cv::Size(23, 19));
    ASSERT_TRUE(same(first, second)) << "seed " << seed;
    if (same(first, pattern(23, 19))) {
      ++unchanged;
    } else {
      ++changed;
    }
  }
  // Both coins fail a quarter of the time; most policies do change the image.
  EXPECT_GT(changed, 100);
  EXPECT_GT(unchanged, 20);
}

TEST(RandAugmentV4, ApplyWritesIntoARegionOfALargerImage) {
  cv::Mat canvas(30, 30, CV_8UC3, cv::Scalar::all(7));
  cv::Mat region = canvas(cv::Rect(5, 5, 12, 12));
  pattern(12, 12).copyTo(region);
  SampleRng rng(1);
  RandAugmentV4::apply_op(region, Op::kInvert, 0, rng);
  EXPECT_EQ(canvas.at<cv::Vec3b>(5, 5), cv::Vec3b(255, 0, 255));  // pattern (0, 255, 0) inverted
  RandAugmentV4::apply_op(region, Op::kRotate, 9, rng);
  EXPECT_EQ(static_cast<const void*>(region.data), static_cast<const void*>(canvas.ptr(5) + 5 * 3));
  EXPECT_EQ(canvas.at<cv::Vec3b>(5, 5), cv::Vec3b(128, 128, 128));  // a corner the rotation uncovers
  EXPECT_EQ(canvas.at<cv::Vec3b>(4, 4), cv::Vec3b(7, 7, 7));
  EXPECT_EQ(canvas.at<cv::Vec3b>(17, 17), cv::Vec3b(7, 7, 7));
}

TEST(RandAugmentV4, RejectsOtherImageTypesAndMagnitudes) {
  SampleRng rng(1);
  cv::Mat grey(4, 4, CV_8UC1, cv::Scalar(9));
  EXPECT_THROW(RandAugmentV4::apply_op(grey, Op::kInvert, 0, rng), paddlex::RunError);
  cv::Mat rgb(4, 4, CV_8UC3, cv::Scalar::all(9));
  EXPECT_THROW(RandAugmentV4::apply_op(rgb, Op::kInvert, 10, rng), paddlex::RunError);
  EXPECT_THROW(RandAugmentV4::apply_op(rgb, Op::kInvert, -1, rng), paddlex::RunError);
}

}  // namespace
