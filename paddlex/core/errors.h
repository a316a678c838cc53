// Error classes the engine throws; main.cpp maps them to exit codes (DESIGN.md "Errors and exit codes").
#pragma once
#include <stdexcept>
#include <string>

namespace paddlex {

// Bad config file, bad -o override or bad command line: exit code 2.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(const std::string& msg) : std::runtime_error(msg) {}
};

// Bad dataset, missing file, failed training or any other run-time failure: exit code 1.
class RunError : public std::runtime_error {
 public:
  explicit RunError(const std::string& msg) : std::runtime_error(msg) {}
};

// "file:line: reason" — the prefix every dataset problem carries so the user can jump to it.
inline std::string at_line(const std::string& file, int line, const std::string& reason) {
  return file + ":" + std::to_string(line) + ": " + reason;
}

}  // namespace paddlex
