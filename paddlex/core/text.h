#pragma once
// Small string helpers shared across the engine.

#include <cctype>
#include <cstdint>
#include <string>

namespace paddlex {

// ASCII lower case (file extensions, config keys, library error messages).
inline std::string ascii_lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "1 thread", "2 threads", "2 processes": a count with its noun in English number.
inline std::string count(int64_t n, const std::string& noun) {
  const bool sibilant = !noun.empty() && noun.back() == 's';
  return std::to_string(n) + " " + noun + (n == 1 ? "" : sibilant ? "es" : "s");
}

}  // namespace paddlex
