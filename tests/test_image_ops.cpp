// The image op table: PaddleX op names and arguments, seeded randomness, and geometric ops that move a label
// mask (nearest), boxes and polygons together with the image.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <opencv2/core.hpp>

#include "test_util.h"
#include "paddlex/core/errors.h"
#include "paddlex/datasets/image_ops.h"

using namespace paddlex::testing;

namespace {

using paddlex::ImagePipeline;
using paddlex::ImageSample;
using paddlex::SampleRng;

bool same_mat(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

cv::Mat noise_image(int w, int h, uint64_t seed) {
  cv::Mat img(h, w, CV_8UC3);
  SampleRng rng(seed);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) img.at<cv::Vec3b>(y, x)[c] = static_cast<uint8_t>(rng.below(256));
  return img;
}

ImagePipeline ops(const std::string& yaml) { return ImagePipeline::parse(YAML::Load(yaml), "test.yml"); }

cv::Mat run(const ImagePipeline& p, const cv::Mat& img, uint64_t seed) {
  ImageSample s;
  s.image = img.clone();
  SampleRng rng(seed);
  p.apply(s, rng);
  return s.image;
}

std::string error_of(const std::string& yaml) {
  try {
    ops(yaml);
  } catch (const paddlex::RunError& e) {
    return e.what();
  }
  return "";
}

TEST(ImageOps, RandCropImageSizeAndDeterminism) {
  const cv::Mat img = noise_image(40, 30, 1);
  const auto p = ops("- RandCropImage: {size: 16}");
  for (uint64_t seed = 0; seed < 5; ++seed) {
    const cv::Mat a = run(p, img, seed);
    EXPECT_EQ(a.size(), cv::Size(16, 16));
    EXPECT_EQ(a.type(), CV_8UC3);
    EXPECT_TRUE(same_mat(a, run(p, img, seed))) << "seed " << seed;
  }
  EXPECT_FALSE(same_mat(run(p, img, 1), run(p, img, 2)));
  // scale [1, 1] on a square image: the only crop is the whole image, so a same-size output equals the input.
  const cv::Mat square = noise_image(12, 12, 3);
  EXPECT_TRUE(same_mat(run(ops("- RandCropImage: {size: 12, scale: [1.0, 1.0]}"), square, 9), square));
}

TEST(ImageOps, ResizeShortThenCenterCrop) {
  const auto p = ops("- ResizeImage: {resize_short: 32}\n- CropImage: {size: 24}");
  EXPECT_EQ(run(p, noise_image(40, 30, 2), 0).size(), cv::Size(24, 24));
  // 60x20 image in three vertical stripes red | green | blue; short side 20 -> no resize, the centre
  // 20x20 crop is exactly the green stripe.
  cv::Mat stripes(20, 60, CV_8UC3, cv::Scalar(255, 0, 0));
  stripes(cv::Rect(20, 0, 20, 20)).setTo(cv::Scalar(0, 255, 0));
  stripes(cv::Rect(40, 0, 20, 20)).setTo(cv::Scalar(0, 0, 255));
  const cv::Mat center = run(ops("- ResizeImage: {resize_short: 20}\n- CropImage: {size: 20}"), stripes, 0);
  EXPECT_TRUE(same_mat(center, cv::Mat(20, 20, CV_8UC3, cv::Scalar(0, 255, 0))));
  // A crop larger than the image is an error naming both sizes.
  ImageSample s;
  s.image = noise_image(10, 10, 1);
  SampleRng rng(0);
  EXPECT_THROW(ops("- CropImage: {size: 12}").apply(s, rng), paddlex::RunError);
}

TEST(ImageOps, RandFlipImageFlipsHalfTheSeeds) {
  const cv::Mat img = noise_image(5, 3, 4);
  cv::Mat mirrored;
  cv::flip(img, mirrored, 1);
  const auto p = ops("- RandFlipImage: {flip_code: 1}");
  int flipped = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const cv::Mat out = run(p, img, seed);
    ASSERT_TRUE(same_mat(out, img) || same_mat(out, mirrored));
    flipped += same_mat(out, mirrored);
  }
  EXPECT_GT(flipped, 70);
  EXPECT_LT(flipped, 130);
}

TEST(ImageOps, NormalizeAndToCHWHandComputed) {
  cv::Mat img(2, 2, CV_8UC3);
  img.at<cv::Vec3b>(0, 0) = {0, 51, 255};
  img.at<cv::Vec3b>(0, 1) = {255, 102, 0};
  img.at<cv::Vec3b>(1, 0) = {127, 153, 10};
  img.at<cv::Vec3b>(1, 1) = {25, 204, 200};
  // PaddleClas writes scale as the string "1.0/255.0".
  const auto p = ops("- NormalizeImage: {scale: 1.0/255.0, mean: [0.5, 0.25, 0.0], std: [0.5, 0.25, 2.0], order: ''}\n"
                     "- ToCHWImage:");
  SampleRng rng(0);
  const torch::Tensor out = p.image_tensor(img, rng);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{3, 2, 2}));
  const std::vector<double> expected = {
      // R: (0, 255, 127, 25) -> (v/255 - 0.5) / 0.5
      -1.0, 1.0, 127.0 / 255 * 2 - 1, 25.0 / 255 * 2 - 1,
      // G: (51, 102, 153, 204) -> (v/255 - 0.25) / 0.25
      -0.2, 0.6, 1.4, 2.2,
      // B: (255, 0, 10, 200) -> v / 255 / 2
      0.5, 0.0, 10.0 / 510, 200.0 / 510};
  const auto flat = out.flatten();
  for (int64_t i = 0; i < 12; ++i) EXPECT_NEAR(flat[i].item<float>(), expected[static_cast<size_t>(i)], 1e-5) << i;
}

TEST(ImageOps, CutoutPaintsOneSquareWithinTheImage) {
  const cv::Mat img(40, 40, CV_8UC3, cv::Scalar(1, 2, 3));
  const auto p = ops("- Cutout: {length: 10, fill_value: 200}");
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const cv::Mat out = run(p, img, seed);
    cv::Mat painted;
    cv::inRange(out, cv::Scalar(200, 200, 200), cv::Scalar(200, 200, 200), painted);
    const cv::Rect box = cv::boundingRect(painted);
    EXPECT_EQ(cv::countNonZero(painted), box.area()) << "one filled rectangle";
    EXPECT_LE(box.width, 11);  // corners inclusive: y - 5 .. y + 5
    EXPECT_LE(box.height, 11);
    EXPECT_GT(box.area(), 0);
  }
}

// A bright square in the image, the same square labelled 1 in the mask, as a box and as a polygon: after every
// geometric op they must still coincide.
void expect_targets_follow_the_image(const std::string& yaml, uint64_t seed) {
  SCOPED_TRACE(yaml + " seed " + std::to_string(seed));
  ImageSample s;
  s.image = cv::Mat(60, 80, CV_8UC3, cv::Scalar(0, 0, 0));
  s.mask = cv::Mat(60, 80, CV_8UC1, cv::Scalar(0));
  const cv::Rect square(50, 10, 20, 16);
  s.image(square).setTo(cv::Scalar(255, 255, 255));
  s.mask(square).setTo(1);
  s.boxes = {{50, 10, 70, 26}};
  s.polygons = {{{50, 10}, {70, 10}, {70, 26}, {50, 26}}};
  SampleRng rng(seed);
  ops(yaml).apply(s, rng);
  cv::Mat bright;
  cv::inRange(s.image, cv::Scalar(128, 128, 128), cv::Scalar(255, 255, 255), bright);
  const cv::Rect in_image = cv::boundingRect(bright), in_mask = cv::boundingRect(s.mask);
  ASSERT_EQ(s.mask.size(), s.image.size());
  ASSERT_GT(in_mask.area(), 0);
  for (const cv::Rect& r : {in_image, in_mask}) {
    EXPECT_NEAR(r.x, s.boxes[0][0], 1.01);
    EXPECT_NEAR(r.y, s.boxes[0][1], 1.01);
    EXPECT_NEAR(r.x + r.width, s.boxes[0][2], 1.01);
    EXPECT_NEAR(r.y + r.height, s.boxes[0][3], 1.01);
  }
  // The mask stays a label map (nearest neighbour): no values between 0 and 1 appear.
  double lo, hi;
  cv::minMaxLoc(s.mask, &lo, &hi);
  EXPECT_EQ(hi, 1.0);
  const cv::Rect polygon = cv::boundingRect(std::vector<cv::Point2f>(s.polygons[0]));
  EXPECT_NEAR(polygon.x, s.boxes[0][0], 1.01);
  EXPECT_NEAR(polygon.y, s.boxes[0][1], 1.01);
}

TEST(ImageOps, GeometricOpsMoveMasksBoxesAndPolygons) {
  expect_targets_follow_the_image("- ResizeImage: {size: [40, 90]}", 0);
  expect_targets_follow_the_image("- ResizeImage: {resize_short: 120}", 0);
  expect_targets_follow_the_image("- CropImage: {size: [60, 40]}", 0);
  for (const char* flip : {"1", "0", "-1"})
    for (uint64_t seed = 0; seed < 4; ++seed)
      expect_targets_follow_the_image("- RandFlipImage: {flip_code: " + std::string(flip) + "}", seed);
  for (uint64_t seed = 0; seed < 6; ++seed)
    expect_targets_follow_the_image("- RandCropImage: {size: 64, scale: [0.6, 1.0]}", seed);
}

TEST(ImageOps, BoxesAreClippedToACrop) {
  ImageSample s;
  s.image = cv::Mat(50, 50, CV_8UC3, cv::Scalar(0, 0, 0));
  s.boxes = {{0, 0, 50, 50}, {0, 0, 5, 5}};
  SampleRng rng(0);
  ops("- CropImage: {size: 20}").apply(s, rng);  // crop x, y in [15, 35)
  EXPECT_EQ(s.boxes[0], cv::Vec4f(0, 0, 20, 20));
  EXPECT_EQ(s.boxes[1], cv::Vec4f(0, 0, 0, 0));  // wholly outside: zero area, left for the task to drop
}

TEST(ImageOps, OpListsRoundTrip) {
  const std::string yaml =
      "- ResizeImage: {resize_short: 256}\n- CropImage: {size: 224}\n"
      "- NormalizeImage: {scale: 0.00392156862745098, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}\n"
      "- ToCHWImage:\n";
  const YAML::Node once = ops(yaml).to_yaml();
  const YAML::Node twice = ImagePipeline::parse(once, "round trip").to_yaml();
  YAML::Emitter a, b;
  a << once;
  b << twice;
  EXPECT_EQ(std::string(a.c_str()), std::string(b.c_str()));
  EXPECT_TRUE(Contains(a.c_str(), "0.485")) << a.c_str();  // shortest exact decimal, not 0.48499999999999999
  // DecodeImage (first in PaddleClas lists) is accepted.
  EXPECT_NO_THROW(ops("- DecodeImage: {to_rgb: True, channel_first: False}\n" + yaml));
}

TEST(ImageOps, BadOpListsNameFileLineOpAndArgument) {
  EXPECT_TRUE(Contains(error_of("- Resize: {size: 3}"), "test.yml:1: unknown image op 'Resize' (known: DecodeImage, "));
  EXPECT_TRUE(Contains(error_of("- CropImage: {size: 2}\n- CropImage: {size: -4}"),
                       "test.yml:2: CropImage.size: expected a positive integer"));
  EXPECT_TRUE(Contains(error_of("- CropImage: {size: 2, sise: 3}"), "CropImage.sise: unknown argument (known: size)"));
  EXPECT_TRUE(Contains(error_of("- ResizeImage: {size: 3, resize_short: 4}"), "give exactly one of"));
  EXPECT_TRUE(Contains(error_of("- ResizeImage: {size: 3, interpolation: cubicle}"), "'cubicle' is not one of"));
  EXPECT_TRUE(Contains(error_of("- NormalizeImage: {mean: [0.5]}"), "NormalizeImage.mean: expected 3 values"));
  EXPECT_TRUE(Contains(error_of("- NormalizeImage: {scale: one/255}"), "expected a number or 'a/b'"));
  EXPECT_TRUE(Contains(error_of("- NormalizeImage: {order: chw}"), "only HWC input"));
  EXPECT_TRUE(Contains(error_of("- RandFlipImage: {flip_code: 2}"), "expected 1 (horizontal)"));
  EXPECT_TRUE(Contains(error_of("- RandCropImage: {size: 8, scale: [0.9, 0.1]}"), "low <= high"));
  EXPECT_TRUE(Contains(error_of("ResizeImage: {size: 3}"), "expected a list of image ops"));
  EXPECT_TRUE(Contains(error_of("- CropImage: {}"), "test.yml:1: CropImage.size: missing"));
  EXPECT_TRUE(Contains(error_of("- Cutout:"), "Cutout.length: missing"));
  EXPECT_TRUE(Contains(error_of("- {A: 1, B: 2}"), "each op must be a mapping {OpName: {arguments}}"));
}

}  // namespace
