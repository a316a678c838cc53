// Text recognition data as PaddleOCR feeds PP-OCRv4's recognizer: labels encoded for the CTC and NRTR heads,
// text-line images resized to a fixed height and normalized (BGR, (x/255 - 0.5) / 0.5), right-padded with 0.
#pragma once
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "paddlex/datasets/data_loader.h"
#include "paddlex/modules/text_recognition/character_dict.h"

namespace paddlex::ocr {

// The CTC class ids of `text` (characters missing from the dict left out, as PaddleOCR's CTCLabelEncode), or
// none when PaddleOCR's MultiLabelEncode rejects the label: empty, longer than `max_text_length`, nothing left
// after the dict filter, or too long for NRTR's <s> ... </s> (max_text_length - 1 characters or more).
std::optional<std::vector<int64_t>> encode_label(const std::u32string& text, const CharacterDict& dict,
                                                 int64_t max_text_length);

// The label tensors of one sample: label_ctc [max_len] (ids, 0-padded), label_gtc [max_len] (<s> ids+3 </s>,
// 0-padded) and length (a scalar).
void add_label_tensors(TensorMap& tensors, const std::vector<int64_t>& ids, int64_t max_text_length);

// PaddleOCR's resize_norm_img: height `height`, width ceil(height * w / h) capped at `max_width` (wider lines are
// squeezed), normalized into a zero [3, height, max_width] tensor, left-aligned.
torch::Tensor resize_norm_image(const cv::Mat& bgr, int64_t height, int64_t max_width);

// PaddleX's predict resize (OCRReisizeNormImg): the padded width is at least `min_width` and grows with the
// line's aspect ratio, so a line is never squeezed, except beyond `kMaxPredictWidth`, where it is resized to
// exactly that width.
torch::Tensor resize_norm_image_for_predict(const cv::Mat& bgr, int64_t height, int64_t min_width);
constexpr int64_t kMaxPredictWidth = 3200;

// Reads an image as PaddleOCR's DecodeImage does (8-bit BGR); throws RunError naming the file.
cv::Mat read_image_bgr(const std::string& path);

struct TextLine {
  std::string image_path;
  std::u32string text;
  std::vector<int64_t> ids;  // encode_label of text
};

struct RecDataOptions {
  std::array<int64_t, 3> image_shape = {3, 48, 320};
  int64_t max_text_length = 25;
  // Training only:
  std::vector<int64_t> heights;  // MultiScaleSampler's heights, one drawn per batch; empty: image_shape's
  bool rec_aug = true;           // RecAug (TIA warps, crop, blur, colour, jitter, noise, inversion)
  double con_aug_prob = 0.5;     // RecConAug: concatenate up to 2 other lines
};

// The lines of a list file, resized and labelled. Training samples carry the augmented 8-bit image and collate
// resizes a batch to one height drawn from its first sample's seed; evaluation samples are resized to
// image_shape in get().
class TextRecSource : public SampleSource {
 public:
  TextRecSource(std::vector<TextLine> lines, std::shared_ptr<const CharacterDict> dict, RecDataOptions options,
                bool train);
  size_t size() const override { return lines_.size(); }
  Sample get(size_t index, uint64_t seed) const override;
  Batch collate(std::vector<Sample> samples) const override;

 private:
  std::vector<TextLine> lines_;
  std::shared_ptr<const CharacterDict> dict_;
  RecDataOptions options_;
  bool train_;
};

}  // namespace paddlex::ocr
