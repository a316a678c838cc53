// Global.device parsing (PaddleX syntax) and the check against what this build can run.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "test_util.h"
#include "paddlex/core/device.h"
#include "paddlex/core/errors.h"

using namespace paddlex::testing;

namespace {

using paddlex::ConfigError;
using paddlex::DeviceSpec;
using paddlex::parse_device;

// The ConfigError message parse_device gives for `text`, or a failure when it gives none.
std::string parse_error(const std::string& text) {
  try {
    parse_device(text);
  } catch (const ConfigError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "'" << text << "': expected ConfigError, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "'" << text << "': expected ConfigError, it parsed";
  return "";
}

TEST(Device, ParsesCpu) {
  DeviceSpec d = parse_device("cpu");
  EXPECT_EQ(d.type, "cpu");
  EXPECT_TRUE(d.ids.empty());
  EXPECT_EQ(d.torch_device(), torch::Device(torch::kCPU));
}

TEST(Device, ParsesGpuWithoutIds) {
  DeviceSpec d = parse_device("gpu");
  EXPECT_EQ(d.type, "gpu");
  EXPECT_TRUE(d.ids.empty());
  EXPECT_EQ(d.torch_device(), torch::Device(torch::kCUDA, 0));
}

TEST(Device, ParsesGpuIds) {
  DeviceSpec one = parse_device("gpu:2");
  EXPECT_EQ(one.type, "gpu");
  EXPECT_EQ(one.ids, (std::vector<int>{2}));
  EXPECT_EQ(one.torch_device(), torch::Device(torch::kCUDA, 2));

  DeviceSpec four = parse_device("gpu:0,1,2,3");
  EXPECT_EQ(four.type, "gpu");
  EXPECT_EQ(four.ids, (std::vector<int>{0, 1, 2, 3}));

  DeviceSpec unordered = parse_device("gpu:3,1");
  EXPECT_EQ(unordered.ids, (std::vector<int>{3, 1}));
  EXPECT_EQ(unordered.torch_device(), torch::Device(torch::kCUDA, 3));
}

TEST(Device, MalformedIdsAreErrors) {
  for (const char* text : {"gpu:", "gpu:a", "gpu:0:1", "gpu:0,0", "gpu:,1", "gpu:0,,1", "gpu:-1", "gpu: 0"}) {
    std::string msg = parse_error(text);
    EXPECT_TRUE(Contains(msg, text));
    EXPECT_TRUE(Contains(msg, "Global.device"));
  }
  EXPECT_TRUE(Contains(parse_error("gpu:0,0"), "twice"));
}

TEST(Device, TrailingCommaIsAnError) {
  // Regression: std::getline yields no empty token after a trailing ',', so "gpu:0," used to parse as gpu:0.
  std::string msg = parse_error("gpu:0,");
  EXPECT_TRUE(Contains(msg, "gpu:0,"));
}

TEST(Device, HugeIdIsAConfigError) {
  // Regression: std::stoi on an all-digit id used to escape as std::out_of_range ("stoi", exit 1 not 2).
  std::string msg = parse_error("gpu:99999999999");
  EXPECT_TRUE(Contains(msg, "Global.device"));
}

TEST(Device, UnknownTypesMentionSupportedTypes) {
  for (const char* text : {"tpu", "xpu", "npu:0", "cuda", "GPU", ""}) {
    std::string msg = parse_error(text);
    EXPECT_TRUE(Contains(msg, "cpu"));
    EXPECT_TRUE(Contains(msg, "gpu"));
  }
  // PaddlePaddle's own device types get a specific explanation.
  EXPECT_TRUE(Contains(parse_error("xpu"), "not support"));
}

TEST(Device, CpuIsAvailable) {
  EXPECT_NO_THROW(paddlex::check_device_available(parse_device("cpu")));
}

TEST(Device, GpuOnCpuBuildIsARunError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "this build has CUDA and a visible GPU";
  for (const char* text : {"gpu", "gpu:0"}) {
    try {
      paddlex::check_device_available(parse_device(text));
      ADD_FAILURE() << text << ": expected RunError";
    } catch (const paddlex::RunError& e) {
      const std::string msg = e.what();
      EXPECT_TRUE(Contains(msg, "CUDA"));
      EXPECT_TRUE(Contains(msg, "Global.device=cpu"));
    }
  }
}

}  // namespace
