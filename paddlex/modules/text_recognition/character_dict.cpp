#include "paddlex/modules/text_recognition/character_dict.h"

#include <fstream>
#include <stdexcept>

#include "paddlex/core/errors.h"
#include "paddlex/core/utf8.h"

namespace paddlex::ocr {

CharacterDict CharacterDict::read(const std::string& path, bool use_space_char, Problems& problems) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RunError(path + ": cannot open the character dict");
  CharacterDict dict;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::u32string chars;
    try {
      chars = utf8_decode(line);
    } catch (const std::invalid_argument& e) {
      problems.add(at_line(path, number, e.what()));
      continue;
    }
    if (chars.size() != 1) {
      problems.add(at_line(path, number, chars.empty() ? "empty line (one character per line)"
                                                       : "'" + line + "' is " + std::to_string(chars.size()) +
                                                             " characters (one character per line)"));
      continue;
    }
    dict.characters_ += chars;
  }
  if (use_space_char) dict.characters_ += U' ';
  dict.index();
  return dict;
}

CharacterDict::CharacterDict(const std::vector<std::string>& characters) {
  for (const auto& c : characters) {
    std::u32string chars;
    try {
      chars = utf8_decode(c);
    } catch (const std::invalid_argument& e) {
      throw RunError("character dict entry: " + std::string(e.what()));
    }
    if (chars.size() != 1) throw RunError("character dict entry '" + c + "' is not one character");
    characters_ += chars;
  }
  index();
}

void CharacterDict::index() {
  for (size_t i = 0; i < characters_.size(); ++i) index_[characters_[i]] = static_cast<int64_t>(i) + 1;
}

std::vector<std::string> CharacterDict::characters() const {
  std::vector<std::string> out;
  for (char32_t c : characters_) out.push_back(utf8_encode(std::u32string(1, c)));
  return out;
}

int64_t CharacterDict::index_of(char32_t c) const {
  const auto it = index_.find(c);
  return it == index_.end() ? 0 : it->second;
}

}  // namespace paddlex::ocr
