#include "paddlex/modules/text_recognition/rec_data.h"

#include <cmath>
#include <cstring>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "paddlex/core/errors.h"
#include "paddlex/core/random.h"
#include "paddlex/modules/text_recognition/models/rec_heads.h"
#include "paddlex/modules/text_recognition/rec_augment.h"

namespace paddlex::ocr {
namespace {

// RecConAug's extra lines per sample, as PP-OCRv4 configures it.
constexpr int kConcatCandidates = 2;

// (x / 255 - 0.5) / 0.5 of `bgr` resized to (width, height), into columns [0, width) of `out` [3, H, W].
void normalize_into(const cv::Mat& bgr, int64_t width, int64_t height, torch::Tensor& out) {
  cv::Mat resized;
  cv::resize(bgr, resized, cv::Size(static_cast<int>(width), static_cast<int>(height)), 0, 0, cv::INTER_LINEAR);
  auto a = out.accessor<float, 3>();
  for (int64_t y = 0; y < height; ++y) {
    const auto* row = resized.ptr<uint8_t>(static_cast<int>(y));
    for (int64_t x = 0; x < width; ++x)
      for (int64_t c = 0; c < 3; ++c) a[c][y][x] = (static_cast<float>(row[3 * x + c]) / 255.0f - 0.5f) / 0.5f;
  }
}

torch::Tensor mat_to_tensor(const cv::Mat& bgr) {
  auto t = torch::empty({bgr.rows, bgr.cols, 3}, torch::kUInt8);
  for (int y = 0; y < bgr.rows; ++y)
    std::memcpy(t.data_ptr<uint8_t>() + static_cast<size_t>(y) * bgr.cols * 3, bgr.ptr<uint8_t>(y),
                static_cast<size_t>(bgr.cols) * 3);
  return t;
}

cv::Mat tensor_to_mat(const torch::Tensor& t) {
  cv::Mat m(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_8UC3);
  std::memcpy(m.data, t.data_ptr<uint8_t>(), static_cast<size_t>(t.numel()));
  return m;
}

}  // namespace

std::optional<std::vector<int64_t>> encode_label(const std::u32string& text, const CharacterDict& dict,
                                                 int64_t max_text_length) {
  if (text.empty() || static_cast<int64_t>(text.size()) > max_text_length) return std::nullopt;
  std::vector<int64_t> ids;
  for (char32_t c : text)
    if (const int64_t id = dict.index_of(c); id > 0) ids.push_back(id);
  if (ids.empty() || static_cast<int64_t>(ids.size()) >= max_text_length - 1) return std::nullopt;
  return ids;
}

void add_label_tensors(TensorMap& tensors, const std::vector<int64_t>& ids, int64_t max_text_length) {
  auto ctc = torch::zeros({max_text_length}, torch::kInt64);
  auto gtc = torch::zeros({max_text_length}, torch::kInt64);
  gtc[0] = NrtrTokens::kStart;
  for (size_t i = 0; i < ids.size(); ++i) {
    ctc[static_cast<int64_t>(i)] = ids[i];
    gtc[static_cast<int64_t>(i) + 1] = ids[i] + NrtrTokens::kCharOffset;
  }
  gtc[static_cast<int64_t>(ids.size()) + 1] = NrtrTokens::kEnd;
  tensors["label_ctc"] = ctc;
  tensors["label_gtc"] = gtc;
  tensors["length"] = torch::tensor(static_cast<int64_t>(ids.size()), torch::kInt64);
}

torch::Tensor resize_norm_image(const cv::Mat& bgr, int64_t height, int64_t max_width) {
  const double ratio = static_cast<double>(bgr.cols) / bgr.rows;
  const auto natural = static_cast<int64_t>(std::ceil(static_cast<double>(height) * ratio));
  auto out = torch::zeros({3, height, max_width});
  normalize_into(bgr, std::min(natural, max_width), height, out);
  return out;
}

torch::Tensor resize_norm_image_for_predict(const cv::Mat& bgr, int64_t height, int64_t min_width) {
  const double ratio = static_cast<double>(bgr.cols) / bgr.rows;
  const double max_ratio = std::max(static_cast<double>(min_width) / static_cast<double>(height), ratio);
  const auto width = static_cast<int64_t>(static_cast<double>(height) * max_ratio);
  if (width > kMaxPredictWidth) {
    auto out = torch::zeros({3, height, kMaxPredictWidth});
    normalize_into(bgr, kMaxPredictWidth, height, out);
    return out;
  }
  return resize_norm_image(bgr, height, width);
}

cv::Mat read_image_bgr(const std::string& path) {
  cv::Mat image = cv::imread(path, cv::IMREAD_COLOR);
  if (image.empty()) throw RunError("cannot read image '" + path + "' (missing, unreadable or not an image)");
  return image;
}

TextRecSource::TextRecSource(std::vector<TextLine> lines, std::shared_ptr<const CharacterDict> dict,
                             RecDataOptions options, bool train)
    : lines_(std::move(lines)), dict_(std::move(dict)), options_(std::move(options)), train_(train) {
  if (options_.heights.empty()) options_.heights = {options_.image_shape[1]};
}

Sample TextRecSource::get(size_t index, uint64_t seed) const {
  const TextLine& line = lines_.at(index);
  cv::Mat image = read_image_bgr(line.image_path);
  Sample s;
  s.meta["image_path"] = line.image_path;
  if (!train_) {
    s.tensors["image"] = resize_norm_image(image, options_.image_shape[1], options_.image_shape[2]);
    add_label_tensors(s.tensors, line.ids, options_.max_text_length);
    return s;
  }
  SampleRng rng(seed);
  std::vector<int64_t> ids = line.ids;
  std::u32string text = line.text;
  // RecConAug: the two other lines are drawn whether or not the concatenation happens, as PaddleOCR loads them.
  std::vector<size_t> others;
  for (int k = 0; k < kConcatCandidates; ++k) others.push_back(static_cast<size_t>(rng.below(lines_.size())));
  if (rng.uniform() < options_.con_aug_prob) {
    const double max_ratio =
        static_cast<double>(options_.image_shape[2]) / static_cast<double>(options_.image_shape[1]);
    for (size_t other : others) {
      const TextLine& ext = lines_[other];
      if (static_cast<int64_t>(text.size() + ext.text.size()) > options_.max_text_length) break;
      cv::Mat ext_image = read_image_bgr(ext.image_path);
      const double ratio =
          static_cast<double>(image.cols) / image.rows + static_cast<double>(ext_image.cols) / ext_image.rows;
      if (ratio > max_ratio) break;
      // NRTR's label limit, which PaddleOCR enforces only after concatenating (dropping the whole sample).
      if (static_cast<int64_t>(ids.size() + ext.ids.size()) >= options_.max_text_length - 1) break;
      image = concat_text_images(image, ext_image, static_cast<int>(options_.image_shape[1]));
      text += ext.text;
      ids.insert(ids.end(), ext.ids.begin(), ext.ids.end());
    }
  }
  if (options_.rec_aug) rec_aug(image, rng);
  s.tensors["image_u8"] = mat_to_tensor(image);
  s.meta["height_draw"] = rng.uniform();
  add_label_tensors(s.tensors, ids, options_.max_text_length);
  return s;
}

Batch TextRecSource::collate(std::vector<Sample> samples) const {
  if (!train_ || samples.empty()) return stack_samples(std::move(samples));
  // One height per batch, as MultiScaleSampler groups its batches by scale.
  const double draw = samples.front().meta["height_draw"].get<double>();
  const auto pick = std::min(options_.heights.size() - 1, static_cast<size_t>(draw * options_.heights.size()));
  const int64_t height = options_.heights[pick];
  for (auto& s : samples) {
    s.tensors["image"] = resize_norm_image(tensor_to_mat(s.tensors.at("image_u8")), height, options_.image_shape[2]);
    s.tensors.erase("image_u8");
  }
  return stack_samples(std::move(samples));
}

}  // namespace paddlex::ocr
