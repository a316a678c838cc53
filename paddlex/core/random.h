// Deterministic per-sample randomness: data order and augmentation are pure functions of (seed, epoch, index),
// never of thread timing, so runs repeat bit for bit and resume exactly.
#pragma once
#include <cstdint>

namespace paddlex {

// SplitMix64-based generator: tiny, fast, identical on every platform and standard library.
class SampleRng {
 public:
  explicit SampleRng(uint64_t seed) : state_(seed) {}
  uint64_t next_u64();
  double uniform();                          // [0, 1)
  double uniform(double lo, double hi);      // [lo, hi)
  uint64_t below(uint64_t n);                // [0, n)

 private:
  uint64_t state_;
};

// Mixes several integers into one well-spread seed (seed, epoch, index, ...).
uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c = 0, uint64_t d = 0);

}  // namespace paddlex
