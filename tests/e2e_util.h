// Helpers for end-to-end tests: run the real `main` binary and generate tiny datasets.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace paddlex::testing {

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs build/main with `args` (each one argv element), capturing its output.
RunResult run_main(const std::vector<std::string>& args);

// A fresh empty directory under the system temp dir, removed at process exit.
std::string make_temp_dir(const std::string& tag);

// A tiny learnable PaddleX classification dataset: `classes` classes of colored 20x20 images with noise,
// `per_class_train` / `per_class_val` images each.
std::string make_cls_dataset(const std::string& dir, int classes, int per_class_train, int per_class_val);

nlohmann::json read_json(const std::string& path);
std::string read_text(const std::string& path);

// Common arguments: the PP-LCNet_x0_25 config, a small input size, the dataset and output dirs.
std::vector<std::string> base_args(const std::string& dataset, const std::string& output, const std::string& mode);

}  // namespace paddlex::testing
