#include "test_util.h"

#include "paddlex/modules/image_multilabel_classification/models/ml_classifier.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "paddlex/io/tensor_file.h"

namespace fs = std::filesystem;

namespace paddlex::testing {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

RunResult run_shell(const std::string& command) {
  RunResult r;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

RunResult run_main(const std::vector<std::string>& args) {
  std::string cmd = shell_quote(PADDLEX_MAIN_BINARY);
  for (const auto& a : args) {
    cmd += ' ';
    cmd += shell_quote(a);
  }
  return run_shell(cmd + " 2>&1");
}

TempDir::TempDir(const std::string& tag) {
  std::string tmpl = (fs::temp_directory_path() / ("paddlex_" + tag + "_XXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& text) const {
  const std::string p = file(name);
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

::testing::AssertionResult StartsWith(const std::string& text, const std::string& prefix) {
  if (text.rfind(prefix, 0) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not start with '" << prefix << "'";
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

int spawn_main(const std::vector<std::string>& args, const std::string& log_path) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv{const_cast<char*>(PADDLEX_MAIN_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(PADDLEX_MAIN_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

int wait_exit_code(int pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string make_cls_dataset(const std::string& dir, int classes, int per_class_train, int per_class_val) {
  fs::create_directories(fs::path(dir) / "images");
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.f, 20.f);
  std::ofstream label(fs::path(dir) / "label.txt"), train(fs::path(dir) / "train.txt"),
      val(fs::path(dir) / "val.txt");
  for (int c = 0; c < classes; ++c) {
    label << c << " class_" << c << "\n";
    for (int i = 0; i < per_class_train + per_class_val; ++i) {
      cv::Mat img(20, 20, CV_8UC3);
      for (int y = 0; y < 20; ++y)
        for (int x = 0; x < 20; ++x)
          for (int ch = 0; ch < 3; ++ch) {
            // Class c: one bright channel and a stripe orientation, so the task is learnable.
            float base = (ch == c % 3 ? 200.f : 40.f) + ((c / 3) % 2 ? (x % 4 < 2 ? 40.f : 0.f) : (y % 4 < 2 ? 40.f : 0.f));
            img.at<cv::Vec3b>(y, x)[ch] = cv::saturate_cast<uint8_t>(base + noise(rng));
          }
      std::string name = "images/c" + std::to_string(c) + "_" + std::to_string(i) + ".png";
      cv::imwrite((fs::path(dir) / name).string(), img);
      (i < per_class_train ? train : val) << name << " " << c << "\n";
    }
  }
  return dir;
}

std::string make_mlcls_dataset(const std::string& dir, int train, int val) {
  fs::create_directories(fs::path(dir) / "images");
  std::mt19937 rng(11);
  std::normal_distribution<float> noise(0.f, 15.f);
  std::ofstream(fs::path(dir) / "label.txt") << "0 red\n1 green\n2 blue\n";
  std::ofstream train_list(fs::path(dir) / "train.txt"), val_list(fs::path(dir) / "val.txt");
  const cv::Point corners[] = {{1, 1}, {13, 1}, {7, 13}};
  for (int i = 0; i < train + val; ++i) {
    const int subset = 1 + i % 7;  // bits: which squares the image shows
    cv::Mat img(24, 24, CV_8UC3);
    for (int y = 0; y < 24; ++y)
      for (int x = 0; x < 24; ++x)
        for (int ch = 0; ch < 3; ++ch) img.at<cv::Vec3b>(y, x)[ch] = cv::saturate_cast<uint8_t>(60.f + noise(rng));
    std::string labels;
    for (int c = 0; c < 3; ++c) {
      if (!(subset & (1 << c))) continue;
      cv::Scalar color(0, 0, 0);
      color[2 - c] = 255;  // BGR on disk: class 0 red, 1 green, 2 blue
      cv::rectangle(img, cv::Rect(corners[c], cv::Size(10, 10)), color, cv::FILLED);
      labels += (labels.empty() ? "" : ",") + std::to_string(c);
    }
    const std::string name = "images/m" + std::to_string(i) + ".png";
    cv::imwrite((fs::path(dir) / name).string(), img);
    (i < train ? train_list : val_list) << name << "\t" << labels << "\n";
  }
  return dir;
}

std::shared_ptr<paddlex::cls::ClassifierImpl> make_any_classifier(const std::string& name, int64_t num_classes) {
  const auto& ml = paddlex::mlcls::ml_classifier_names();
  if (std::find(ml.begin(), ml.end(), name) != ml.end()) return paddlex::mlcls::create_ml_classifier(name, num_classes);
  return paddlex::cls::create_classifier(name, num_classes);
}

std::vector<std::string> all_classifier_names() {
  std::vector<std::string> names = paddlex::cls::classifier_names();
  for (const auto& n : paddlex::mlcls::ml_classifier_names()) names.push_back(n);
  return names;
}

void randomize_batchnorms(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (const auto& module : model.modules(/*include_self=*/false)) {
    if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      bn->running_mean.normal_(0.0, 0.2);
      bn->running_var.uniform_(0.5, 1.5);
      bn->weight.uniform_(0.5, 1.5);
      bn->bias.normal_(0.0, 0.2);
    }
  }
}

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_text(path)); }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string wait_for_text(const std::string& path, const std::string& part) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string text;
  while ((text = read_text(path)).find(part) == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return text;
}

std::vector<std::string> base_args(const std::string& dataset, const std::string& output, const std::string& mode) {
  return {"-c", std::string(PADDLEX_SOURCE_DIR) + "/paddlex/configs/image_classification/PP-LCNet_x0_25.yaml",
          "-o", "Global.mode=" + mode,
          "-o", "Global.dataset_dir=" + dataset,
          "-o", "Global.output=" + output,
          "-o", "Global.num_threads=1",
          "-o", "Train.input_size=32",
          "-o", "Train.resize_short=36",
          "-o", "Train.batch_size=8",
          "-o", "Train.epochs_iters=2",
          "-o", "Train.warmup_steps=0",
          "-o", "Train.learning_rate=0.05",
          "-o", "Train.num_workers=2"};
}

std::vector<std::string> ml_base_args(const std::string& dataset, const std::string& output, const std::string& mode) {
  return {"-c", std::string(PADDLEX_SOURCE_DIR) + "/paddlex/configs/image_multilabel_classification/PP-LCNet_x1_0_ML.yaml",
          "-o", "Global.mode=" + mode,
          "-o", "Global.dataset_dir=" + dataset,
          "-o", "Global.output=" + output,
          "-o", "Global.num_threads=1",
          "-o", "Train.input_size=32",
          "-o", "Train.cutout_length=8",
          "-o", "Train.batch_size=8",
          "-o", "Train.epochs_iters=2",
          "-o", "Train.warmup_steps=0",
          "-o", "Train.learning_rate=0.001",
          "-o", "Train.num_workers=2"};
}

nlohmann::json last_eval(const std::string& output) {
  std::ifstream in(output + "/metrics.jsonl");
  std::string line;
  nlohmann::json last;
  while (std::getline(in, line)) {
    auto r = nlohmann::json::parse(line);
    if (r["type"] == "eval") last = r["metrics"];
  }
  return last;
}

torch::Tensor tensor_named(const paddlex::TensorDict& dict, const std::string& name) {
  for (const auto& [key, value] : dict)
    if (key == name) return value.to(torch::kFloat);
  ADD_FAILURE() << "no tensor '" << name << "'";
  return {};
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& overrides) {
  for (const auto& o : overrides) {
    args.push_back("-o");
    args.push_back(o);
  }
  return args;
}

void expect_same_tensors(const std::string& a, const std::string& b) {
  auto ta = paddlex::load_tensor_dict(a), tb = paddlex::load_tensor_dict(b);
  ASSERT_EQ(ta.size(), tb.size()) << a << " vs " << b;
  for (size_t i = 0; i < ta.size(); ++i) {
    ASSERT_EQ(ta[i].first, tb[i].first);
    EXPECT_TRUE(torch::equal(ta[i].second, tb[i].second)) << ta[i].first << " differs between " << a << " and " << b;
  }
}

}  // namespace paddlex::testing
