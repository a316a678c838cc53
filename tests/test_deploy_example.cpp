// The deployment example (deploy/: its own CMake project on OpenCV and yaml-cpp alone), configured and built as a
// user builds it, runs the export of the real PaddleX checkpoint (tests/data/paddlex_lcnet/) and prints main's
// predictions; bad input ends it with a message naming the path.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

#include "test_util.h"

namespace fs = std::filesystem;
using namespace paddlex::testing;

namespace {

const std::string kSource = PADDLEX_SOURCE_DIR;

class DeployExample : public ::testing::Test {
 protected:
  // One build of deploy/ serves every case here.
  static void SetUpTestSuite() {
    build_dir_ = std::make_unique<TempDir>("deploy_build");
    const std::string dir = shell_quote(build_dir_->path());
    build_ = run_shell("cmake -S " + shell_quote(kSource + "/deploy") + " -B " + dir +
                       " -DCMAKE_BUILD_TYPE=Release 2>&1 && cmake --build " + dir + " 2>&1");
  }
  static void TearDownTestSuite() { build_dir_.reset(); }
  void SetUp() override { ASSERT_EQ(build_.exit_code, 0) << "building deploy/ failed:\n" << build_.output; }

  struct Printed {
    int exit_code;
    std::string out, err;
  };
  static Printed classify(const std::vector<std::string>& args) {
    std::string command = shell_quote(build_dir_->file("classify"));
    for (const auto& a : args) command += " " + shell_quote(a);
    const std::string err = build_dir_->file("stderr.txt");
    const RunResult r = run_shell(command + " 2>" + shell_quote(err));
    return {r.exit_code, r.output, read_text(err)};
  }

  static inline std::unique_ptr<TempDir> build_dir_;
  static inline RunResult build_;
};

TEST_F(DeployExample, PrintsMainsPredictions) {
  TempDir temp("deploy_example");
  const auto exported = run_main({"-c", kPaddleXLcnetConfig, "-o", "Global.mode=export",
                                  "-o", "Global.dataset_dir=" + kPaddleXLcnet + "/dataset",
                                  "-o", "Export.weight_path=" + kPaddleXLcnet + "/output/best_model",
                                  "-o", "Global.output=" + temp.file("out")});
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  // train_2_020 is nearly a tie (0.445 against 0.435), train_1_010 has scores near 1e-5, val_3_009 is certain.
  fs::create_directories(temp.file("images"));
  std::vector<std::string> images;
  for (const std::string stem : {"train_1_010", "train_2_020", "val_3_009"}) {
    images.push_back(temp.file("images/" + stem + ".png"));
    fs::copy_file(kPaddleXLcnet + "/dataset/images/" + stem + ".png", images.back());
  }
  const auto predicted = run_main({"-c", kPaddleXLcnetConfig, "-o", "Global.mode=predict",
                                   "-o", "Predict.model_dir=" + temp.file("out/inference"),
                                   "-o", "Predict.input=" + temp.file("images"),
                                   "-o", "Global.output=" + temp.file("pred")});
  ASSERT_EQ(predicted.exit_code, 0) << predicted.output;

  std::vector<std::string> args = {temp.file("out/inference")};
  args.insert(args.end(), images.begin(), images.end());
  const Printed r = classify(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  size_t count = 0;
  for (; std::getline(lines, line); ++count) {
    ASSERT_LT(count, images.size()) << r.out;
    const auto got = nlohmann::json::parse(line);
    const auto want = read_json(temp.file("pred/" + fs::path(images[count]).stem().string() + ".json"));
    // Compared as typed vectors: gtest would print a json value as a container of itself.
    using Ids = std::vector<int64_t>;
    using Names = std::vector<std::string>;
    using Scores = std::vector<double>;
    EXPECT_EQ(got.at("input_path").get<std::string>(), images[count]);
    EXPECT_EQ(got.at("class_ids").get<Ids>(), want.at("class_ids").get<Ids>()) << line;
    EXPECT_EQ(got.at("label_names").get<Names>(), want.at("label_names").get<Names>()) << line;
    const auto scores = got.at("scores").get<Scores>(), expected = want.at("scores").get<Scores>();
    ASSERT_EQ(scores.size(), expected.size()) << line;
    for (size_t k = 0; k < scores.size(); ++k) EXPECT_NEAR(scores[k], expected[k], 2e-5) << line;
  }
  EXPECT_EQ(count, images.size()) << r.out;
}

TEST_F(DeployExample, AMissingExportDirectoryIsNamed) {
  TempDir temp("deploy_missing");
  const std::string missing = temp.file("no_such_export");
  const Printed r = classify({missing, kPaddleXLcnet + "/dataset/images/val_3_009.png"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.err, missing));
  EXPECT_EQ(r.out, "");
}

TEST_F(DeployExample, AnUnknownTransformOpIsNamedWithItsFile) {
  TempDir temp("deploy_unknown_op");
  const std::string yml = temp.write("inference.yml",
                                     "PreProcess:\n  transform_ops:\n    - ResizeImage: {size: 8}\n"
                                     "    - FancyCrop: {size: 4}\n"
                                     "PostProcess:\n  Topk: {topk: 1}\n"
                                     "Deploy: {model_file: inference.onnx}\n");
  const Printed r = classify({temp.path(), kPaddleXLcnet + "/dataset/images/val_3_009.png"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.err, yml + ": PreProcess.transform_ops[1].FancyCrop: unknown transform op 'FancyCrop'"));
}

}  // namespace
