// Helpers shared by the tests: temp dirs, file reading, substring assertions, running the real `main`
// binary and generating tiny datasets.
#pragma once
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "paddlex/io/tensor_file.h"
#include "paddlex/modules/image_classification/models/classifier.h"

#include <filesystem>
#include <string>
#include <vector>

namespace paddlex::testing {

// A checkpoint trained by real PaddleX (PP-LCNet_x0_25, 4 classes) with its dataset, and the model's config.
inline const std::string kPaddleXLcnet = std::string(PADDLEX_SOURCE_DIR) + "/tests/data/paddlex_lcnet";
inline const std::string kPaddleXLcnetConfig =
    std::string(PADDLEX_SOURCE_DIR) + "/paddlex/configs/image_classification/PP-LCNet_x0_25.yaml";

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// `s` as one single-quoted shell word.
std::string shell_quote(const std::string& s);
// Runs `command` in the shell; its exit code and its stdout (redirect stderr in the command to keep it).
RunResult run_shell(const std::string& command);
// Runs build/main with `args` (each one argv element), capturing its output.
RunResult run_main(const std::vector<std::string>& args);

// Starts build/main in the background with stdout and stderr to `log_path`; returns its pid.
int spawn_main(const std::vector<std::string>& args, const std::string& log_path);
// Waits for a spawned process; its exit code, or -1 if a signal ended it.
int wait_exit_code(int pid);

// A fresh empty directory under the system temp dir, removed when the object goes away.
class TempDir {
 public:
  explicit TempDir(const std::string& tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes `text` to file(name) and returns that path.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

// The metrics of the last evaluation in the metrics.jsonl of the run that wrote `output`.
nlohmann::json last_eval(const std::string& output);

// The tensor named `name` of a weight or fixture file's tensors, as float32 (a test failure when there is none).
torch::Tensor tensor_named(const paddlex::TensorDict& dict, const std::string& name);

// Passes when `text` contains `part`; the failure shows both.
::testing::AssertionResult Contains(const std::string& text, const std::string& part);
// Passes when `text` starts with `prefix`; the failure shows both.
::testing::AssertionResult StartsWith(const std::string& text, const std::string& prefix);
// Writes `text` to `path`, creating its directories.
void write_file(const std::filesystem::path& path, const std::string& text);

// A tiny learnable PaddleX classification dataset: `classes` classes of colored 20x20 images with noise,
// `per_class_train` / `per_class_val` images each.
std::string make_cls_dataset(const std::string& dir, int classes, int per_class_train, int per_class_val);

// A tiny learnable PaddleX multi-label dataset (MLClsDataset): 24x24 images showing any non-empty subset of a
// red, a green and a blue square (classes 0, 1, 2), lines "images/x.png<TAB>0,2"; `train` and `val` images.
std::string make_mlcls_dataset(const std::string& dir, int train, int val);

// Any classification or multi-label model by name (the two tasks' factories).
std::shared_ptr<paddlex::cls::ClassifierImpl> make_any_classifier(const std::string& name, int64_t num_classes);
// Every name make_any_classifier accepts.
std::vector<std::string> all_classifier_names();

// Fresh BatchNorms are the identity in eval mode; random statistics and affine parameters make folding change
// the weights.
void randomize_batchnorms(torch::nn::Module& model);

nlohmann::json read_json(const std::string& path);
std::string read_text(const std::string& path);
// Polls the file at `path` (e.g. a spawned run's log) until it contains `part` or 10 s pass; returns its text.
std::string wait_for_text(const std::string& path, const std::string& part);

// Common arguments: the PP-LCNet_x0_25 config, a small input size, the dataset and output dirs.
std::vector<std::string> base_args(const std::string& dataset, const std::string& output, const std::string& mode);
// The same for the PP-LCNet_x1_0_ML config: 32 px, Cutout 8 px, RandAugmentV4 on.
std::vector<std::string> ml_base_args(const std::string& dataset, const std::string& output, const std::string& mode);
// `args` with "-o <override>" appended for each override.
std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& overrides);
// Fails the test unless the two weight files hold the same names and bit-identical tensors.
void expect_same_tensors(const std::string& a, const std::string& b);

}  // namespace paddlex::testing
