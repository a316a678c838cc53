// The character set of a text recognizer, as PaddleOCR's CTCLabelEncode/CTCLabelDecode build it: index 0 is the
// CTC blank, then one index per line of dict.txt in order, then the space character when use_space_char (PaddleX
// always sets it). Characters are Unicode code points.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "paddlex/datasets/image_lists.h"

namespace paddlex::ocr {

class CharacterDict {
 public:
  // Reads dict.txt: one character per line (a line holding a single space is the space character; "\r\n" line
  // ends are accepted). A line that is empty, holds more than one character or is not UTF-8 is reported as
  // "file:line: reason" and left out.
  static CharacterDict read(const std::string& path, bool use_space_char, Problems& problems);
  // The full list as characters() gives it (each one code point, UTF-8): model.yml and inference.yml keep it.
  explicit CharacterDict(const std::vector<std::string>& characters);

  // Classes of the CTC head: the blank plus every character.
  int64_t num_classes() const { return static_cast<int64_t>(characters_.size()) + 1; }
  // The characters as listed (without the blank, with the appended space), UTF-8.
  std::vector<std::string> characters() const;
  // Class index (>= 1) of `c`, or 0 when the dict does not hold it. A character listed twice maps to its last
  // line, as Python's dict built in order does.
  int64_t index_of(char32_t c) const;
  // Character of class `index` (1..num_classes-1).
  char32_t character(int64_t index) const { return characters_.at(static_cast<size_t>(index - 1)); }

 private:
  CharacterDict() = default;
  void index();
  std::u32string characters_;
  std::map<char32_t, int64_t> index_;
};

}  // namespace paddlex::ocr
