// Global.device parsing and checks against what this build can run.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace paddlex {

struct DeviceSpec {
  std::string type;         // "cpu" or "gpu"
  std::vector<int> ids;     // empty: the default device of that type
  // The device of process `local_rank` on this machine: the local_rank-th listed id (or GPU local_rank when
  // none is listed); CPU for cpu.
  torch::Device torch_device(int local_rank = 0) const;
};

// Parses "cpu", "gpu", "gpu:0,1,2,3" (PaddleX syntax). Throws ConfigError on malformed text.
DeviceSpec parse_device(const std::string& text);

// Throws RunError when the build or machine cannot provide the device (e.g. gpu on a CPU-only LibTorch).
void check_device_available(const DeviceSpec& device);

}  // namespace paddlex
