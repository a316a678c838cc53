// PaddleOCR's text-recognition training augmentations (ppocr/data/imaug/rec_img_aug.py: RecConAug, RecAug,
// BaseDataAugmentation; text_image_aug/augment.py and warp_mls.py: TIA and WarpMLS), on 8-bit BGR images as
// PaddleOCR's DecodeImage gives them.
//
// Every draw comes from the SampleRng passed in: random.random() -> uniform(), random.randint(a, b) and
// np.random.randint(n) -> a + below(b - a + 1) and below(n). A seed therefore reproduces the distribution of a
// PaddleOCR run, not its images. The arithmetic follows the reference's numpy dtypes (WarpMLS keeps its float32
// intermediates, results are truncated to uint8): fed the same draws, PaddleOCR's code gives the same images value
// for value, except that OpenCV builds differ by one level in some HSV->BGR conversions.
#pragma once
#include <opencv2/core.hpp>

#include <vector>

#include "paddlex/core/random.h"

namespace paddlex::ocr {

// WarpMLS: similarity moving-least-squares warp mapping each output pixel back into `src` (control points
// dst_pts -> src_pts). The backward map is solved on a 100-px grid (plus the last row and column), interpolated
// bilinearly inside each cell, and `src` is sampled bilinearly with coordinates clamped to the image. Any 8-bit
// image with 1..4 channels; the result is dst_h x dst_w (TIA always passes the source size).
cv::Mat warp_mls(const cv::Mat& src, const std::vector<cv::Point2f>& src_pts,
                 const std::vector<cv::Point2f>& dst_pts, int dst_w, int dst_h, double trans_ratio = 1.0);

// TIA distort: the four corners move inwards by U{0..t-1} in x and y, and the top and bottom points of each of the
// segment-1 inner cut lines move independently by U{0..t-1} - t/2 in x and y (cut = w / segment, t = cut / 3).
cv::Mat tia_distort(const cv::Mat& img, int segment, SampleRng& rng);
// TIA stretch: corners fixed; each inner cut line shifts horizontally as a whole by U{0..t-1} - t/2
// (cut = w / segment, t = cut * 4 / 5).
cv::Mat tia_stretch(const cv::Mat& img, int segment, SampleRng& rng);
// TIA perspective: the corners move vertically inwards by U{0..t-1}, t = h / 2 (the left and right edges keep x).
cv::Mat tia_perspective(const cv::Mat& img, SampleRng& rng);

// The six BaseDataAugmentation operations, exposed for testing; each draws from `rng` exactly where the reference
// draws. bda_crop drops min(U{1..8}, h-1) rows from the top or the bottom (coin flip), returning an owning copy.
cv::Mat bda_crop(const cv::Mat& img, SampleRng& rng);
// GaussianBlur 5x5, sigma 1 (reflect-101 border inside the image itself), only when h > 10 and w > 10.
cv::Mat bda_blur(const cv::Mat& img);
// BGR -> HSV -> BGR round trip (8-bit, hue in 2-degree steps) with V scaled by 1 + delta, |delta| < 0.001, and
// truncated: V is unchanged for delta >= 0 and loses one level for delta < 0 (when V > 0). CV_8UC3 only.
cv::Mat bda_hsv(const cv::Mat& img, SampleRng& rng);
// Diagonal smear: pixel (r, c) = src(r - k, c - k), k = min(r, c, s - 1), s = int(U * min(h, w) * 0.01). Draws
// only when h > 10 and w > 10; visibly changes nothing unless min(h, w) > 200 (s >= 2).
cv::Mat bda_jitter(const cv::Mat& img, SampleRng& rng);
// img + 0.5 * N(0, sqrt(0.1)) per channel value, clipped and truncated to uint8. Sampled exactly as
// floor(noise) (see the .cpp): in practice each value > 0 loses one level with probability 1/2.
cv::Mat bda_noise(const cv::Mat& img, SampleRng& rng);
// 255 - x on every channel value.
cv::Mat bda_reverse(const cv::Mat& img);

// BaseDataAugmentation with its default probabilities (0.4 each): crop (h >= 20 and w >= 20 at entry), blur, hsv,
// jitter, noise, reverse, in that order, each gated by uniform() <= 0.4. `bgr_image` (CV_8UC3) is replaced.
void base_data_augmentation(cv::Mat& bgr_image, SampleRng& rng);
// RecAug with default probabilities (all 0.4): with probability 0.4 TIA (distort(U{3..6}) then stretch(U{3..6})
// when h >= 20 and w >= 20, then perspective in any case), then base_data_augmentation. `bgr_image` (CV_8UC3) is
// replaced; its height can shrink by up to 8 rows (crop), its width never changes.
void rec_aug(cv::Mat& bgr_image, SampleRng& rng);

// RecConAug's merge_ext_data: both images resized (INTER_LINEAR) to `height` rows and round(w / h * height) columns
// (Python round: half to even; at least 1), then side by side, a on the left. Both must have the same type. The
// caller keeps RecConAug's gate and stops: proceed when uniform() <= prob; stop at the first extra line whose
// label would pass max_text_length code points or whose w/h ratio added to the current one passes W/H.
cv::Mat concat_text_images(const cv::Mat& a, const cv::Mat& b, int height);

}  // namespace paddlex::ocr
