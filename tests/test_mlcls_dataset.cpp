// MLClsDataset lists (class-id and multi-hot forms), COCO instance files, and the COCO -> MLClsDataset converter.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <functional>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "test_util.h"
#include "paddlex/core/errors.h"
#include "paddlex/datasets/coco.h"
#include "paddlex/datasets/image_lists.h"
#include "paddlex/modules/image_multilabel_classification/coco_to_mlcls.h"

using namespace paddlex::testing;

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using paddlex::MultiLabelFormat;
using paddlex::MultiLabelList;
using paddlex::Problems;
using Labels = std::vector<int64_t>;

void write_png(const fs::path& path) {
  fs::create_directories(path.parent_path());
  cv::Mat img(4, 5, CV_8UC3, cv::Scalar(10, 200, 30));
  ASSERT_TRUE(cv::imwrite(path.string(), img)) << path;
}

// The message of the RunError `fn` throws, or a marker that makes an EXPECT_EQ on it fail readably.
std::string run_error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const paddlex::RunError& e) {
    return e.what();
  }
  return "<no RunError thrown>";
}

// ============================================================================ read_mlcls_list

// `root/ds`: images/a.png, b.png, c.png and a 3-class label.txt; `root/outside.png` sits next to the dataset.
class MlclsListTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ds_ = fs::path(tmp_.path()) / "ds";
    for (const char* name : {"a.png", "b.png", "c.png"}) write_png(ds_ / "images" / name);
    write_png(fs::path(tmp_.path()) / "outside.png");
    write_file(ds_ / "label.txt", "0 cat\n1 dog\n2 bird\n");
  }
  // Writes `text` as train.txt and reads it as a list of a `num_classes`-class dataset.
  MultiLabelList read(const std::string& text, Problems& problems, bool decode = false, int64_t num_classes = 3) {
    write_file(ds_ / "train.txt", text);
    return paddlex::read_mlcls_list(ds_.string(), "train.txt", num_classes, decode, problems);
  }
  std::string list_path() const { return (ds_ / "train.txt").string(); }
  // A message as the reader spells it: "<list path>:<line>: <reason>".
  std::string at(int line, const std::string& reason) const { return paddlex::at_line(list_path(), line, reason); }
  // Exactly these messages, in any order (syntax problems and label-value problems come from separate passes).
  static void expect_problems(const Problems& problems, std::vector<std::string> expected) {
    std::vector<std::string> got = problems.messages;
    std::sort(got.begin(), got.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(got, expected) << problems.summary();
    EXPECT_EQ(problems.count, expected.size());
  }
  // Reads a list with one good line plus `bad_line` (line 2) and expects only `reason` at line 2.
  void expect_bad_line(const std::string& bad_line, const std::string& reason, bool decode = false) {
    SCOPED_TRACE("bad line: '" + bad_line + "'");
    Problems problems;
    auto list = read("images/a.png\t0\n" + bad_line + "\n", problems, decode);
    expect_problems(problems, {at(2, reason)});
    ASSERT_EQ(list.samples.size(), 1u);
    EXPECT_EQ(list.samples[0].rel_path, "images/a.png");
  }

  TempDir tmp_{"mlcls_list"};
  fs::path ds_;
};

TEST_F(MlclsListTest, ClassIdLinesReadWithSortedLabels) {
  Problems problems;
  auto list = read("images/a.png\t2,0\nimages/b.png\t1\nimages/c.png\t2,1,0\n", problems, /*decode=*/true);
  expect_problems(problems, {});
  EXPECT_EQ(list.format, MultiLabelFormat::kClassIds);
  ASSERT_EQ(list.samples.size(), 3u);
  EXPECT_EQ(list.samples[0].rel_path, "images/a.png");
  EXPECT_EQ(fs::path(list.samples[0].abs_path), ds_ / "images/a.png");
  EXPECT_EQ(list.samples[0].labels, (Labels{0, 2}));
  EXPECT_EQ(list.samples[0].line, 1);
  EXPECT_EQ(list.samples[1].rel_path, "images/b.png");
  EXPECT_EQ(list.samples[1].labels, (Labels{1}));
  EXPECT_EQ(list.samples[2].labels, (Labels{0, 1, 2}));
  EXPECT_EQ(list.samples[2].line, 3);
}

TEST_F(MlclsListTest, SpacesAroundTheLabelFieldAreTrimmed) {
  Problems problems;
  auto list = read("images/a.png\t 1,0 \n", problems);
  expect_problems(problems, {});
  ASSERT_EQ(list.samples.size(), 1u);
  EXPECT_EQ(list.samples[0].labels, (Labels{0, 1}));
}

TEST_F(MlclsListTest, ClassIdOutsideLabelFile) {
  expect_bad_line("images/b.png\t1,7", "class id 7 is not in label.txt (ids 0..2)");
  expect_bad_line("images/b.png\t3", "class id 3 is not in label.txt (ids 0..2)");
}

TEST_F(MlclsListTest, NegativeClassId) {
  expect_bad_line("images/b.png\t-1", "class id -1 is not in label.txt (ids 0..2)");
  // Three values, but -1 is not 0/1, so this is not a multi-hot vector either.
  expect_bad_line("images/b.png\t1,-1,0", "class id -1 is not in label.txt (ids 0..2)");
}

TEST_F(MlclsListTest, DuplicateClassId) {
  expect_bad_line("images/b.png\t2,1,2", "class id 2 is listed twice");
  expect_bad_line("images/b.png\t0,0", "class id 0 is listed twice");
}

TEST_F(MlclsListTest, EmptyLabelSet) {
  expect_bad_line("images/b.png\t", "empty label set");
  expect_bad_line("images/b.png\t   ", "empty label set");
}

TEST_F(MlclsListTest, NonIntegerToken) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"cat", "cat"}, {"0,1.5", "1.5"}, {"2,0x1", "0x1"}, {"1,,2", ""}, {"1a", "1a"}};
  for (const auto& [labels, token] : cases)
    expect_bad_line("images/b.png\t" + labels,
                    "label '" + token + "' is not an integer (labels: comma-separated class ids)");
}

TEST_F(MlclsListTest, SpaceInsteadOfTab) {
  expect_bad_line("images/b.png 0,2", "the image path and the labels must be separated by a tab, not a space");
  // Neither a tab nor a space: only the general shape can be told.
  expect_bad_line("images/b.png", "expected '<image path><TAB><labels>'");
}

TEST_F(MlclsListTest, MoreThanTwoTabFields) {
  expect_bad_line("images/b.png\t0\t1", "expected 2 tab-separated fields '<image path><TAB><labels>', got more");
}

TEST_F(MlclsListTest, MissingImage) {
  expect_bad_line("images/missing.png\t0", "image file 'images/missing.png' does not exist");
}

TEST_F(MlclsListTest, PathEscapingTheDatasetDir) {
  ASSERT_TRUE(fs::exists(ds_ / "../outside.png"));
  expect_bad_line("../outside.png\t0", "image path '../outside.png' leaves the dataset directory");
  expect_bad_line("images/../../outside.png\t0", "image path 'images/../../outside.png' leaves the dataset directory");
  // An absolute path is refused even when it points into the dataset.
  const std::string abs = (ds_ / "images/b.png").string();
  expect_bad_line(abs + "\t0", "image path '" + abs + "' leaves the dataset directory");
}

TEST_F(MlclsListTest, UndecodableImageOnlyWhenDecoding) {
  write_file(ds_ / "images/x.png", "this is text, not a PNG\n");
  Problems quick;
  auto list = read("images/a.png\t0\nimages/x.png\t1\n", quick, /*decode=*/false);
  expect_problems(quick, {});
  EXPECT_EQ(list.samples.size(), 2u);

  expect_bad_line("images/x.png\t1", "image file 'images/x.png' cannot be decoded", /*decode=*/true);
}

TEST_F(MlclsListTest, CrlfLineEndings) {
  Problems problems;
  auto list = read("images/a.png\t0,2\r\nimages/b.png\t1\r\nimages/c.png\t5\r\n", problems);
  // The reason must not carry a stray '\r' and the line number is that of the CRLF line.
  expect_problems(problems, {at(3, "class id 5 is not in label.txt (ids 0..2)")});
  ASSERT_EQ(list.samples.size(), 2u);
  EXPECT_EQ(list.samples[0].labels, (Labels{0, 2}));
  EXPECT_EQ(list.samples[1].rel_path, "images/b.png");
  EXPECT_EQ(list.samples[1].labels, (Labels{1}));

  // A CRLF multi-hot file: the last value must not read as "1\r".
  Problems hot_problems;
  auto hot = read("images/a.png\t1,0,1\r\nimages/b.png\t0,1,0\r\n", hot_problems);
  expect_problems(hot_problems, {});
  EXPECT_EQ(hot.format, MultiLabelFormat::kMultiHot);
  ASSERT_EQ(hot.samples.size(), 2u);
  EXPECT_EQ(hot.samples[0].labels, (Labels{0, 2}));
}

TEST_F(MlclsListTest, BlankLinesSkippedButCounted) {
  Problems problems;
  auto list = read("\nimages/a.png\t0\n   \n\t\nimages/missing.png\t1\n\nimages/b.png\t7\nimages/c.png\t2,1\n",
                   problems);
  expect_problems(problems, {at(5, "image file 'images/missing.png' does not exist"),
                             at(7, "class id 7 is not in label.txt (ids 0..2)")});
  ASSERT_EQ(list.samples.size(), 2u);
  EXPECT_EQ(list.samples[0].line, 2);
  EXPECT_EQ(list.samples[1].rel_path, "images/c.png");
  EXPECT_EQ(list.samples[1].line, 8);
  EXPECT_EQ(list.samples[1].labels, (Labels{1, 2}));
}

TEST_F(MlclsListTest, MissingListFile) {
  Problems problems;
  auto list = paddlex::read_mlcls_list(ds_.string(), "val.txt", 3, false, problems);
  EXPECT_TRUE(list.samples.empty());
  expect_problems(problems, {(ds_ / "val.txt").string() + ": file not found"});
}

// ---------------------------------------------------------------- multi-hot form

TEST_F(MlclsListTest, MultiHotVectorsGiveThePositionsOfOnes) {
  Problems problems;
  auto list = read("images/a.png\t1,0,1\nimages/b.png\t0,1,0\nimages/c.png\t1,1,1\n", problems);
  expect_problems(problems, {});
  EXPECT_EQ(list.format, MultiLabelFormat::kMultiHot);
  ASSERT_EQ(list.samples.size(), 3u);
  EXPECT_EQ(list.samples[0].labels, (Labels{0, 2}));
  EXPECT_EQ(list.samples[1].labels, (Labels{1}));
  EXPECT_EQ(list.samples[2].labels, (Labels{0, 1, 2}));
  EXPECT_EQ(list.samples[2].line, 3);
}

TEST_F(MlclsListTest, AllZeroMultiHotVectorIsAnEmptyLabelSet) {
  Problems problems;
  auto list = read("images/a.png\t1,0,1\nimages/b.png\t0,0,0\nimages/c.png\t0,0,1\n", problems);
  EXPECT_EQ(list.format, MultiLabelFormat::kMultiHot);
  expect_problems(problems, {at(2, "empty label set (every value of the 0/1 vector is 0)")});
  ASSERT_EQ(list.samples.size(), 2u);
  EXPECT_EQ(list.samples[0].rel_path, "images/a.png");
  EXPECT_EQ(list.samples[1].rel_path, "images/c.png");
  EXPECT_EQ(list.samples[1].labels, (Labels{2}));
}

TEST_F(MlclsListTest, MixedFileIsReadAsClassIds) {
  // "0,2" is no 3-value vector, so the whole file is class ids and "1,0,1" lists id 1 twice.
  Problems problems;
  auto list = read("images/a.png\t1,0,1\nimages/b.png\t0,2\n", problems);
  EXPECT_EQ(list.format, MultiLabelFormat::kClassIds);
  expect_problems(problems, {at(1, "class id 1 is listed twice")});
  ASSERT_EQ(list.samples.size(), 1u);
  EXPECT_EQ(list.samples[0].rel_path, "images/b.png");
  EXPECT_EQ(list.samples[0].labels, (Labels{0, 2}));
}

TEST_F(MlclsListTest, ThreeValuesWithANonBinaryOneAreClassIds) {
  // b's values are 3 but one is 2: not a vector, so a's "0,1,0" is read as ids with 0 twice.
  Problems problems;
  auto list = read("images/a.png\t0,1,0\nimages/b.png\t2,0,1\n", problems);
  EXPECT_EQ(list.format, MultiLabelFormat::kClassIds);
  expect_problems(problems, {at(1, "class id 0 is listed twice")});
  ASSERT_EQ(list.samples.size(), 1u);
  EXPECT_EQ(list.samples[0].labels, (Labels{0, 1, 2}));
}

TEST_F(MlclsListTest, ShortZeroOneLinesAreClassIds) {
  // Two 0/1 values for 3 classes is not a full vector: ids 0 and 1.
  Problems problems;
  auto list = read("images/a.png\t1,0\nimages/b.png\t0,1\n", problems);
  expect_problems(problems, {});
  EXPECT_EQ(list.format, MultiLabelFormat::kClassIds);
  ASSERT_EQ(list.samples.size(), 2u);
  EXPECT_EQ(list.samples[0].labels, (Labels{0, 1}));
  EXPECT_EQ(list.samples[1].labels, (Labels{0, 1}));
}

TEST(MultiLabelFormatName, Strings) {
  EXPECT_EQ(paddlex::format_name(MultiLabelFormat::kClassIds), "class_ids");
  EXPECT_EQ(paddlex::format_name(MultiLabelFormat::kMultiHot), "multi_hot");
}

// ============================================================================ read_coco_file

json coco_image(int64_t id, const std::string& file_name) {
  return {{"id", id}, {"file_name", file_name}, {"width", 5}, {"height", 4}};
}
json coco_category(int64_t id, const std::string& name) { return {{"id", id}, {"name", name}}; }
json coco_annotation(int64_t image_id, int64_t category_id) {
  return {{"image_id", image_id}, {"category_id", category_id}, {"bbox", {0, 0, 2, 2}}, {"iscrowd", 0}};
}
std::string coco_text(const json& images, const json& categories, const json& annotations) {
  return json{{"images", images}, {"categories", categories}, {"annotations", annotations}}.dump(2);
}

class CocoFileTest : public ::testing::Test {
 protected:
  // Two images and categories deliberately out of id order, so "file order" is visible.
  static json valid() {
    return json::parse(R"({
      "images": [{"id": 5, "file_name": "b.png", "width": 4, "height": 3},
                 {"id": 2, "file_name": "a.png", "width": 5, "height": 6}],
      "categories": [{"id": 3, "name": "dog"}, {"id": 1, "name": "cat"}],
      "annotations": [{"id": 10, "image_id": 5, "category_id": 3, "bbox": [1, 2.5, 3, 4], "iscrowd": 0},
                      {"image_id": 2, "category_id": 1, "iscrowd": 1}]
    })");
  }
  std::string write(const std::string& text) { return tmp_.write("instances.json", text); }
  std::string error_for(const json& j) {
    const std::string path = write(j.dump(2));
    return run_error_of([&] { paddlex::read_coco_file(path); });
  }
  std::string path() const { return tmp_.file("instances.json"); }

  TempDir tmp_{"coco_file"};
};

TEST_F(CocoFileTest, ValidFileReadInFileOrder) {
  const auto coco = paddlex::read_coco_file(write(valid().dump()));
  ASSERT_EQ(coco.images.size(), 2u);
  EXPECT_EQ(coco.images[0].id, 5);
  EXPECT_EQ(coco.images[0].file_name, "b.png");
  EXPECT_EQ(coco.images[0].width, 4);
  EXPECT_EQ(coco.images[0].height, 3);
  EXPECT_EQ(coco.images[1].id, 2);
  EXPECT_EQ(coco.images[1].file_name, "a.png");
  ASSERT_EQ(coco.categories.size(), 2u);
  EXPECT_EQ(coco.categories[0].id, 3);
  EXPECT_EQ(coco.categories[0].name, "dog");
  EXPECT_EQ(coco.categories[1].id, 1);
  EXPECT_EQ(coco.categories[1].name, "cat");
  ASSERT_EQ(coco.annotations.size(), 2u);
  const auto& a0 = coco.annotations[0];
  EXPECT_EQ(a0.id, 10);
  EXPECT_EQ(a0.image_id, 5);
  EXPECT_EQ(a0.category_id, 3);
  EXPECT_EQ(a0.bbox, (std::array<double, 4>{1, 2.5, 3, 4}));
  EXPECT_FALSE(a0.iscrowd);
  // No "id": the index stands in; no "bbox": zeros.
  const auto& a1 = coco.annotations[1];
  EXPECT_EQ(a1.id, 1);
  EXPECT_EQ(a1.image_id, 2);
  EXPECT_EQ(a1.category_id, 1);
  EXPECT_EQ(a1.bbox, (std::array<double, 4>{0, 0, 0, 0}));
  EXPECT_TRUE(a1.iscrowd);
}

// The ',' where a value should be sits on line 2, column 13.
const char* const kSyntaxError = "{\n  \"images\": ,\n  \"categories\": []\n}\n";

TEST_F(CocoFileTest, SyntaxErrorNamesTheLine) {
  const std::string p = write(kSyntaxError);
  const std::string message = run_error_of([&] { paddlex::read_coco_file(p); });
  EXPECT_TRUE(StartsWith(message, p + ":2:")) << message;
  EXPECT_TRUE(Contains(message, ": not valid JSON ("));
}

TEST_F(CocoFileTest, SyntaxErrorColumnIsThatOfTheOffendingCharacter) {
  // nlohmann's own text in the same message says "line 2, column 13"; the prefix must agree with it.
  const std::string p = write(kSyntaxError);
  const std::string message = run_error_of([&] { paddlex::read_coco_file(p); });
  EXPECT_TRUE(StartsWith(message, p + ":2:13: not valid JSON (")) << message;
  EXPECT_TRUE(Contains(message, "line 2, column 13"));
}

TEST_F(CocoFileTest, TopLevelNotAnObject) {
  const std::string p = write("[1, 2]");
  EXPECT_EQ(run_error_of([&] { paddlex::read_coco_file(p); }),
            p + ": expected a JSON object with images, categories and annotations");
}

TEST_F(CocoFileTest, MissingFile) {
  const std::string p = tmp_.file("nope.json");
  EXPECT_EQ(run_error_of([&] { paddlex::read_coco_file(p); }), "cannot read '" + p + "'");
}

TEST_F(CocoFileTest, MissingOrNonArraySections) {
  for (const char* key : {"images", "categories", "annotations"}) {
    json j = valid();
    j.erase(key);
    EXPECT_EQ(error_for(j), path() + ": " + key + ": missing, or not an array");
    j[key] = json::object();
    EXPECT_EQ(error_for(j), path() + ": " + key + ": missing, or not an array");
  }
}

TEST_F(CocoFileTest, ImageFieldTypes) {
  json j = valid();
  j["images"][1]["file_name"] = 42;
  EXPECT_EQ(error_for(j), path() + ": images[1].file_name: missing, or not a string");

  j = valid();
  j["images"][0]["id"] = "5";
  EXPECT_EQ(error_for(j), path() + ": images[0].id: missing, or not an integer");

  j = valid();
  j["images"][1].erase("height");
  EXPECT_EQ(error_for(j), path() + ": images[1].height: missing, or not an integer");

  j = valid();
  j["images"][1] = "a.png";
  EXPECT_EQ(error_for(j), path() + ": images[1].id: missing, or not an integer");
}

TEST_F(CocoFileTest, DuplicateIds) {
  json j = valid();
  j["images"][1]["id"] = 5;
  EXPECT_EQ(error_for(j), path() + ": images[1].id: image id 5 is used twice");

  j = valid();
  j["categories"][1]["id"] = 3;
  EXPECT_EQ(error_for(j), path() + ": categories[1].id: category id 3 is used twice");
}

TEST_F(CocoFileTest, AnnotationReferences) {
  json j = valid();
  j["annotations"][0]["image_id"] = 9;
  EXPECT_EQ(error_for(j), path() + ": annotations[0].image_id: image id 9 is not in images");

  j = valid();
  j["annotations"][0]["category_id"] = 7;
  EXPECT_EQ(error_for(j), path() + ": annotations[0].category_id: category id 7 is not in categories");

  j = valid();
  j["annotations"][1].erase("category_id");
  EXPECT_EQ(error_for(j), path() + ": annotations[1].category_id: missing, or not an integer");
}

TEST_F(CocoFileTest, BadBbox) {
  for (const json& bbox : {json::array({1, 2, 3}), json::array({1, "2", 3, 4}), json("box"),
                           json::array({1, 2, 3, 4, 5})}) {
    json j = valid();
    j["annotations"][0]["bbox"] = bbox;
    EXPECT_EQ(error_for(j), path() + ": annotations[0].bbox: expected [x, y, width, height]") << bbox.dump();
  }
}

// ============================================================================ convert_coco_to_mlcls

// A COCO dataset root: images/a.png .. d.png (no gone.png) and, per test, annotations/*.json.
class CocoToMlclsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"a.png", "b.png", "c.png", "d.png"}) write_png(root() / "images" / name);
  }
  fs::path root() const { return fs::path(tmp_.path()); }
  std::string file(const std::string& name) const { return (root() / name).string(); }
  void write_annotations(const std::string& file_name, const std::string& text) {
    write_file(root() / "annotations" / file_name, text);
  }
  static json cat_dog() { return json::array({coco_category(1, "cat"), coco_category(3, "dog")}); }

  // train: ids out of order; c.png (id 3) has no annotation, gone.png (id 6) no file; a.png has cat twice.
  void write_train(const std::string& file_name = "instance_train.json", const json& categories = cat_dog()) {
    write_annotations(file_name,
                      coco_text(json::array({coco_image(4, "d.png"), coco_image(1, "a.png"), coco_image(3, "c.png"),
                                             coco_image(2, "b.png"), coco_image(6, "gone.png")}),
                                categories,
                                json::array({coco_annotation(1, 3), coco_annotation(1, 1), coco_annotation(1, 1),
                                             coco_annotation(2, 3), coco_annotation(4, 1), coco_annotation(6, 1)})));
  }
  void write_val(const std::string& file_name = "instance_val.json", const json& categories = cat_dog()) {
    write_annotations(file_name,
                      coco_text(json::array({coco_image(2, "c.png"), coco_image(1, "b.png")}), categories,
                                json::array({coco_annotation(2, 1), coco_annotation(1, 1)})));
  }
  std::string convert() { return paddlex::mlcls::convert_coco_to_mlcls(tmp_.path()); }

  // What write_train / write_val with cat (id 1), dog (id 3) convert to.
  static constexpr const char* kTrainList = "images/a.png\t1,1\nimages/b.png\t0,1\nimages/d.png\t1,0\n";
  static constexpr const char* kValList = "images/b.png\t1,0\nimages/c.png\t1,0\n";

  TempDir tmp_{"coco_to_mlcls"};
};

TEST_F(CocoToMlclsTest, WritesLabelFileAndListsInImageIdOrder) {
  write_train();
  write_val();
  const std::string summary = convert();
  EXPECT_EQ(summary,
            "converted COCO to MLClsDataset: 2 classes; train: 3 images, 1 without annotations left out, "
            "1 without an image file left out; val: 2 images");
  // Contiguous indices, not the COCO ids 1 and 3.
  EXPECT_EQ(read_text(file("label.txt")), "0 cat\n1 dog\n");
  EXPECT_EQ(read_text(file("train.txt")), kTrainList);
  EXPECT_EQ(read_text(file("val.txt")), kValList);
  // Nothing existed before, so nothing was backed up.
  EXPECT_FALSE(fs::exists(file("train.txt.bak")));
  EXPECT_FALSE(fs::exists(file("label.txt.bak")));
}

TEST_F(CocoToMlclsTest, ClassIndicesFollowCategoryFileOrder) {
  const json dog_cat = json::array({coco_category(3, "dog"), coco_category(1, "cat")});
  write_train("instance_train.json", dog_cat);
  write_val("instance_val.json", dog_cat);
  convert();
  EXPECT_EQ(read_text(file("label.txt")), "0 dog\n1 cat\n");
  EXPECT_EQ(read_text(file("train.txt")), "images/a.png\t1,1\nimages/b.png\t1,0\nimages/d.png\t0,1\n");
  EXPECT_EQ(read_text(file("val.txt")), "images/b.png\t0,1\nimages/c.png\t0,1\n");
}

TEST_F(CocoToMlclsTest, ConvertedDatasetReadsBackAsMultiHot) {
  write_train();
  write_val();
  convert();
  Problems problems;
  const auto names = paddlex::read_label_file(file("label.txt"), problems);
  EXPECT_EQ(names, (std::vector<std::string>{"cat", "dog"}));
  const auto num_classes = static_cast<int64_t>(names.size());

  auto train = paddlex::read_mlcls_list(tmp_.path(), "train.txt", num_classes, /*decode_images=*/true, problems);
  auto val = paddlex::read_mlcls_list(tmp_.path(), "val.txt", num_classes, /*decode_images=*/true, problems);
  EXPECT_TRUE(problems.empty()) << problems.summary();
  EXPECT_EQ(train.format, MultiLabelFormat::kMultiHot);
  EXPECT_EQ(val.format, MultiLabelFormat::kMultiHot);
  ASSERT_EQ(train.samples.size(), 3u);
  EXPECT_EQ(train.samples[0].rel_path, "images/a.png");
  EXPECT_EQ(train.samples[0].labels, (Labels{0, 1}));
  EXPECT_EQ(train.samples[1].rel_path, "images/b.png");
  EXPECT_EQ(train.samples[1].labels, (Labels{1}));
  EXPECT_EQ(train.samples[2].rel_path, "images/d.png");
  EXPECT_EQ(train.samples[2].labels, (Labels{0}));
  ASSERT_EQ(val.samples.size(), 2u);
  EXPECT_EQ(val.samples[1].rel_path, "images/c.png");
  EXPECT_EQ(val.samples[1].labels, (Labels{0}));
}

TEST_F(CocoToMlclsTest, ExistingListsAreBackedUpOnce) {
  write_file(root() / "train.txt", "images/old.png\t0\n");
  write_file(root() / "label.txt", "0 old\n");
  write_train();
  write_val();
  convert();
  EXPECT_EQ(read_text(file("train.txt.bak")), "images/old.png\t0\n");
  EXPECT_EQ(read_text(file("label.txt.bak")), "0 old\n");
  EXPECT_FALSE(fs::exists(file("val.txt.bak")));
  EXPECT_EQ(read_text(file("train.txt")), kTrainList);

  // A second conversion keeps the first backups (the user's originals) rather than the converted lists.
  convert();
  EXPECT_EQ(read_text(file("train.txt.bak")), "images/old.png\t0\n");
  EXPECT_EQ(read_text(file("label.txt.bak")), "0 old\n");
  EXPECT_EQ(read_text(file("train.txt")), kTrainList);
}

TEST_F(CocoToMlclsTest, InstancesPluralNamingAccepted) {
  write_train("instances_train.json");
  write_val("instances_val.json");
  EXPECT_EQ(convert(),
            "converted COCO to MLClsDataset: 2 classes; train: 3 images, 1 without annotations left out, "
            "1 without an image file left out; val: 2 images");
  EXPECT_EQ(read_text(file("train.txt")), kTrainList);
  EXPECT_EQ(read_text(file("val.txt")), kValList);
}

TEST_F(CocoToMlclsTest, MissingTrainAnnotationFile) {
  write_val();
  EXPECT_EQ(run_error_of([&] { convert(); }),
            "CheckDataset.convert (COCO): " + (root() / "annotations" / "instance_train.json").string() +
                " not found (instances_train.json is accepted too)");
  EXPECT_FALSE(fs::exists(file("label.txt")));
}

TEST_F(CocoToMlclsTest, MissingValAnnotationFileWritesNothing) {
  write_train();
  EXPECT_EQ(run_error_of([&] { convert(); }),
            "CheckDataset.convert (COCO): " + (root() / "annotations" / "instance_val.json").string() +
                " not found (instances_val.json is accepted too)");
  // train was converted in memory first; no list may be left half-done.
  EXPECT_FALSE(fs::exists(file("train.txt")));
  EXPECT_FALSE(fs::exists(file("label.txt")));
}

TEST_F(CocoToMlclsTest, CategoriesMustMatchBetweenSplits) {
  const std::vector<json> variants = {
      json::array({coco_category(1, "cat"), coco_category(3, "dog"), coco_category(5, "bird")}),  // extra class
      json::array({coco_category(1, "cat"), coco_category(3, "puppy")}),                          // renamed
      json::array({coco_category(3, "dog"), coco_category(1, "cat")}),                            // reordered
  };
  write_train();
  const std::string val_path = (root() / "annotations" / "instance_val.json").string();
  for (const auto& categories : variants) {
    write_val("instance_val.json", categories);
    EXPECT_EQ(run_error_of([&] { convert(); }),
              val_path + ": categories differ from instance_train.json's (both splits need the same list, in the "
                         "same order)")
        << categories.dump();
  }
  EXPECT_FALSE(fs::exists(file("train.txt")));
}

TEST_F(CocoToMlclsTest, SplitWithoutUsableImagesIsAnError) {
  // Only gone.png is annotated, and its file is missing.
  write_annotations("instance_train.json",
                    coco_text(json::array({coco_image(1, "a.png"), coco_image(6, "gone.png")}), cat_dog(),
                              json::array({coco_annotation(6, 1)})));
  write_val();
  EXPECT_EQ(run_error_of([&] { convert(); }),
            (root() / "annotations" / "instance_train.json").string() + ": no annotated image with a file under " +
                tmp_.path() + "/images");
}

TEST_F(CocoToMlclsTest, EmptyCategoriesIsAnError) {
  write_annotations("instance_train.json",
                    coco_text(json::array({coco_image(1, "a.png")}), json::array(), json::array()));
  write_val();
  EXPECT_EQ(run_error_of([&] { convert(); }),
            (root() / "annotations" / "instance_train.json").string() + ": categories is empty");
}

}  // namespace
