#include "paddlex/datasets/image_ops.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "paddlex/core/errors.h"
#include "paddlex/core/text.h"
#include "paddlex/datasets/rand_augment.h"

namespace paddlex {
namespace {

// ---- where an op list came from, for messages

std::string where(const std::string& source, const YAML::Node& node) {
  const int line = node.IsDefined() ? node.Mark().line : -1;
  return line >= 0 ? source + ":" + std::to_string(line + 1) : source;
}

// Typed access to one op's arguments; every failure names the source, the op and the argument.
class OpArgs {
 public:
  OpArgs(std::string op, YAML::Node args, std::string location)
      : op_(std::move(op)), args_(std::move(args)), location_(std::move(location)) {
    if (args_ && !args_.IsNull() && !args_.IsMap()) fail("", "its arguments must be a mapping");
  }
  bool has(const std::string& key) const { return args_.IsMap() && args_[key] && !args_[key].IsNull(); }
  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    throw RunError(location_ + ": " + op_ + (key.empty() ? "" : "." + key) + ": " + why);
  }
  template <typename T>
  T get(const std::string& key, const std::string& expected) const {
    try {
      return args_[key].as<T>();
    } catch (const YAML::Exception&) {
      fail(key, "expected " + expected);
    }
  }
  template <typename T>
  T get_or(const std::string& key, T fallback, const std::string& expected) const {
    return has(key) ? get<T>(key, expected) : fallback;
  }
  int positive_int(const std::string& key) const {
    if (!has(key)) fail(key, "missing: expected a positive integer");
    const int v = get<int>(key, "a positive integer");
    if (v <= 0) fail(key, "expected a positive integer, got " + std::to_string(v));
    return v;
  }
  // `size`: N (square) or [w, h].
  cv::Size size(const std::string& key) const {
    if (!has(key)) fail(key, "missing: expected N or [width, height]");
    const YAML::Node n = args_[key];
    if (n.IsSequence()) {
      auto wh = get<std::vector<int>>(key, "N or [width, height]");
      if (wh.size() != 2 || wh[0] <= 0 || wh[1] <= 0) fail(key, "expected N or [width, height] of positive integers");
      return {wh[0], wh[1]};
    }
    const int v = positive_int(key);
    return {v, v};
  }
  // (lo, hi) with lo <= hi from a two-element list.
  std::pair<double, double> range(const std::string& key, std::pair<double, double> fallback, double min) const {
    if (!has(key)) return fallback;
    auto v = get<std::vector<double>>(key, "[low, high]");
    if (v.size() != 2 || !(v[0] <= v[1]) || v[0] < min) fail(key, "expected [low, high] with low <= high");
    return {v[0], v[1]};
  }
  int interpolation() const {
    static const std::map<std::string, int> modes = {
        {"nearest", cv::INTER_NEAREST}, {"bilinear", cv::INTER_LINEAR}, {"linear", cv::INTER_LINEAR},
        {"bicubic", cv::INTER_CUBIC},   {"cubic", cv::INTER_CUBIC},     {"area", cv::INTER_AREA},
        {"lanczos", cv::INTER_LANCZOS4}};
    if (!has("interpolation")) return cv::INTER_LINEAR;
    const std::string name = get<std::string>("interpolation", "an interpolation name");
    auto it = modes.find(name);
    if (it == modes.end()) fail("interpolation", "'" + name + "' is not one of nearest, bilinear, bicubic, area, lanczos");
    return it->second;
  }
  void only(std::initializer_list<const char*> known) const {
    if (!args_.IsMap()) return;
    for (const auto& kv : args_) {
      const std::string key = kv.first.as<std::string>();
      if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; })) {
        std::string list;
        for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        fail(key, "unknown argument (known: " + (list.empty() ? std::string("none") : list) + ")");
      }
    }
  }

 private:
  std::string op_;
  YAML::Node args_;
  std::string location_;
};

std::string interpolation_name(int mode) {
  switch (mode) {
    case cv::INTER_NEAREST: return "nearest";
    case cv::INTER_CUBIC: return "bicubic";
    case cv::INTER_AREA: return "area";
    case cv::INTER_LANCZOS4: return "lanczos";
    default: return "bilinear";
  }
}

YAML::Node size_yaml(cv::Size s) {
  if (s.width == s.height) return YAML::Node(s.width);
  YAML::Node n(YAML::NodeType::Sequence);
  n.push_back(s.width);
  n.push_back(s.height);
  n.SetStyle(YAML::EmitterStyle::Flow);
  return n;
}

// ---- geometry applied to an image and everything it carries

void resize_all(ImageSample& s, cv::Size to, int interpolation) {
  const double sx = static_cast<double>(to.width) / s.image.cols, sy = static_cast<double>(to.height) / s.image.rows;
  cv::Mat image, mask;  // fresh outputs: the inputs may be views into pixels that must stay as they are
  cv::resize(s.image, image, to, 0, 0, interpolation);
  s.image = image;
  if (!s.mask.empty()) {
    cv::resize(s.mask, mask, to, 0, 0, cv::INTER_NEAREST);
    s.mask = mask;
  }
  for (auto& b : s.boxes) {
    b[0] = static_cast<float>(b[0] * sx), b[2] = static_cast<float>(b[2] * sx);
    b[1] = static_cast<float>(b[1] * sy), b[3] = static_cast<float>(b[3] * sy);
  }
  for (auto& polygon : s.polygons)
    for (auto& p : polygon) p = {static_cast<float>(p.x * sx), static_cast<float>(p.y * sy)};
}

// Boxes are clipped to the crop; a box wholly outside keeps zero area (the task decides what to drop, since
// boxes carry labels the ops do not see). With `keep_views` the image and mask stay views into the uncropped
// pixels, for a resize that follows at once.
void crop_all(ImageSample& s, cv::Rect r, bool keep_views = false) {
  s.image = keep_views ? s.image(r) : s.image(r).clone();
  if (!s.mask.empty()) s.mask = keep_views ? s.mask(r) : s.mask(r).clone();
  const float w = static_cast<float>(r.width), h = static_cast<float>(r.height);
  for (auto& b : s.boxes) {
    b[0] = std::clamp(b[0] - r.x, 0.f, w), b[2] = std::clamp(b[2] - r.x, 0.f, w);
    b[1] = std::clamp(b[1] - r.y, 0.f, h), b[3] = std::clamp(b[3] - r.y, 0.f, h);
  }
  for (auto& polygon : s.polygons)
    for (auto& p : polygon) p -= cv::Point2f(static_cast<float>(r.x), static_cast<float>(r.y));
}

// flip_code as OpenCV: 1 horizontal, 0 vertical, -1 both.
void flip_all(ImageSample& s, int flip_code) {
  const float w = static_cast<float>(s.image.cols), h = static_cast<float>(s.image.rows);
  cv::flip(s.image, s.image, flip_code);
  if (!s.mask.empty()) cv::flip(s.mask, s.mask, flip_code);
  const bool horizontal = flip_code != 0, vertical = flip_code <= 0;
  for (auto& b : s.boxes) {
    if (horizontal) b = {w - b[2], b[1], w - b[0], b[3]};
    if (vertical) b = {b[0], h - b[3], b[2], h - b[1]};
  }
  for (auto& polygon : s.polygons)
    for (auto& p : polygon) p = {horizontal ? w - p.x : p.x, vertical ? h - p.y : p.y};
}

void require_8bit(const ImageSample& s, const char* op) {
  if (s.image.depth() != CV_8U) throw RunError(std::string(op) + " needs an 8-bit image: place it before NormalizeImage");
}

// ---- the ops

// Decoding happens before the op list (images arrive as 8-bit RGB); PaddleClas lists name it first.
class DecodeImage : public ImageOp {
 public:
  explicit DecodeImage(const OpArgs& a) {
    a.only({"to_rgb", "channel_first"});
    if (!a.get_or<bool>("to_rgb", true, "true or false")) a.fail("to_rgb", "only RGB decoding is supported");
    if (a.get_or<bool>("channel_first", false, "true or false")) a.fail("channel_first", "use ToCHWImage instead");
  }
  void apply(ImageSample&, SampleRng&) const override {}
  YAML::Node to_yaml() const override { return image_op_entry("DecodeImage"); }
};

// PaddleClas ResizeImage: `resize_short` scales the short side to N keeping the aspect ratio; `size` (N or
// [w, h]) resizes to exactly that.
class ResizeImage : public ImageOp {
 public:
  explicit ResizeImage(const OpArgs& a) : interpolation_(a.interpolation()) {
    a.only({"resize_short", "size", "interpolation", "backend"});
    if (a.has("resize_short") == a.has("size")) a.fail("", "give exactly one of resize_short and size");
    if (a.has("resize_short")) resize_short_ = a.positive_int("resize_short");
    else size_ = a.size("size");
  }
  void apply(ImageSample& s, SampleRng&) const override {
    cv::Size to = size_;
    if (resize_short_ > 0) {
      const double scale = static_cast<double>(resize_short_) / std::min(s.image.cols, s.image.rows);
      to = {static_cast<int>(std::lround(s.image.cols * scale)), static_cast<int>(std::lround(s.image.rows * scale))};
    }
    resize_all(s, to, interpolation_);
  }
  YAML::Node to_yaml() const override {
    YAML::Node args;
    if (resize_short_ > 0) args["resize_short"] = resize_short_;
    else args["size"] = size_yaml(size_);
    if (interpolation_ != cv::INTER_LINEAR) args["interpolation"] = interpolation_name(interpolation_);
    return image_op_entry("ResizeImage", args);
  }

 private:
  int resize_short_ = 0;
  cv::Size size_;
  int interpolation_;
};

// Center crop of `size` (N or [w, h]).
class CropImage : public ImageOp {
 public:
  explicit CropImage(const OpArgs& a) : size_((a.only({"size"}), a.size("size"))) {}
  void apply(ImageSample& s, SampleRng&) const override {
    if (s.image.cols < size_.width || s.image.rows < size_.height)
      throw RunError("CropImage: the image is " + std::to_string(s.image.cols) + "x" + std::to_string(s.image.rows) +
                     ", smaller than the crop " + std::to_string(size_.width) + "x" + std::to_string(size_.height) +
                     " (resize it first, e.g. ResizeImage resize_short >= the crop size)");
    crop_all(s, {(s.image.cols - size_.width) / 2, (s.image.rows - size_.height) / 2, size_.width, size_.height});
  }
  YAML::Node to_yaml() const override {
    YAML::Node args;
    args["size"] = size_yaml(size_);
    return image_op_entry("CropImage", args);
  }

 private:
  cv::Size size_;
};

// Random resized crop, sampled as torchvision's RandomResizedCrop: area fraction uniform in `scale`, aspect ratio
// log-uniform in `ratio`, 10 tries, then a center crop at the clamped ratio; resized to `size`.
class RandCropImage : public ImageOp {
 public:
  explicit RandCropImage(const OpArgs& a)
      : size_((a.only({"size", "scale", "ratio", "interpolation", "backend"}), a.size("size"))),
        scale_(a.range("scale", {0.08, 1.0}, 0.0)),
        ratio_(a.range("ratio", {3.0 / 4.0, 4.0 / 3.0}, 1e-6)),
        interpolation_(a.interpolation()) {
    if (scale_.second <= 0 || scale_.second > 1) a.fail("scale", "expected [low, high] within (0, 1]");
  }
  void apply(ImageSample& s, SampleRng& rng) const override {
    const int width = s.image.cols, height = s.image.rows;
    const double area = static_cast<double>(width) * height;
    const double log_lo = std::log(ratio_.first), log_hi = std::log(ratio_.second);
    for (int attempt = 0; attempt < 10; ++attempt) {
      const double target_area = area * rng.uniform(scale_.first, scale_.second);
      const double ratio = std::exp(rng.uniform(log_lo, log_hi));
      const int w = static_cast<int>(std::lround(std::sqrt(target_area * ratio)));
      const int h = static_cast<int>(std::lround(std::sqrt(target_area / ratio)));
      if (w > 0 && h > 0 && w <= width && h <= height) {
        const int y = static_cast<int>(rng.below(static_cast<uint64_t>(height - h + 1)));
        const int x = static_cast<int>(rng.below(static_cast<uint64_t>(width - w + 1)));
        crop_all(s, {x, y, w, h}, true);
        resize_all(s, size_, interpolation_);
        return;
      }
    }
    const double in_ratio = static_cast<double>(width) / height;
    int w = width, h = height;
    if (in_ratio < ratio_.first) h = static_cast<int>(std::lround(w / ratio_.first));
    else if (in_ratio > ratio_.second) w = static_cast<int>(std::lround(h * ratio_.second));
    crop_all(s, {(width - w) / 2, (height - h) / 2, w, h}, true);
    resize_all(s, size_, interpolation_);
  }
  YAML::Node to_yaml() const override {
    YAML::Node args;
    args["size"] = size_yaml(size_);
    for (const auto& [key, range] : {std::make_pair("scale", scale_), std::make_pair("ratio", ratio_)}) {
      YAML::Node pair(YAML::NodeType::Sequence);
      pair.push_back(shortest_text(range.first));
      pair.push_back(shortest_text(range.second));
      pair.SetStyle(YAML::EmitterStyle::Flow);
      args[key] = pair;
    }
    if (interpolation_ != cv::INTER_LINEAR) args["interpolation"] = interpolation_name(interpolation_);
    return image_op_entry("RandCropImage", args);
  }

 private:
  cv::Size size_;
  std::pair<double, double> scale_, ratio_;
  int interpolation_;
};

// Flips with probability 0.5; flip_code as OpenCV (1 horizontal, 0 vertical, -1 both).
class RandFlipImage : public ImageOp {
 public:
  explicit RandFlipImage(const OpArgs& a) : flip_code_((a.only({"flip_code"}), a.get_or<int>("flip_code", 1, "1, 0 or -1"))) {
    if (flip_code_ < -1 || flip_code_ > 1) a.fail("flip_code", "expected 1 (horizontal), 0 (vertical) or -1 (both)");
  }
  void apply(ImageSample& s, SampleRng& rng) const override {
    if (rng.uniform() < 0.5) flip_all(s, flip_code_);
  }
  YAML::Node to_yaml() const override {
    YAML::Node args;
    args["flip_code"] = flip_code_;
    return image_op_entry("RandFlipImage", args);
  }

 private:
  int flip_code_;
};

// PaddleClas Cutout: `n_holes` squares of side `length` centered at uniformly drawn pixels (clipped to the image),
// filled with `fill_value` or, when it is none, a random color per hole. The targets are left alone.
class Cutout : public ImageOp {
 public:
  explicit Cutout(const OpArgs& a) : length_((a.only({"length", "n_holes", "fill_value"}), a.positive_int("length"))) {
    n_holes_ = a.has("n_holes") ? a.positive_int("n_holes") : 1;
    if (a.has("fill_value") && ascii_lower(a.get<std::string>("fill_value", "none or 0..255")) != "none") {
      fill_ = a.get<int>("fill_value", "none or an integer 0..255");
      if (fill_ < 0 || fill_ > 255) a.fail("fill_value", "expected none or an integer 0..255");
    }
  }
  void apply(ImageSample& s, SampleRng& rng) const override {
    require_8bit(s, "Cutout");
    const int h = s.image.rows, w = s.image.cols, half = length_ / 2;
    for (int hole = 0; hole < n_holes_; ++hole) {
      const int y = static_cast<int>(rng.below(static_cast<uint64_t>(h)));
      const int x = static_cast<int>(rng.below(static_cast<uint64_t>(w)));
      cv::Scalar color = cv::Scalar::all(fill_);
      if (fill_ < 0)
        for (int c = 0; c < 3; ++c) color[c] = static_cast<double>(rng.below(256));
      // cv2.rectangle's corners are inclusive: rows y1..y2 and columns x1..x2 within the image.
      const int y1 = std::clamp(y - half, 0, h), y2 = std::clamp(y + half, 0, h);
      const int x1 = std::clamp(x - half, 0, w), x2 = std::clamp(x + half, 0, w);
      const cv::Rect box(x1, y1, std::min(x2, w - 1) - x1 + 1, std::min(y2, h - 1) - y1 + 1);
      if (box.width > 0 && box.height > 0) s.image(box).setTo(color);
    }
  }
  YAML::Node to_yaml() const override {
    YAML::Node args;
    args["length"] = length_;
    if (n_holes_ != 1) args["n_holes"] = n_holes_;
    if (fill_ >= 0) args["fill_value"] = fill_;
    else args["fill_value"] = "none";
    return image_op_entry("Cutout", args);
  }

 private:
  int length_;
  int n_holes_ = 1;
  int fill_ = -1;  // -1: a random color per hole
};

// (pixel * scale - mean) / std per channel, to float32 HWC. `scale` may be written "1.0/255.0" as in PaddleClas.
class NormalizeImage : public ImageOp {
 public:
  explicit NormalizeImage(const OpArgs& a) {
    a.only({"scale", "mean", "std", "order", "channel_num", "output_fp16"});
    if (a.has("scale")) {
      const std::string text = a.get<std::string>("scale", "a number or 'a/b'");
      const auto slash = text.find('/');
      try {
        scale_ = slash == std::string::npos ? std::stod(text) : std::stod(text.substr(0, slash)) / std::stod(text.substr(slash + 1));
      } catch (const std::exception&) {
        a.fail("scale", "expected a number or 'a/b', got '" + text + "'");
      }
    }
    mean_ = a.get_or<std::vector<double>>("mean", mean_, "a list of 3 numbers");
    std_ = a.get_or<std::vector<double>>("std", std_, "a list of 3 numbers");
    if (mean_.size() != 3) a.fail("mean", "expected 3 values (R, G, B)");
    if (std_.size() != 3 || std::any_of(std_.begin(), std_.end(), [](double v) { return !(v > 0); }))
      a.fail("std", "expected 3 positive values (R, G, B)");
    const std::string order = a.get_or<std::string>("order", "", "'' or hwc");
    if (order != "" && order != "hwc") a.fail("order", "only HWC input ('' or hwc) is supported; ToCHWImage comes after");
    if (a.get_or<int>("channel_num", 3, "3") != 3) a.fail("channel_num", "only 3 channels are supported");
    if (a.get_or<bool>("output_fp16", false, "false")) a.fail("output_fp16", "float16 output is not supported");
  }
  void apply(ImageSample& s, SampleRng&) const override {
    require_8bit(s, "NormalizeImage");
    cv::Mat out(s.image.rows, s.image.cols, CV_32FC3);
    float* const no_planes[3] = {nullptr, nullptr, nullptr};
    normalize(s.image, out.ptr<float>(), no_planes);
    s.image = out;
  }
  // NormalizeImage then ToCHWImage in one pass over the pixels, straight into the tensor.
  void apply_to_chw(ImageSample& s) const {
    require_8bit(s, "NormalizeImage");
    s.chw = torch::empty({3, s.image.rows, s.image.cols}, torch::kFloat32);
    float* planes[3];
    for (int c = 0; c < 3; ++c) planes[c] = s.chw[c].data_ptr<float>();
    normalize(s.image, nullptr, planes);
    s.image = cv::Mat();
  }
  YAML::Node to_yaml() const override {
    YAML::Node args, mean(YAML::NodeType::Sequence), std(YAML::NodeType::Sequence);
    for (double v : mean_) mean.push_back(shortest_text(v));
    for (double v : std_) std.push_back(shortest_text(v));
    mean.SetStyle(YAML::EmitterStyle::Flow);
    std.SetStyle(YAML::EmitterStyle::Flow);
    args["scale"] = shortest_text(scale_);
    args["mean"] = mean;
    args["std"] = std;
    args["order"] = "";
    args["channel_num"] = 3;
    return image_op_entry("NormalizeImage", args);
  }

 private:
  // Writes the normalized pixels interleaved (HWC) to `hwc`, or per channel (CHW) to `planes` when hwc is null.
  void normalize(const cv::Mat& u8, float* hwc, float* const planes[3]) const {
    float mul[3], add[3];
    for (int c = 0; c < 3; ++c) {
      mul[c] = static_cast<float>(scale_ / std_[c]);
      add[c] = static_cast<float>(-mean_[c] / std_[c]);
    }
    const int w = u8.cols;
    for (int y = 0; y < u8.rows; ++y) {
      const uint8_t* src = u8.ptr<uint8_t>(y);
      if (hwc) {
        float* dst = hwc + static_cast<size_t>(y) * w * 3;
        for (int x = 0; x < 3 * w; x += 3)
          for (int c = 0; c < 3; ++c) dst[x + c] = src[x + c] * mul[c] + add[c];
      } else {
        const size_t row = static_cast<size_t>(y) * w;
        float *r = planes[0] + row, *g = planes[1] + row, *b = planes[2] + row;
        for (int x = 0; x < w; ++x) {
          r[x] = src[3 * x] * mul[0] + add[0];
          g[x] = src[3 * x + 1] * mul[1] + add[1];
          b[x] = src[3 * x + 2] * mul[2] + add[2];
        }
      }
    }
  }

  double scale_ = 1.0 / 255.0;
  std::vector<double> mean_{0.485, 0.456, 0.406};
  std::vector<double> std_{0.229, 0.224, 0.225};
};

// PaddleClas's RandAugment for ML-Decoder (datasets/rand_augment.h); the image only, targets untouched.
class RandAugmentV4Op : public ImageOp {
 public:
  explicit RandAugmentV4Op(const OpArgs& a) { a.only({}); }
  void apply(ImageSample& s, SampleRng& rng) const override {
    require_8bit(s, "RandAugmentV4");
    augment_.apply(s.image, rng);
  }
  YAML::Node to_yaml() const override { return image_op_entry("RandAugmentV4", YAML::Node(YAML::NodeType::Null)); }

 private:
  RandAugmentV4 augment_;
};

class ToCHWImage : public ImageOp {
 public:
  explicit ToCHWImage(const OpArgs& a) { a.only({}); }
  void apply(ImageSample& s, SampleRng&) const override { s.chw = to_chw_tensor(s.image); }
  YAML::Node to_yaml() const override { return image_op_entry("ToCHWImage", YAML::Node(YAML::NodeType::Null)); }
};

using OpFactory = std::function<std::unique_ptr<ImageOp>(const OpArgs&)>;

template <typename Op>
OpFactory factory() {
  return [](const OpArgs& a) { return std::make_unique<Op>(a); };
}

const std::vector<std::pair<std::string, OpFactory>>& op_table() {
  static const std::vector<std::pair<std::string, OpFactory>> table = {
      {"DecodeImage", factory<DecodeImage>()},       {"ResizeImage", factory<ResizeImage>()},
      {"CropImage", factory<CropImage>()},           {"RandCropImage", factory<RandCropImage>()},
      {"RandFlipImage", factory<RandFlipImage>()},   {"Cutout", factory<Cutout>()},
      {"RandAugmentV4", factory<RandAugmentV4Op>()},
      {"NormalizeImage", factory<NormalizeImage>()}, {"ToCHWImage", factory<ToCHWImage>()},
  };
  return table;
}

}  // namespace

YAML::Node image_op_entry(const std::string& name, const YAML::Node& args) {
  YAML::Node entry;
  entry[name] = args;
  return entry;
}

const std::vector<std::string>& image_op_names() {
  static const std::vector<std::string> names = table_names(op_table());
  return names;
}

std::unique_ptr<ImageOp> parse_image_op(const YAML::Node& entry, const std::string& source) {
  if (!entry.IsMap() || entry.size() != 1)
    throw RunError(where(source, entry) + ": each op must be a mapping {OpName: {arguments}}");
  const std::string name = entry.begin()->first.as<std::string>();
  for (const auto& [known, make] : op_table())
    if (known == name) return make(OpArgs(name, entry.begin()->second, where(source, entry)));
  std::string known;
  for (const auto& n : image_op_names()) known += (known.empty() ? "" : ", ") + n;
  throw RunError(where(source, entry) + ": unknown image op '" + name + "' (known: " + known + ")");
}

ImagePipeline ImagePipeline::parse(const YAML::Node& ops, const std::string& source) {
  if (!ops.IsDefined() || !ops.IsSequence()) throw RunError(where(source, ops) + ": expected a list of image ops");
  ImagePipeline p;
  for (const auto& entry : ops) p.ops_.push_back(parse_image_op(entry, source));
  return p;
}

YAML::Node ImagePipeline::to_yaml() const {
  YAML::Node list(YAML::NodeType::Sequence);
  for (const auto& op : ops_) list.push_back(op->to_yaml());
  return list;
}

void ImagePipeline::apply(ImageSample& sample, SampleRng& rng) const {
  for (size_t i = 0; i < ops_.size(); ++i) {
    const auto* normalize = dynamic_cast<const NormalizeImage*>(ops_[i].get());
    if (normalize && i + 1 < ops_.size() && dynamic_cast<const ToCHWImage*>(ops_[i + 1].get())) {
      normalize->apply_to_chw(sample);
      ++i;
      continue;
    }
    ops_[i]->apply(sample, rng);
  }
}

torch::Tensor ImagePipeline::image_tensor(cv::Mat rgb, SampleRng& rng) const {
  ImageSample s;
  s.image = std::move(rgb);
  apply(s, rng);
  return s.chw.defined() ? s.chw : to_chw_tensor(s.image);
}

torch::Tensor to_chw_tensor(const cv::Mat& image) {
  if (image.channels() != 3) throw RunError("ToCHWImage: expected a 3-channel image, got " + std::to_string(image.channels()));
  cv::Mat f;
  if (image.depth() == CV_32F) f = image;
  else image.convertTo(f, CV_32F);
  const int h = f.rows, w = f.cols;
  torch::Tensor out = torch::empty({3, h, w}, torch::kFloat32);
  std::vector<cv::Mat> planes;
  for (int c = 0; c < 3; ++c) planes.emplace_back(h, w, CV_32F, out[c].data_ptr<float>());
  cv::split(f, planes);
  return out;
}

}  // namespace paddlex
