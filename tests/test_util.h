// Helpers shared by the tests: temp dirs, file reading, substring assertions, running the real `main`
// binary and generating tiny datasets.
#pragma once
#include <gtest/gtest.h>
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

// Passes when `text` contains `part`; the failure shows both.
::testing::AssertionResult Contains(const std::string& text, const std::string& part);

// A tiny learnable PaddleX classification dataset: `classes` classes of colored 20x20 images with noise,
// `per_class_train` / `per_class_val` images each.
std::string make_cls_dataset(const std::string& dir, int classes, int per_class_train, int per_class_val);

nlohmann::json read_json(const std::string& path);
std::string read_text(const std::string& path);
// Polls the file at `path` (e.g. a spawned run's log) until it contains `part` or 10 s pass; returns its text.
std::string wait_for_text(const std::string& path, const std::string& part);

// Common arguments: the PP-LCNet_x0_25 config, a small input size, the dataset and output dirs.
std::vector<std::string> base_args(const std::string& dataset, const std::string& output, const std::string& mode);

}  // namespace paddlex::testing
