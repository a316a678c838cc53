// classify: runs an exported classification model (the `inference` directory that `main -o Global.mode=export`
// writes) with nothing but OpenCV and yaml-cpp, as a product embedding the model would.
//
//   classify <export_dir> <image> [<image> ...]
//
// Prints one JSON line per image, as the engine's predict writes them. The preprocessing repeats the engine's
// step for step (the same OpenCV calls, the same float arithmetic), so the scores are the engine's.
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// inference.yml; every failure names the file and the key.
struct Yml {
  std::string file;
  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    throw Error(file + ": " + key + ": " + why);
  }
  template <typename T>
  T get(const YAML::Node& node, const std::string& where, const std::string& key) const {
    if (!node || !node.IsMap() || !node[key]) fail(where + "." + key, "missing");
    try {
      return node[key].as<T>();
    } catch (const YAML::Exception&) {
      fail(where + "." + key, "wrong type");
    }
  }
  // `size: N` (square) or `size: [w, h]`.
  cv::Size size(const YAML::Node& args, const std::string& where) const {
    if (args["size"] && args["size"].IsSequence()) {
      const auto wh = get<std::vector<int>>(args, where, "size");
      if (wh.size() != 2) fail(where + ".size", "expected N or [width, height]");
      return {wh[0], wh[1]};
    }
    const int n = get<int>(args, where, "size");
    return {n, n};
  }
};

// The exported model: resize/crop steps on the 8-bit RGB image, normalization, the network and its head.
struct Model {
  std::vector<std::function<cv::Mat(const cv::Mat&)>> steps;
  float mul[3], add[3];  // NormalizeImage as pixel * mul + add, per R, G, B
  bool multilabel = false;
  int topk = 5;
  double threshold = 0.5;
  std::vector<std::string> labels;
  cv::dnn::Net net;
  std::string input, output;
};

void parse_ops(const Yml& yml, const YAML::Node& ops, Model& m) {
  static const std::map<std::string, int> modes = {
      {"nearest", cv::INTER_NEAREST}, {"bilinear", cv::INTER_LINEAR}, {"linear", cv::INTER_LINEAR},
      {"bicubic", cv::INTER_CUBIC},   {"cubic", cv::INTER_CUBIC},     {"area", cv::INTER_AREA},
      {"lanczos", cv::INTER_LANCZOS4}};
  bool normalized = false;
  for (size_t i = 0; i < ops.size(); ++i) {
    const std::string at = "PreProcess.transform_ops[" + std::to_string(i) + "]";
    if (!ops[i].IsMap() || ops[i].size() != 1) yml.fail(at, "expected {OpName: {arguments}}");
    const std::string name = ops[i].begin()->first.as<std::string>(), where = at + "." + name;
    const YAML::Node args = ops[i].begin()->second;
    if (name == "DecodeImage" || name == "ToCHWImage") continue;  // always decoded to RGB; always CHW below
    if (normalized) yml.fail(where, "only ToCHWImage may follow NormalizeImage");
    if (name == "ResizeImage") {
      int interp = cv::INTER_LINEAR;
      if (args["interpolation"]) {
        const auto mode = modes.find(yml.get<std::string>(args, where, "interpolation"));
        if (mode == modes.end())
          yml.fail(where + ".interpolation", "not one of nearest, bilinear, linear, bicubic, cubic, area, lanczos");
        interp = mode->second;
      }
      const int short_side = args["resize_short"] ? yml.get<int>(args, where, "resize_short") : 0;
      const cv::Size fixed = short_side ? cv::Size() : yml.size(args, where);
      m.steps.push_back([=](const cv::Mat& img) {
        cv::Size to = fixed;
        if (short_side) {  // short side to N, aspect ratio kept, rounded as the engine rounds
          const double scale = static_cast<double>(short_side) / std::min(img.cols, img.rows);
          to = {static_cast<int>(std::lround(img.cols * scale)), static_cast<int>(std::lround(img.rows * scale))};
        }
        cv::Mat out;
        cv::resize(img, out, to, 0, 0, interp);
        return out;
      });
    } else if (name == "CropImage") {  // centre crop
      const cv::Size s = yml.size(args, where);
      m.steps.push_back([s](const cv::Mat& img) {
        if (img.cols < s.width || img.rows < s.height)
          throw Error("CropImage: the image is " + std::to_string(img.cols) + "x" + std::to_string(img.rows) +
                      " here, smaller than the crop");
        return img(cv::Rect((img.cols - s.width) / 2, (img.rows - s.height) / 2, s.width, s.height)).clone();
      });
    } else if (name == "NormalizeImage") {
      double scale = 1.0 / 255.0;
      if (args["scale"]) {  // a number, or "1.0/255.0" as PaddleClas configs write it
        const std::string text = yml.get<std::string>(args, where, "scale");
        const size_t slash = text.find('/');
        try {
          scale = slash == std::string::npos ? std::stod(text)
                                             : std::stod(text.substr(0, slash)) / std::stod(text.substr(slash + 1));
        } catch (const std::exception&) {
          yml.fail(where + ".scale", "expected a number or 'a/b', got '" + text + "'");
        }
      }
      std::vector<double> mean{0.485, 0.456, 0.406}, stdev{0.229, 0.224, 0.225};
      if (args["mean"]) mean = yml.get<std::vector<double>>(args, where, "mean");
      if (args["std"]) stdev = yml.get<std::vector<double>>(args, where, "std");
      if (mean.size() != 3 || stdev.size() != 3) yml.fail(where, "mean and std need 3 values (R, G, B)");
      for (int c = 0; c < 3; ++c) {  // computed in double, applied in float: the engine's exact arithmetic
        m.mul[c] = static_cast<float>(scale / stdev[c]);
        m.add[c] = static_cast<float>(-mean[c] / stdev[c]);
      }
      normalized = true;
    } else {
      yml.fail(where, "unknown transform op '" + name + "' (known: DecodeImage, ResizeImage, CropImage, "
                      "NormalizeImage, ToCHWImage)");
    }
  }
  if (!normalized) yml.fail("PreProcess.transform_ops", "no NormalizeImage");
}

Model load(const std::string& dir) {
  if (!fs::is_directory(dir)) throw Error("'" + dir + "' is not a directory (expected an exported model directory)");
  const Yml yml{(fs::path(dir) / "inference.yml").string()};
  if (!fs::is_regular_file(yml.file)) throw Error(yml.file + " not found: is '" + dir + "' an export directory?");
  YAML::Node root;
  try {
    root = YAML::LoadFile(yml.file);
  } catch (const YAML::Exception& e) {
    throw Error(yml.file + ": " + e.what());
  }
  Model m;
  const YAML::Node pre = root["PreProcess"], ops = pre ? pre["transform_ops"] : YAML::Node();
  if (!ops || !ops.IsSequence()) yml.fail("PreProcess.transform_ops", "missing (the list of preprocessing ops)");
  parse_ops(yml, ops, m);

  const YAML::Node post = root["PostProcess"];
  if (!post || !post.IsMap()) yml.fail("PostProcess", "missing (expected Topk or MultiLabelThreshOutput)");
  m.multilabel = !post["Topk"] && post["MultiLabelThreshOutput"];
  const std::string head = m.multilabel ? "MultiLabelThreshOutput" : "Topk", where = "PostProcess." + head;
  if (!post[head]) yml.fail("PostProcess", "has neither Topk nor MultiLabelThreshOutput");
  if (m.multilabel) m.threshold = yml.get<double>(post[head], where, "threshold");
  else m.topk = yml.get<int>(post[head], where, "topk");
  if (post[head]["label_list"]) m.labels = yml.get<std::vector<std::string>>(post[head], where, "label_list");

  const YAML::Node deploy = root["Deploy"];
  const std::string model_file = (fs::path(dir) / yml.get<std::string>(deploy, "Deploy", "model_file")).string();
  if (deploy["inputs"]) m.input = yml.get<std::vector<std::string>>(deploy, "Deploy", "inputs").at(0);
  if (deploy["outputs"]) m.output = yml.get<std::vector<std::string>>(deploy, "Deploy", "outputs").at(0);
  if (!fs::is_regular_file(model_file)) yml.fail("Deploy.model_file", "'" + model_file + "' not found");
  try {
    m.net = cv::dnn::readNetFromONNX(model_file);
  } catch (const cv::Exception& e) {
    throw Error(model_file + ": OpenCV dnn cannot read it: " + e.what());
  }
  m.net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  m.net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  return m;
}

// The image as the engine reads it (any depth and channel count OpenCV decodes, to 8-bit RGB), preprocessed to
// float CHW planes; normalization writes the planes directly, as the engine's NormalizeImage + ToCHWImage do.
cv::Mat preprocess(const Model& m, const std::string& path) {
  if (!fs::is_regular_file(path)) throw Error("image not found: '" + path + "'");
  cv::Mat img = cv::imread(path, cv::IMREAD_UNCHANGED);
  if (!img.empty() && img.depth() == CV_16U) img.convertTo(img, CV_8U, 1.0 / 257.0);
  const int channels = img.empty() || img.depth() != CV_8U ? 0 : img.channels();
  if (channels != 1 && channels != 3 && channels != 4) throw Error("cannot decode image '" + path + "'");
  cv::cvtColor(img, img, channels == 1 ? cv::COLOR_GRAY2RGB : channels == 3 ? cv::COLOR_BGR2RGB : cv::COLOR_BGRA2RGB);
  try {
    for (const auto& step : m.steps) img = step(img);
  } catch (const Error& e) {
    throw Error("'" + path + "': " + e.what());
  }
  const int sizes[] = {3, img.rows, img.cols};
  cv::Mat chw(3, sizes, CV_32F);
  for (int y = 0; y < img.rows; ++y) {
    const uint8_t* src = img.ptr<uint8_t>(y);
    for (int c = 0; c < 3; ++c) {
      float* dst = chw.ptr<float>(c, y);
      for (int x = 0; x < img.cols; ++x) dst[x] = src[3 * x + c] * m.mul[c] + m.add[c];
    }
  }
  return chw;
}

// Topk: ranked by logit, reported as softmax probabilities. MultiLabelThreshOutput: the sigmoids at or above the
// threshold, best first (ties: the higher class id first, as the engine sorts).
std::vector<std::pair<int, float>> postprocess(const Model& m, const float* logits, int classes) {
  std::vector<std::pair<int, float>> ranked;
  if (m.multilabel) {
    for (int c = 0; c < classes; ++c) {
      const float p = 1.f / (1.f + std::exp(-logits[c]));
      if (p >= m.threshold) ranked.emplace_back(c, p);
    }
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first > b.first;
    });
    return ranked;
  }
  const float top = *std::max_element(logits, logits + classes);
  float sum = 0.f;
  for (int c = 0; c < classes; ++c) sum += std::exp(logits[c] - top);
  std::vector<int> order(classes);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logits[a] > logits[b]; });
  for (int j = 0; j < std::min(m.topk, classes); ++j)
    ranked.emplace_back(order[j], std::exp(logits[order[j]] - top) / sum);
  return ranked;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    char hex[8];
    if (ch == '"' || ch == '\\') out += {'\\', ch};
    else if (static_cast<unsigned char>(ch) >= 0x20) out += ch;
    else out += (std::snprintf(hex, sizeof hex, "\\u%04x", ch), hex);  // control characters
  }
  return out + "\"";
}

// One result line in the engine's format; scores rounded to 5 decimals, as the engine (and PaddleX) round them.
void print(const Model& m, const std::string& path, const std::vector<std::pair<int, float>>& ranked) {
  std::string ids, scores, names;
  for (const auto& [id, score] : ranked) {
    const std::string sep = ids.empty() ? "" : ", ";
    char text[32];
    std::snprintf(text, sizeof text, "%.5f", std::round(static_cast<double>(score) * 1e5) / 1e5);
    std::string s = text;
    s.erase(s.find_last_not_of('0') + 1);  // "1.00000" -> "1.0", as the engine's JSON has it
    if (s.back() == '.') s += '0';
    ids += sep + std::to_string(id), scores += sep + s;
    names += sep + quoted(id < static_cast<int>(m.labels.size()) ? m.labels[id] : std::to_string(id));
  }
  std::cout << "{\"input_path\": " << quoted(path) << ", \"class_ids\": [" << ids << "], \"scores\": [" << scores
            << "], \"label_names\": [" << names << "]}\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " <export_dir> <image> [<image> ...]\n";
    return 1;
  }
  try {
    Model m = load(argv[1]);
    const std::vector<std::string> paths(argv + 2, argv + argc);
    std::vector<cv::Mat> images;
    for (const auto& p : paths) images.push_back(preprocess(m, p));
    // One batch when every image comes out one size (a crop or a fixed resize follows); else one at a time.
    const bool one_size = std::all_of(images.begin(), images.end(), [&](const cv::Mat& i) {
      return i.size[1] == images[0].size[1] && i.size[2] == images[0].size[2];
    });
    for (size_t begin = 0, end; begin < images.size(); begin = end) {
      end = one_size ? images.size() : begin + 1;
      const int sizes[] = {static_cast<int>(end - begin), 3, images[begin].size[1], images[begin].size[2]};
      cv::Mat blob(4, sizes, CV_32F);
      for (size_t i = begin; i < end; ++i)
        images[i].copyTo(cv::Mat(3, sizes + 1, CV_32F, blob.ptr<float>(static_cast<int>(i - begin))));
      m.net.setInput(blob, m.input);
      const cv::Mat logits = m.net.forward(m.output);  // [n, classes]
      for (size_t i = begin; i < end; ++i)
        print(m, paths[i], postprocess(m, logits.ptr<float>(static_cast<int>(i - begin)), logits.size[1]));
    }
  } catch (const std::exception& e) {  // Error, and cv::Exception from a model OpenCV dnn cannot run
    std::cerr << "classify: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
