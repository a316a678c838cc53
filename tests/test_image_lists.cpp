// PaddleX ClsDataset reading/checking (label.txt, train.txt, val.txt) and the train/val re-splitter.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"
#include "paddlex/core/errors.h"
#include "paddlex/datasets/image_lists.h"
#include "paddlex/datasets/list_splitter.h"

using namespace paddlex::testing;

namespace {

namespace fs = std::filesystem;
using paddlex::ClsListOptions;
using paddlex::ClsSample;
using paddlex::Problems;

// Non-empty lines of a file, sorted (a multiset to compare splits with).
std::vector<std::string> sorted_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  return lines;
}

// A temp dir holding `root/ds`, a small valid dataset: label.txt (cat, dog), images/a.png, b.png, c.png,
// and `root/outside.png` next to it (outside the dataset dir).
class ClsDatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    root_ = fs::temp_directory_path() /
            ("paddlex_test_cls_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(root_);
    ds_ = root_ / "ds";
    fs::create_directories(ds_ / "images");
    for (const char* name : {"a.png", "b.png", "c.png"}) write_png(ds_ / "images" / name);
    write_png(root_ / "outside.png");
    write_file(ds_ / "label.txt", "0 cat\n1 dog\n");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  static void write_png(const fs::path& path) {
    cv::Mat img(4, 5, CV_8UC3, cv::Scalar(10, 200, 30));
    ASSERT_TRUE(cv::imwrite(path.string(), img)) << path;
  }
  // Writes `text` as the dataset's `name` list and reads it with 2 classes.
  std::vector<ClsSample> read_list(const std::string& text, Problems& problems, bool decode = false,
                                   const std::string& name = "train.txt") {
    write_file(ds_ / name, text);
    ClsListOptions opt;
    opt.num_classes = 2;
    opt.decode_images = decode;
    return paddlex::read_cls_list(ds_.string(), name, opt, problems);
  }
  // The list path as messages spell it.
  std::string list_path(const std::string& name = "train.txt") const { return (ds_ / name).string(); }

  // Expects exactly one problem, at `line` of train.txt, whose reason contains `reason`.
  void expect_one_problem(const Problems& problems, int line, const std::string& reason) {
    ASSERT_EQ(problems.count, 1u) << problems.summary();
    ASSERT_EQ(problems.messages.size(), 1u);
    EXPECT_TRUE(StartsWith(problems.messages[0], list_path() + ":" + std::to_string(line) + ": "));
    EXPECT_TRUE(Contains(problems.messages[0], reason));
  }

  fs::path root_, ds_;
};

TEST_F(ClsDatasetTest, GoodDatasetReadsAllSamples) {
  Problems problems;
  auto labels = paddlex::read_label_file((ds_ / "label.txt").string(), problems);
  EXPECT_EQ(labels, (std::vector<std::string>{"cat", "dog"}));
  auto samples = read_list("images/a.png 0\nimages/b.png 1\nimages/c.png 1\n", problems, /*decode=*/true);
  EXPECT_TRUE(problems.empty()) << problems.summary();
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[0].rel_path, "images/a.png");
  EXPECT_EQ(fs::path(samples[0].abs_path), ds_ / "images/a.png");
  EXPECT_EQ(samples[0].label, 0);
  EXPECT_EQ(samples[0].line, 1);
  EXPECT_EQ(samples[1].rel_path, "images/b.png");
  EXPECT_EQ(samples[1].label, 1);
  EXPECT_EQ(samples[2].line, 3);
  EXPECT_EQ(problems.summary(), "");
}

TEST_F(ClsDatasetTest, MissingImageFile) {
  Problems problems;
  auto samples = read_list("images/a.png 0\nimages/b.png 1\nimages/missing.png 0\n", problems);
  expect_one_problem(problems, 3, "images/missing.png");
  EXPECT_TRUE(Contains(problems.messages[0], "does not exist"));
  EXPECT_EQ(samples.size(), 2u);
}

TEST_F(ClsDatasetTest, LabelNotAnInteger) {
  for (const char* label : {"cat", "1.5", "1a", "0x1"}) {
    Problems problems;
    auto samples = read_list(std::string("images/a.png 0\nimages/b.png ") + label + "\n", problems);
    expect_one_problem(problems, 2, std::string("'") + label + "' is not an integer");
    EXPECT_EQ(samples.size(), 1u);
  }
}

TEST_F(ClsDatasetTest, LabelOutOfRange) {
  for (const char* label : {"2", "-1", "100"}) {
    Problems problems;
    auto samples = read_list(std::string("images/a.png ") + label + "\nimages/b.png 1\n", problems);
    expect_one_problem(problems, 1, std::string("label ") + label);
    EXPECT_TRUE(Contains(problems.messages[0], label[0] == '-' ? "is negative" : "0..1")) << problems.messages[0];
    EXPECT_EQ(samples.size(), 1u);
  }
}

TEST_F(ClsDatasetTest, WrongFieldCount) {
  Problems problems;
  auto samples = read_list("images/a.png 0\nimages/b.png\nimages/c.png 1 extra\n", problems);
  ASSERT_EQ(problems.count, 2u) << problems.summary();
  EXPECT_TRUE(StartsWith(problems.messages[0], list_path() + ":2: "));
  EXPECT_TRUE(Contains(problems.messages[0], "2 fields"));
  EXPECT_TRUE(Contains(problems.messages[0], "got 1"));
  EXPECT_TRUE(StartsWith(problems.messages[1], list_path() + ":3: "));
  EXPECT_TRUE(Contains(problems.messages[1], "got 3"));
  EXPECT_EQ(samples.size(), 1u);
}

TEST_F(ClsDatasetTest, AbsolutePathIsRejected) {
  // The file exists (inside the dataset even), but an absolute path is not a PaddleX list entry.
  Problems problems;
  const std::string abs = (ds_ / "images/a.png").string();
  auto samples = read_list("images/b.png 1\n" + abs + " 0\n", problems);
  expect_one_problem(problems, 2, "leaves the dataset directory");
  EXPECT_EQ(samples.size(), 1u);
}

TEST_F(ClsDatasetTest, DotDotPathEscapingIsRejected) {
  ASSERT_TRUE(fs::exists(ds_ / "../outside.png"));
  for (const char* path : {"../outside.png", "images/../../outside.png"}) {
    Problems problems;
    auto samples = read_list(std::string("images/a.png 0\nimages/b.png 1\n") + path + " 0\n", problems);
    expect_one_problem(problems, 3, "leaves the dataset directory");
    EXPECT_TRUE(Contains(problems.messages[0], path));
    EXPECT_EQ(samples.size(), 2u);
  }
  // Climbing down and back up inside the dataset is fine.
  Problems problems;
  auto samples = read_list("images/../images/a.png 0\n./images/b.png 1\n", problems);
  EXPECT_TRUE(problems.empty()) << problems.summary();
  EXPECT_EQ(samples.size(), 2u);
}

TEST(PathStaysInside, Cases) {
  using paddlex::path_stays_inside;
  EXPECT_TRUE(path_stays_inside("a.png"));
  EXPECT_TRUE(path_stays_inside("images/a.png"));
  EXPECT_TRUE(path_stays_inside("./images/a.png"));
  EXPECT_TRUE(path_stays_inside("images/../a.png"));
  EXPECT_TRUE(path_stays_inside("a/b/../../c.png"));
  EXPECT_FALSE(path_stays_inside(""));
  EXPECT_FALSE(path_stays_inside("/etc/passwd"));
  EXPECT_FALSE(path_stays_inside("../a.png"));
  EXPECT_FALSE(path_stays_inside(".."));
  EXPECT_FALSE(path_stays_inside("images/../../a.png"));
  EXPECT_FALSE(path_stays_inside("a/./../../b.png"));
}

TEST_F(ClsDatasetTest, UndecodableImageOnlyWhenDecoding) {
  write_file(ds_ / "images/x.png", "this is text, not a PNG\n");
  const std::string list = "images/a.png 0\nimages/x.png 1\n";
  Problems quick;
  auto samples = read_list(list, quick, /*decode=*/false);
  EXPECT_TRUE(quick.empty()) << quick.summary();
  EXPECT_EQ(samples.size(), 2u);

  Problems full;
  samples = read_list(list, full, /*decode=*/true);
  expect_one_problem(full, 2, "images/x.png");
  EXPECT_TRUE(Contains(full.messages[0], "cannot be decoded"));
  EXPECT_EQ(samples.size(), 1u);
}

TEST_F(ClsDatasetTest, CrlfLineEndingsAccepted) {
  write_file(ds_ / "label.txt", "0 cat\r\n1 dog\r\n");
  Problems problems;
  auto labels = paddlex::read_label_file((ds_ / "label.txt").string(), problems);
  EXPECT_EQ(labels, (std::vector<std::string>{"cat", "dog"}));
  auto samples = read_list("images/a.png 0\r\nimages/b.png 1\r\n", problems);
  EXPECT_TRUE(problems.empty()) << problems.summary();
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].rel_path, "images/a.png");
  EXPECT_EQ(samples[1].label, 1);
  // A CRLF file with a bad line still reports the right line number.
  Problems bad;
  read_list("images/a.png 0\r\nimages/b.png 7\r\n", bad);
  expect_one_problem(bad, 2, "label 7");
}

TEST_F(ClsDatasetTest, BlankLinesSkippedButCounted) {
  Problems problems;
  auto samples = read_list("\nimages/a.png 0\n   \n\t\nimages/missing.png 1\n\nimages/b.png 1\n", problems);
  expect_one_problem(problems, 5, "images/missing.png");
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].line, 2);
  EXPECT_EQ(samples[1].line, 7);
}

TEST_F(ClsDatasetTest, MissingListFile) {
  Problems problems;
  ClsListOptions opt;
  auto samples = paddlex::read_cls_list(ds_.string(), "val.txt", opt, problems);
  EXPECT_TRUE(samples.empty());
  ASSERT_EQ(problems.count, 1u);
  EXPECT_TRUE(Contains(problems.messages[0], list_path("val.txt")));
}

// ---------------------------------------------------------------- label.txt

TEST_F(ClsDatasetTest, LabelFileDuplicateId) {
  write_file(ds_ / "label.txt", "0 cat\n1 dog\n0 bird\n");
  Problems problems;
  auto labels = paddlex::read_label_file((ds_ / "label.txt").string(), problems);
  ASSERT_EQ(problems.count, 1u) << problems.summary();
  EXPECT_TRUE(StartsWith(problems.messages[0], (ds_ / "label.txt").string() + ":3: "));
  EXPECT_TRUE(Contains(problems.messages[0], "twice"));
  EXPECT_EQ(labels, (std::vector<std::string>{"cat", "dog"}));
}

TEST_F(ClsDatasetTest, LabelFileNonIntegerId) {
  for (const char* bad : {"cat 1", "1.5 dog", "-1 dog"}) {
    write_file(ds_ / "label.txt", std::string("0 cat\n\n") + bad + "\n");
    Problems problems;
    paddlex::read_label_file((ds_ / "label.txt").string(), problems);
    ASSERT_EQ(problems.count, 1u) << bad << "\n" << problems.summary();
    EXPECT_TRUE(StartsWith(problems.messages[0], (ds_ / "label.txt").string() + ":3: "));
    EXPECT_TRUE(Contains(problems.messages[0], bad));
  }
}

TEST_F(ClsDatasetTest, LabelFileMissing) {
  fs::remove(ds_ / "label.txt");
  Problems problems;
  auto labels = paddlex::read_label_file((ds_ / "label.txt").string(), problems);
  EXPECT_TRUE(labels.empty());
  ASSERT_EQ(problems.count, 1u);
  EXPECT_TRUE(Contains(problems.messages[0], (ds_ / "label.txt").string()));
  EXPECT_TRUE(Contains(problems.messages[0], "not found"));
}

TEST_F(ClsDatasetTest, LabelFileGapsAndNamesWithSpaces) {
  write_file(ds_ / "label.txt", "0 tabby cat\n2 dog\n");
  Problems problems;
  auto labels = paddlex::read_label_file((ds_ / "label.txt").string(), problems);
  EXPECT_TRUE(problems.empty()) << problems.summary();
  EXPECT_EQ(labels, (std::vector<std::string>{"tabby cat", "1", "dog"}));
}

TEST_F(ClsDatasetTest, LabelFileEmpty) {
  write_file(ds_ / "label.txt", "\n\n");
  Problems problems;
  auto labels = paddlex::read_label_file((ds_ / "label.txt").string(), problems);
  EXPECT_TRUE(labels.empty());
  EXPECT_FALSE(problems.empty());
}

// ---------------------------------------------------------------- Problems

TEST_F(ClsDatasetTest, ProblemsAreCappedWithSummary) {
  const size_t total = Problems::kMaxReported + 10;
  std::string list;
  for (size_t i = 0; i < total; ++i) list += "images/missing_" + std::to_string(i) + ".png 0\n";
  Problems problems;
  auto samples = read_list(list, problems);
  EXPECT_TRUE(samples.empty());
  EXPECT_EQ(problems.count, total);
  ASSERT_EQ(problems.messages.size(), Problems::kMaxReported);
  EXPECT_TRUE(StartsWith(problems.messages.front(), list_path() + ":1: "));
  EXPECT_TRUE(StartsWith(problems.messages.back(), list_path() + ":" + std::to_string(Problems::kMaxReported) + ": "));
  const std::string summary = problems.summary();
  EXPECT_TRUE(Contains(summary, "... and 10 more"));
  EXPECT_TRUE(Contains(summary, "missing_0.png"));
  EXPECT_FALSE(Contains(summary, "missing_" + std::to_string(Problems::kMaxReported) + ".png"));
}

TEST(Problems, SummaryWithoutOverflowHasNoMoreLine) {
  Problems p;
  EXPECT_TRUE(p.empty());
  p.add("a.txt:1: x");
  p.add("a.txt:2: y");
  EXPECT_FALSE(p.empty());
  EXPECT_EQ(p.count, 2u);
  EXPECT_TRUE(Contains(p.summary(), "a.txt:1: x"));
  EXPECT_TRUE(Contains(p.summary(), "a.txt:2: y"));
  EXPECT_FALSE(Contains(p.summary(), "more"));
}

// ---------------------------------------------------------------- split_train_val

class SplitTest : public ClsDatasetTest {
 protected:
  // train.txt with 14 lines, val.txt with 6 (and a blank line), in `dir`.
  void write_lists(const fs::path& dir) {
    std::string train, val;
    for (int i = 0; i < 14; ++i) train += "images/t" + std::to_string(i) + ".png " + std::to_string(i % 2) + "\n";
    for (int i = 0; i < 6; ++i) val += "images/v" + std::to_string(i) + ".png " + std::to_string(i % 2) + "\n";
    val += "\n";
    write_file(dir / "train.txt", train);
    write_file(dir / "val.txt", val);
    original_train_ = train;
    original_val_ = val;
  }
  std::string original_train_, original_val_;
};

TEST_F(SplitTest, PercentagesAndUnionPreserved) {
  write_lists(ds_);
  const auto all = sorted_lines(original_train_ + original_val_);
  ASSERT_EQ(all.size(), 20u);
  paddlex::split_train_val(ds_.string(), 80, 42);
  const std::string train = read_text(list_path("train.txt")), val = read_text(list_path("val.txt"));
  EXPECT_EQ(sorted_lines(train).size(), 16u);
  EXPECT_EQ(sorted_lines(val).size(), 4u);
  EXPECT_EQ(sorted_lines(train + val), all);
  // It is a shuffle, not a cut of the concatenation.
  EXPECT_NE(train, original_train_ + "images/v0.png 0\nimages/v1.png 1\n");
}

TEST_F(SplitTest, DeterministicForSeed) {
  const fs::path other = root_ / "other", third = root_ / "third";
  write_lists(ds_);
  write_lists(other);
  write_lists(third);
  paddlex::split_train_val(ds_.string(), 50, 7);
  paddlex::split_train_val(other.string(), 50, 7);
  paddlex::split_train_val(third.string(), 50, 8);
  EXPECT_EQ(read_text(list_path("train.txt")), read_text((other / "train.txt").string()));
  EXPECT_EQ(read_text(list_path("val.txt")), read_text((other / "val.txt").string()));
  EXPECT_NE(read_text(list_path("train.txt")), read_text((third / "train.txt").string()));
}

TEST_F(SplitTest, BackupsKeepOriginalsAcrossSplits) {
  write_lists(ds_);
  paddlex::split_train_val(ds_.string(), 70, 1);
  EXPECT_EQ(read_text(list_path("train.txt.bak")), original_train_);
  EXPECT_EQ(read_text(list_path("val.txt.bak")), original_val_);
  const std::string first_train = read_text(list_path("train.txt"));
  EXPECT_EQ(sorted_lines(first_train).size(), 14u);

  paddlex::split_train_val(ds_.string(), 50, 2);
  EXPECT_EQ(read_text(list_path("train.txt.bak")), original_train_);
  EXPECT_EQ(read_text(list_path("val.txt.bak")), original_val_);
  const std::string train = read_text(list_path("train.txt")), val = read_text(list_path("val.txt"));
  EXPECT_EQ(sorted_lines(train).size(), 10u);
  EXPECT_EQ(sorted_lines(val).size(), 10u);
  EXPECT_EQ(sorted_lines(train + val), sorted_lines(original_train_ + original_val_));
}

TEST_F(SplitTest, MissingListIsARunError) {
  write_file(ds_ / "train.txt", "images/a.png 0\n");
  EXPECT_THROW(paddlex::split_train_val(ds_.string(), 50, 1), paddlex::RunError);
  EXPECT_FALSE(fs::exists(ds_ / "train.txt.bak"));
}

}  // namespace
