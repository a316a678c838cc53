// TextDetDataset lists (PaddleOCR's detection layout): every bad line named with its file and line.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "paddlex/datasets/image_lists.h"
#include "tests/test_util.h"

namespace paddlex {
namespace {

using testing::Contains;

TEST(TextDetList, ReadsRegionsAndNamesEveryBadLine) {
  testing::TempDir dir("det_list");
  testing::write_file(dir.file("images/.keep"), "");
  cv::imwrite(dir.file("images/a.png"), cv::Mat(40, 60, CV_8UC3, cv::Scalar::all(128)));
  const std::string quad = R"([[1, 2], [30, 2], [30, 20], [1, 20]])";
  testing::write_file(
      dir.file("train.txt"),
      "images/a.png\t[{\"transcription\": \"Hi\", \"points\": " + quad +
          "}, "
          "{\"transcription\": \"###\", \"points\": [[40, 5], [55, 5], [55, 15], [40, 15], [38, 10]]}]\n"  // 1: kept
          "images/a.png\t[]\n"                                                                             // 2: no text
          "images/a.png [{\"transcription\": \"x\", \"points\": " +
          quad +
          "}]\n"  // 3: no tab
          "images/a.png\t[{\"transcription\": \"x\", \"points\": " +
          quad +
          "}\n"                                         // 4: bad JSON
          "images/a.png\t{\"transcription\": \"x\"}\n"  // 5: not a list
          "images/a.png\t[{\"points\": " +
          quad +
          "}]\n"                                                                                    // 6: no text key
          "images/a.png\t[{\"transcription\": \"x\", \"points\": [[1, 2], [3, 4]]}]\n"              // 7: 2 points
          "images/a.png\t[{\"transcription\": \"x\", \"points\": [[1, 2], [3, \"a\"], [5, 6]]}]\n"  // 8: not numbers
          "images/missing.png\t[]\n");                                                              // 9
  Problems problems;
  const auto samples = read_text_det_list(dir.path(), "train.txt", false, problems);
  ASSERT_EQ(samples.size(), 2u) << problems.summary();
  ASSERT_EQ(samples[0].regions.size(), 2u);
  EXPECT_EQ(samples[0].regions[0].transcription, "Hi");
  EXPECT_FALSE(samples[0].regions[0].ignore);
  EXPECT_EQ(samples[0].regions[0].points[2], (std::array<float, 2>{30, 20}));
  EXPECT_TRUE(samples[0].regions[1].ignore);
  EXPECT_EQ(samples[0].regions[1].points.size(), 5u);
  EXPECT_TRUE(samples[1].regions.empty());
  ASSERT_EQ(problems.count, 7u) << problems.summary();
  const std::string list = dir.file("train.txt");
  EXPECT_TRUE(Contains(problems.messages[0], list + ":3: expected '<image path><TAB><annotation>'"));
  EXPECT_TRUE(Contains(problems.messages[1], list + ":4: annotation is not valid JSON"));
  EXPECT_TRUE(Contains(problems.messages[2], list + ":5: annotation must be a JSON list"));
  EXPECT_TRUE(Contains(problems.messages[3], list + ":6: region 1: needs \"transcription\""));
  EXPECT_TRUE(Contains(problems.messages[4], list + ":7: region 1: \"points\" needs a list of at least 3"));
  EXPECT_TRUE(Contains(problems.messages[5], list + ":8: region 1: \"points\" has a point that is not [x, y]"));
  EXPECT_TRUE(Contains(problems.messages[6], list + ":9: image file 'images/missing.png' does not exist"));
}

}  // namespace
}  // namespace paddlex
