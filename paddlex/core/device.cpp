#include "paddlex/core/device.h"

#include <sstream>

#include "paddlex/core/errors.h"

namespace paddlex {

torch::Device DeviceSpec::torch_device(int local_rank) const {
  if (type != "gpu") return torch::Device(torch::kCPU);
  if (ids.empty()) return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank));
  if (local_rank >= static_cast<int>(ids.size()))
    throw RunError("Global.device lists " + std::to_string(ids.size()) + " GPUs but this is local rank " +
                   std::to_string(local_rank));
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(ids[static_cast<size_t>(local_rank)]));
}

DeviceSpec parse_device(const std::string& text) {
  auto fail = [&](const std::string& why) -> DeviceSpec {
    throw ConfigError("Global.device: '" + text + "' " + why +
                      " (expected cpu, gpu or gpu:0,1,... with device ids)");
  };
  DeviceSpec spec;
  auto colon = text.find(':');
  spec.type = text.substr(0, colon);
  if (spec.type != "cpu" && spec.type != "gpu") {
    if (spec.type == "xpu" || spec.type == "npu" || spec.type == "mlu" || spec.type == "dcu" || spec.type == "gcu")
      fail("is a PaddlePaddle device type this engine does not support;");
    fail("is not a device");
  }
  if (colon == std::string::npos) return spec;
  std::string ids = text.substr(colon + 1);
  if (ids.find(':') != std::string::npos) fail("has more than one ':'");
  if (!ids.empty() && ids.back() == ',') fail("ends with ','");
  std::stringstream ss(ids);
  std::string id;
  while (std::getline(ss, id, ',')) {
    if (id.empty() || id.size() > 4 || id.find_first_not_of("0123456789") != std::string::npos)
      fail("has a bad device id '" + id + "'");
    int value = std::stoi(id);
    for (int seen : spec.ids)
      if (seen == value) fail("lists device " + id + " twice");
    spec.ids.push_back(value);
  }
  if (spec.ids.empty()) fail("lists no device ids after ':'");
  return spec;
}

void check_device_available(const DeviceSpec& device) {
  if (device.type == "cpu") return;
  if (!torch::cuda::is_available())
    throw RunError("Global.device asks for a GPU, but this build of LibTorch has no CUDA support or no GPU is "
                   "visible; use Global.device=cpu, or build against a CUDA LibTorch (README: GPU build)");
  int count = static_cast<int>(torch::cuda::device_count());
  for (int id : device.ids)
    if (id >= count)
      throw RunError("Global.device: gpu:" + std::to_string(id) + " does not exist (" + std::to_string(count) +
                     " visible)");
}

}  // namespace paddlex
