// Text recognition building blocks against hand-computed cases: UTF-8 code points, the character dict as
// PaddleOCR builds it, greedy CTC decoding (CTCLabelDecode) and RecMetric's acc / norm_edit_dis.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "paddlex/core/utf8.h"
#include "paddlex/modules/text_recognition/character_dict.h"
#include "paddlex/modules/text_recognition/ctc.h"
#include "paddlex/modules/text_recognition/rec_metric.h"
#include "tests/test_util.h"

namespace paddlex::ocr {
namespace {

using testing::Contains;

TEST(Utf8, DecodesCodePointsAndRoundTrips) {
  const std::string text = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80";  // a, e-acute, U+4E2D, U+1F600
  const std::u32string points = utf8_decode(text);
  EXPECT_EQ(points, (std::u32string{U'a', U'\u00E9', U'\u4E2D', U'\U0001F600'}));
  EXPECT_EQ(utf8_encode(points), text);
}

TEST(Utf8, MalformedSequencesNameTheirByte) {
  const auto message = [](const std::string& text) {
    try {
      utf8_decode(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(message("ab\xC3"), "invalid UTF-8 at byte 2");          // truncated
  EXPECT_EQ(message("\xC0\xAF"), "invalid UTF-8 at byte 0");        // overlong '/'
  EXPECT_EQ(message("x\xED\xA0\x80"), "invalid UTF-8 at byte 1");   // surrogate
  EXPECT_EQ(message("\xE4\x41\x41"), "invalid UTF-8 at byte 0");    // bad continuation
  EXPECT_EQ(message("\xF8\x88\x80\x80\x80"), "invalid UTF-8 at byte 0");
}

TEST(CharacterDict, ReadsOneCharacterPerLineBlankFirstSpaceLast) {
  testing::TempDir dir("char_dict");
  std::ofstream(dir.file("dict.txt"), std::ios::binary) << "a\nb\r\n \n\xE4\xB8\xAD\nab\n\nb\n\xFF\n";
  Problems problems;
  const auto dict = CharacterDict::read(dir.file("dict.txt"), /*use_space_char=*/true, problems);
  // Kept: a b ' ' U+4E2D b, then the appended space.
  EXPECT_EQ(dict.num_classes(), 7);
  EXPECT_EQ(dict.index_of(U'a'), 1);
  EXPECT_EQ(dict.index_of(U'b'), 5);   // listed twice: the last line wins, as in Python's dict
  EXPECT_EQ(dict.index_of(U' '), 6);   // the appended space comes after the dict's own
  EXPECT_EQ(dict.index_of(U'\u4E2D'), 4);
  EXPECT_EQ(dict.index_of(U'z'), 0);
  EXPECT_EQ(dict.character(4), U'\u4E2D');
  ASSERT_EQ(problems.count, 3u);
  EXPECT_TRUE(Contains(problems.messages[0], dir.file("dict.txt") + ":5: 'ab' is 2 characters"));
  EXPECT_TRUE(Contains(problems.messages[1], ":6: empty line"));
  EXPECT_TRUE(Contains(problems.messages[2], ":8: invalid UTF-8 at byte 0"));
  // The list round-trips through model.yml.
  const CharacterDict again(dict.characters());
  EXPECT_EQ(again.characters(), dict.characters());
  EXPECT_EQ(again.index_of(U'b'), 5);
}

TEST(CtcGreedyDecode, MergesRepeatsBeforeDroppingBlanks) {
  const CharacterDict dict(std::vector<std::string>{"a", "b"});  // classes: 0 blank, 1 a, 2 b
  // Steps' argmax: a a blank a b b -> "aab" from steps 0, 3 and 4.
  auto probs = torch::full({2, 6, 3}, 0.05f);
  const int64_t argmax[6] = {1, 1, 0, 1, 2, 2};
  const float top[6] = {0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f};
  for (int t = 0; t < 6; ++t) probs[0][t][argmax[t]] = top[t];
  probs[1].select(1, 0).fill_(0.9f);  // row 1: blank everywhere
  const auto decoded = ctc_greedy_decode(probs, dict);
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(decoded[0].text, U"aab");
  EXPECT_NEAR(decoded[0].score, (0.9 + 0.6 + 0.5) / 3, 1e-6);
  EXPECT_EQ(decoded[1].text, U"");
  EXPECT_EQ(decoded[1].score, 0.0);
}

TEST(RecMetric, NormalizedEditDistanceByHand) {
  EXPECT_DOUBLE_EQ(normalized_edit_distance(U"kitten", U"sitting"), 3.0 / 7);
  EXPECT_DOUBLE_EQ(normalized_edit_distance(U"", U""), 0.0);
  EXPECT_DOUBLE_EQ(normalized_edit_distance(U"abc", U""), 1.0);
  EXPECT_DOUBLE_EQ(normalized_edit_distance(U"\u4E2D\u56FD", U"\u4E2D"), 0.5);  // per character, not per byte
  EXPECT_DOUBLE_EQ(normalized_edit_distance(U"ab", U"ba"), 1.0);                // no transpositions
}

TEST(RecMetric, SpacesIgnoredAndEpsInTheDenominators) {
  RecMetric m;
  m.add(U"a b", U"ab");  // equal once spaces are removed
  m.add(U"abc", U"abd");
  m.add(U" ", U"");      // both empty without spaces: correct, distance 0
  m.add(U"x", U"yz");    // distance 2 of 2
  EXPECT_EQ(m.count(), 4);
  EXPECT_DOUBLE_EQ(m.acc(), 2.0 / (4 + 1e-5));
  EXPECT_DOUBLE_EQ(m.norm_edit_dis(), 1.0 - (1.0 / 3 + 1.0) / (4 + 1e-5));
  EXPECT_DOUBLE_EQ(RecMetric().acc(), 0.0);
  EXPECT_DOUBLE_EQ(RecMetric().norm_edit_dis(), 1.0);
}

}  // namespace
}  // namespace paddlex::ocr
