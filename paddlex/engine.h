// Runs one mode (Global.mode) of a resolved config and writes its result file.
#pragma once
#include <string>
#include <vector>

namespace paddlex {

class Config;

// Runs the mode; throws ConfigError/RunError after recording the failure in the mode's result file.
// `args` are the command-line arguments (without argv[0]), for self-launched distributed runs.
void run_mode(const Config& cfg, const std::vector<std::string>& args);

// Applies Global.num_threads (Debian's LibTorch starts with one intra-op thread) and installs the caching CPU
// allocator.
void configure_threads(const Config& cfg);

}  // namespace paddlex
