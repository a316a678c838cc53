#include "paddlex/core/random.h"

namespace paddlex {

uint64_t SampleRng::next_u64() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double SampleRng::uniform() { return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0); }

double SampleRng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

uint64_t SampleRng::below(uint64_t n) { return n == 0 ? 0 : static_cast<uint64_t>(uniform() * n) % n; }

uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  SampleRng rng(a);
  uint64_t h = rng.next_u64();
  for (uint64_t v : {b, c, d}) {
    SampleRng r(h ^ (v * 0xD6E8FEB86659FD93ULL));
    h = r.next_u64();
  }
  return h;
}

}  // namespace paddlex
