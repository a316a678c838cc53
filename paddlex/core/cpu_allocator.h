// A caching CPU allocator for LibTorch. Training allocates the same large activation and gradient buffers
// every step; with malloc each one is a fresh mmap whose pages fault in again (a third of a MobileNetV3 step
// went to the kernel). Freed large blocks are kept by exact size and handed out again.
#pragma once
#include <cstddef>

namespace paddlex {

// Installs the allocator as LibTorch's CPU allocator (once; later calls do nothing).
void install_caching_cpu_allocator();

// Bytes held in the cache (freed blocks waiting for reuse); for tests.
size_t cached_cpu_bytes();

}  // namespace paddlex
