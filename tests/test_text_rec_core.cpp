// Text recognition building blocks against hand-computed cases: UTF-8 code points, the character dict as
// PaddleOCR builds it, greedy CTC decoding (CTCLabelDecode) and RecMetric's acc / norm_edit_dis.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "paddlex/core/utf8.h"
#include "paddlex/datasets/image_lists.h"
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

TEST(TextRecList, ReadsTabSeparatedLinesAndNamesBadOnes) {
  testing::TempDir dir("text_rec_list");
  std::filesystem::create_directories(dir.file("images"));
  cv::imwrite(dir.file("images/a.png"), cv::Mat(48, 120, CV_8UC3, cv::Scalar(255, 255, 255)));
  testing::write_file(dir.file("images/broken.png"), "not a png");
  testing::write_file(dir.file("train.txt"),
                      "images/a.png\tHello world \n"       // 1: kept, trailing space included
                      "images/a.png\t\xE4\xB8\xAD\xE6\x96\x87\r\n"  // 2: kept (CRLF)
                      "\n"                                 // 3: blank, skipped
                      "images/a.png Hello\n"              // 4: no tab
                      "images/a.png\tx\ty\n"               // 5: two tabs
                      "images/a.png\t\n"                   // 6: empty text
                      "images/missing.png\tabc\n"          // 7
                      "../a.png\tabc\n"                    // 8
                      "images/a.png\t\xC3\n"               // 9: bad UTF-8
                      "images/broken.png\tabc\n");         // 10: decoded only on request
  Problems problems;
  auto samples = read_text_rec_list(dir.path(), "train.txt", /*decode_images=*/false, problems);
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[0].text, U"Hello world ");
  EXPECT_EQ(samples[1].text, U"\u4E2D\u6587");
  EXPECT_EQ(samples[1].line, 2);
  EXPECT_EQ(samples[0].abs_path, dir.file("images/a.png"));
  ASSERT_EQ(problems.count, 6u) << problems.summary();
  const std::string list = dir.file("train.txt");
  EXPECT_TRUE(Contains(problems.messages[0], list + ":4: expected '<image path><TAB><text>' with exactly one tab, got none"));
  EXPECT_TRUE(Contains(problems.messages[1], list + ":5: expected '<image path><TAB><text>' with exactly one tab, got more"));
  EXPECT_TRUE(Contains(problems.messages[2], list + ":6: empty text"));
  EXPECT_TRUE(Contains(problems.messages[3], list + ":7: image file 'images/missing.png' does not exist"));
  EXPECT_TRUE(Contains(problems.messages[4], list + ":8: image path '../a.png' leaves the dataset directory"));
  EXPECT_TRUE(Contains(problems.messages[5], list + ":9: text: invalid UTF-8 at byte 0"));
  Problems decoding;
  samples = read_text_rec_list(dir.path(), "train.txt", /*decode_images=*/true, decoding);
  EXPECT_EQ(samples.size(), 2u);
  EXPECT_TRUE(Contains(decoding.messages.back(), list + ":10: image file 'images/broken.png' cannot be decoded"));
  Problems none;
  EXPECT_TRUE(read_text_rec_list(dir.path(), "val.txt", false, none).empty());
  EXPECT_TRUE(Contains(none.messages.at(0), dir.file("val.txt") + ": file not found"));
}

}  // namespace
}  // namespace paddlex::ocr
