#pragma once
// Small string helpers shared across the engine.

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace paddlex {

// ASCII lower case (file extensions, config keys, library error messages).
inline std::string ascii_lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "threads", "processes": the English plural of a regular noun.
inline std::string plural(const std::string& noun) {
  const bool sibilant = !noun.empty() && noun.back() == 's';
  return noun + (sibilant ? "es" : "s");
}

// "1 thread", "2 threads", "2 processes": a count with its noun in English number.
inline std::string count(int64_t n, const std::string& noun) {
  return std::to_string(n) + " " + (n == 1 ? noun : plural(noun));
}

// The names of a table of (name, value) pairs, in table order.
template <typename Table>
std::vector<std::string> table_names(const Table& table) {
  std::vector<std::string> names;
  for (const auto& entry : table) names.push_back(entry.first);
  return names;
}

// The shortest decimal text that reads back as exactly `v` ("0.485", not "0.48499999999999999").
inline std::string shortest_text(double v) {
  char buf[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

}  // namespace paddlex
