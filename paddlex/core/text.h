#pragma once
// Small string helpers shared across the engine.

#include <cctype>
#include <string>

namespace paddlex {

// ASCII lower case (file extensions, config keys, library error messages).
inline std::string ascii_lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace paddlex
