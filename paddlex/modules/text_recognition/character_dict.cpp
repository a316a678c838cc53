#include "paddlex/modules/text_recognition/character_dict.h"

#include <fstream>
#include <stdexcept>

#include "paddlex/core/errors.h"
#include "paddlex/core/utf8.h"

namespace paddlex::ocr {

namespace {

// Why `text` is not exactly one character ("" when it is; `out` then holds it).
std::string not_one_character(const std::string& text, char32_t& out) {
  std::u32string chars;
  try {
    chars = utf8_decode(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  if (chars.empty()) return "empty line (one character per line)";
  if (chars.size() > 1)
    return "'" + text + "' is " + std::to_string(chars.size()) + " characters (one character per line)";
  out = chars[0];
  return "";
}

}  // namespace

CharacterDict CharacterDict::read(const std::string& path, bool use_space_char, Problems& problems) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RunError(path + ": cannot open the character dict");
  CharacterDict dict;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    char32_t c;
    if (const std::string problem = not_one_character(line, c); !problem.empty())
      problems.add(at_line(path, number, problem));
    else
      dict.characters_ += c;
  }
  if (use_space_char) dict.characters_ += U' ';
  dict.index();
  return dict;
}

CharacterDict::CharacterDict(const std::vector<std::string>& characters) {
  for (const auto& entry : characters) {
    char32_t c;
    if (const std::string problem = not_one_character(entry, c); !problem.empty())
      throw RunError("character dict entry '" + entry + "': " + problem);
    characters_ += c;
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
