#include "paddlex/core/cpu_allocator.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <torch/version.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>

namespace paddlex {
namespace {

constexpr size_t kAlignment = 64;                   // as c10's default CPU allocator
constexpr size_t kMinCachedBytes = 256 * 1024;      // smaller blocks stay with malloc, which reuses them well
// A miss while this much is cached means the sizes changed (another phase, other shapes): the cache is
// emptied so blocks of sizes no longer used do not pile up.
constexpr size_t kFlushAboveBytes = size_t(2) << 30;

// LibTorch 2.3 made allocate() non-const and added copy_data().
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
#define PADDLEX_ALLOCATOR_API_2_3 1
#endif

class CachingCpuAllocator final : public c10::Allocator {
 public:
#ifdef PADDLEX_ALLOCATOR_API_2_3
  c10::DataPtr allocate(size_t bytes) override { return allocate_block(bytes); }
  void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }
#else
  c10::DataPtr allocate(size_t bytes) const override { return allocate_block(bytes); }
#endif

  c10::DataPtr allocate_block(size_t bytes) const {
    if (bytes == 0) return {nullptr, nullptr, &release, c10::Device(c10::DeviceType::CPU)};
    void* ptr = nullptr;
    if (bytes >= kMinCachedBytes) ptr = take(bytes);
    if (!ptr) {
      if (posix_memalign(&ptr, kAlignment, bytes) != 0) throw std::bad_alloc();
      if (bytes >= kMinCachedBytes) {
        std::lock_guard<std::mutex> lock(mutex_);
        sizes_[ptr] = bytes;
      }
    }
    return {ptr, ptr, &release, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &release; }

  size_t cached() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_bytes_;
  }

 private:
  static void release(void* ptr);

  void* take(size_t bytes) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(bytes);
    if (it == free_.end()) {
      if (cached_bytes_ > kFlushAboveBytes) flush_locked();
      return nullptr;
    }
    void* ptr = it->second;
    free_.erase(it);
    cached_bytes_ -= bytes;
    return ptr;
  }

  void give_back(void* ptr) {
    std::unique_lock<std::mutex> lock(mutex_);
    auto it = sizes_.find(ptr);
    if (it == sizes_.end()) {  // a small block
      lock.unlock();
      std::free(ptr);
      return;
    }
    cached_bytes_ += it->second;
    free_.emplace(it->second, ptr);
  }

  void flush_locked() const {
    for (const auto& [size, ptr] : free_) {
      sizes_.erase(ptr);
      std::free(ptr);
    }
    free_.clear();
    cached_bytes_ = 0;
  }

  mutable std::mutex mutex_;
  mutable std::multimap<size_t, void*> free_;  // size -> cached block
  mutable std::map<void*, size_t> sizes_;      // every live or cached large block
  mutable size_t cached_bytes_ = 0;

  friend CachingCpuAllocator& instance();
};

CachingCpuAllocator& instance() {
  static CachingCpuAllocator* allocator = new CachingCpuAllocator();  // never destroyed: tensors may outlive main
  return *allocator;
}

void CachingCpuAllocator::release(void* ptr) {
  if (ptr) instance().give_back(ptr);
}

}  // namespace

void install_caching_cpu_allocator() {
  static std::once_flag once;
  std::call_once(once, [] { c10::SetCPUAllocator(&instance(), /*priority=*/1); });
}

size_t cached_cpu_bytes() { return instance().cached(); }

}  // namespace paddlex
