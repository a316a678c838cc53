// Runs one mode (Global.mode) of a resolved config and writes its result file.
#pragma once
#include <string>
#include <vector>

namespace paddlex {

class Config;

// Runs the mode; throws ConfigError/RunError after recording the failure in the mode's result file.
void run_mode(const Config& cfg);

// Applies Global.num_threads (Debian's LibTorch starts with one intra-op thread) and installs the caching CPU
// allocator.
void configure_threads(const Config& cfg);

}  // namespace paddlex
