#include <gtest/gtest.h>
#include <torch/torch.h>

#include "paddlex/core/cpu_allocator.h"

TEST(CachingCpuAllocator, ReusesFreedLargeBlocksAndKeepsValuesCorrect) {
  paddlex::install_caching_cpu_allocator();
  const int64_t n = 1 << 20;  // 4 MiB of floats: cached
  void* first = nullptr;
  {
    auto t = torch::empty({n});
    first = t.data_ptr();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % 64, 0u);
  }
  const size_t cached = paddlex::cached_cpu_bytes();
  EXPECT_GE(cached, static_cast<size_t>(n) * 4);
  auto again = torch::full({n}, 3.0f);
  EXPECT_EQ(again.data_ptr(), first);  // the same block, handed out again
  EXPECT_EQ(paddlex::cached_cpu_bytes(), cached - static_cast<size_t>(n) * 4);
  EXPECT_EQ(again.sum().item<float>(), 3.0f * n);
  auto other = torch::ones({n + 16});  // another size: a new block
  EXPECT_NE(other.data_ptr(), first);
  auto small = torch::arange(10);      // small tensors bypass the cache
  EXPECT_EQ(small.sum().item<int64_t>(), 45);
}
