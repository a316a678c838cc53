// End-to-end text recognition through the real `main`: rendered text lines (MSTextRecDataset) through all five
// modes, a model that learns them, and the bad inputs of the format.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "test_util.h"

namespace fs = std::filesystem;
using namespace paddlex::testing;

namespace {

// Lines of 1-3 digits rendered in a Hershey font on a light background with noise: dict.txt holds 0-9,
// train.txt and val.txt the lines.
std::string make_text_rec_dataset(const std::string& dir, int train, int val) {
  fs::create_directories(fs::path(dir) / "images");
  std::mt19937 rng(5);
  std::ofstream dict(fs::path(dir) / "dict.txt");
  for (char c = '0'; c <= '9'; ++c) dict << c << "\n";
  std::ofstream train_list(fs::path(dir) / "train.txt"), val_list(fs::path(dir) / "val.txt");
  std::uniform_int_distribution<int> digit(0, 9), length(1, 3), shade(200, 255);
  for (int i = 0; i < train + val; ++i) {
    std::string text;
    for (int k = length(rng); k > 0; --k) text += static_cast<char>('0' + digit(rng));
    cv::Mat img(32, 16 + 20 * static_cast<int>(text.size()), CV_8UC3, cv::Scalar::all(shade(rng)));
    cv::putText(img, text, {6, 24}, cv::FONT_HERSHEY_SIMPLEX, 0.8, cv::Scalar(20, 20, 20), 2);
    const std::string name = "images/line" + std::to_string(i) + ".png";
    cv::imwrite((fs::path(dir) / name).string(), img);
    (i < train ? train_list : val_list) << name << "\t" << text << "\n";
  }
  return dir;
}

std::vector<std::string> rec_args(const std::string& dataset, const std::string& output, const std::string& mode) {
  return {"-c", std::string(PADDLEX_SOURCE_DIR) + "/paddlex/configs/text_recognition/PP-OCRv4_mobile_rec.yaml",
          "-o", "Global.mode=" + mode,
          "-o", "Global.dataset_dir=" + dataset,
          "-o", "Global.output=" + output,
          "-o", "Train.rec_image_shape=[3,48,96]",
          "-o", "Train.multi_scale_heights=[48]",
          "-o", "Train.batch_size=8",
          "-o", "Train.warmup_steps=0",
          "-o", "Train.log_interval=5",
          "-o", "Train.num_workers=1"};
}

class TextRecE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = temp_.path();
    dataset_ = make_text_rec_dataset(root_ + "/data", 160, 16);
    output_ = root_ + "/out";
  }
  RunResult run(const std::string& mode, const std::vector<std::string>& overrides = {}) {
    return run_main(with(rec_args(dataset_, output_, mode), overrides));
  }
  TempDir temp_{"rec_e2e"};
  std::string root_, dataset_, output_;
};

TEST_F(TextRecE2E, AllFiveModesAndTheModelLearns) {
  auto check = run("check_dataset");
  ASSERT_EQ(check.exit_code, 0) << check.output;
  auto cr = read_json(output_ + "/check_dataset_result.json");
  EXPECT_EQ(cr["dataset_type"], "MSTextRecDataset");
  EXPECT_TRUE(cr["check_pass"].get<bool>());
  EXPECT_EQ(cr["attributes"]["train_samples"], 160);
  EXPECT_EQ(cr["attributes"]["val_samples"], 16);
  EXPECT_EQ(cr["attributes"]["num_characters"], 11);  // 10 digits and the appended space
  EXPECT_TRUE(fs::exists(output_ + "/check_dataset/histogram.png"));
  EXPECT_TRUE(fs::exists(output_ + "/" + cr["attributes"]["train_sample_paths"][0].get<std::string>()));

  // From scratch the NRTR branch, which alone trains the backbone, needs a couple of hundred steps before it
  // starts reading the image: 240 steps on short lines without RecAug reach acc ~0.37 (0 untrained).
  auto train = run("train", {"Train.epochs_iters=12", "Train.rec_aug=False", "Train.rec_con_aug_prob=0",
                             "Train.learning_rate=0.001", "Train.warmup_steps=1", "Train.eval_interval=12",
                             "Train.save_interval=12"});
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_TRUE(Contains(train.output, "CTCLoss")) << train.output;
  EXPECT_TRUE(Contains(train.output, "NRTRLoss")) << train.output;
  EXPECT_TRUE(Contains(train.output, "lines/s")) << train.output;
  EXPECT_EQ(read_text(output_ + "/label_dict.txt"), "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n");
  auto tr = read_json(output_ + "/train_result.json");
  EXPECT_TRUE(tr["done_flag"].get<bool>());
  const double trained_acc = tr["models"]["best"]["score"].get<double>();
  EXPECT_GE(trained_acc, 0.2) << train.output;
  const std::string model_yml = read_text(output_ + "/best_model/model.yml");
  EXPECT_TRUE(Contains(model_yml, "model_type: text_recognition"));
  EXPECT_TRUE(Contains(model_yml, "RecResizeImg"));

  auto eval = run("evaluate");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  auto er = read_json(output_ + "/evaluate_result.json");
  EXPECT_EQ(er["primary_metric"], "acc");
  EXPECT_EQ(er["metrics"]["acc"].get<double>(), trained_acc);
  EXPECT_GE(er["metrics"]["norm_edit_dis"].get<double>(), 0.45);
  EXPECT_GE(er["metrics"]["norm_edit_dis"].get<double>(), er["metrics"]["acc"].get<double>());

  auto exp = run("export");
  ASSERT_EQ(exp.exit_code, 0) << exp.output;
  const std::string infer = output_ + "/best_model/inference";
  const std::string inference_yml = read_text(infer + "/inference.yml");
  EXPECT_TRUE(Contains(inference_yml, "CTCLabelDecode")) << inference_yml;
  EXPECT_TRUE(Contains(inference_yml, "character_dict")) << inference_yml;
  EXPECT_TRUE(fs::exists(infer + "/inference.onnx"));

  // Every run mode reads the same text from a val line, and it is the text most often right.
  std::string val_line;
  std::getline(std::ifstream(dataset_ + "/val.txt"), val_line);
  const std::string image = dataset_ + "/" + val_line.substr(0, val_line.find('\t'));
  std::string first_text;
  for (const std::string mode : {"paddle", "onnx", "libtorch"}) {
    const std::string out = root_ + "/pred_" + mode;
    auto pred = run("predict", {"Predict.model_dir=" + infer, "Predict.input=" + image, "Global.output=" + out,
                                "Predict.kernel_option.run_mode=" + mode});
    ASSERT_EQ(pred.exit_code, 0) << pred.output;
    auto pr = read_json(out + "/predict_result.json");
    const auto& r = pr["results"][0];
    ASSERT_TRUE(r.contains("rec_text") && r.contains("rec_score")) << pr.dump();
    EXPECT_GE(r["rec_score"].get<double>(), 0.0);
    EXPECT_LE(r["rec_score"].get<double>(), 1.0);
    if (first_text.empty()) first_text = r["rec_text"].get<std::string>();
    EXPECT_EQ(r["rec_text"], first_text) << mode;
    EXPECT_TRUE(fs::exists(out + "/" + fs::path(image).stem().string() + ".jpg")) << mode;
  }
}

// A run of 2 epochs equals 1 epoch, a new process resuming, and 1 more, bit for bit, with every random path on:
// RecConAug, RecAug, the per-batch height and 2 loader threads.
TEST(TextRecResume, TwoEpochsEqualOneResumedPlusOne) {
  TempDir temp("rec_resume");
  const std::string dataset = make_text_rec_dataset(temp.file("data"), 16, 8);
  const auto args = [&](const std::string& output, const std::vector<std::string>& extra) {
    std::vector<std::string> overrides = {"Train.epochs_iters=2", "Train.rec_image_shape=[3,48,64]",
                                          "Train.multi_scale_heights=[32,48]", "Train.num_workers=2",
                                          "Train.warmup_steps=1"};
    overrides.insert(overrides.end(), extra.begin(), extra.end());
    return with(rec_args(dataset, output, "train"), overrides);
  };
  const std::string full = temp.file("full"), resumed = temp.file("resumed");
  auto first = run_main(args(full, {}));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  auto second = run_main(args(resumed, {"Train.resume_path=" + full + "/epoch_1"}));
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_TRUE(Contains(second.output, "Resumed from")) << second.output;
  expect_same_tensors(full + "/latest/model.pt", resumed + "/latest/model.pt");
}

// Two Gloo ranks each evaluate a share of the val lines; merged, acc and norm_edit_dis equal one process's bit for
// bit (13 lines at batch 4: uneven shares and a short last batch).
TEST(TextRecDistributed, TwoRanksEvaluateAsOneProcess) {
  TempDir temp("rec_dist");
  const std::string dataset = make_text_rec_dataset(temp.file("data"), 16, 13);
  const std::string out = temp.file("out");
  const std::vector<std::string> small = {"Train.rec_image_shape=[3,48,64]", "Train.multi_scale_heights=[48]",
                                          "Train.batch_size=4"};
  auto overrides = small;
  overrides.insert(overrides.end(), {"Global.device=cpu:0,1", "Train.epochs_iters=2", "Global.dist_timeout=60"});
  auto train = run_main(with(rec_args(dataset, out, "train"), overrides));
  ASSERT_EQ(train.exit_code, 0) << train.output;
  const nlohmann::json distributed = last_eval(out);
  ASSERT_TRUE(distributed.contains("norm_edit_dis")) << distributed.dump();
  auto eval_overrides = small;
  eval_overrides.push_back("Evaluate.weight_path=" + out + "/latest");
  auto eval = run_main(with(rec_args(dataset, out, "evaluate"), eval_overrides));
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_EQ(distributed, read_json(out + "/evaluate_result.json")["metrics"]);
}

TEST_F(TextRecE2E, BadDatasetsAreNamedFileAndLine) {
  std::ofstream(dataset_ + "/train.txt", std::ios::app) << "images/line0.png 12\n"     // no tab
                                                        << "images/missing.png\t12\n"  // no image
                                                        << "images/line1.png\t1x2\n";  // x not in dict
  auto check = run("check_dataset");
  EXPECT_NE(check.exit_code, 0) << check.output;
  auto cr = read_json(output_ + "/check_dataset_result.json");
  EXPECT_FALSE(cr["check_pass"].get<bool>());
  const std::string problems = cr["problems"].dump();
  EXPECT_TRUE(Contains(problems, "train.txt:161: expected '<image path><TAB><text>'")) << problems;
  EXPECT_TRUE(Contains(problems, "train.txt:162")) << problems;
  EXPECT_TRUE(Contains(problems, "train.txt:163: characters not in dict.txt: 'x'")) << problems;

  auto train = run("train", {"Train.epochs_iters=1"});
  EXPECT_NE(train.exit_code, 0);
  EXPECT_TRUE(Contains(train.output, "train.txt:161")) << train.output;

  fs::remove(dataset_ + "/dict.txt");
  auto no_dict = run("train", {"Train.epochs_iters=1"});
  EXPECT_NE(no_dict.exit_code, 0);
  EXPECT_TRUE(Contains(no_dict.output, "dict.txt: the character dict is missing")) << no_dict.output;

  std::ofstream(dataset_ + "/dict.txt") << "0\n12\n";
  auto bad_dict = run("train", {"Train.epochs_iters=1"});
  EXPECT_NE(bad_dict.exit_code, 0);
  EXPECT_TRUE(Contains(bad_dict.output, "dict.txt:2")) << bad_dict.output;

  auto bad_shape = run("train", {"Train.rec_image_shape=[3,32,320]"});
  EXPECT_NE(bad_shape.exit_code, 0);
  EXPECT_TRUE(Contains(bad_shape.output, "Train.rec_image_shape must be [3, 48, width]")) << bad_shape.output;
}

}  // namespace
