// UTF-8 <-> Unicode code points. Text labels are compared, edited and looked up per code point, as Python's str
// does in PaddleOCR (a Chinese character is one unit, not three bytes).
#pragma once
#include <string>

namespace paddlex {

// The code points of `text`; throws std::invalid_argument naming the byte offset of the first malformed sequence
// (a truncated or overlong sequence, a surrogate, a value above U+10FFFF).
std::u32string utf8_decode(const std::string& text);
std::string utf8_encode(const std::u32string& text);

}  // namespace paddlex
