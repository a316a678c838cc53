// End to end with a checkpoint trained by real PaddleX (tests/data/paddlex_lcnet/, written by
// tests/data/make_paddlex_checkpoint.sh): PP-LCNet_x0_25 on a tiny 4-class dataset, PaddleX's output directory
// as it leaves it (label_dict.txt beside best_model/, best_model/best_model.pdparams) and the top-1 that PaddleX's
// own evaluate reported for it.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace fs = std::filesystem;
using namespace paddlex::testing;

namespace {

const std::string kBestModel = kPaddleXLcnet + "/output/best_model";
constexpr double kValImages = 40;

double paddlex_top1() { return read_json(kPaddleXLcnet + "/output/evaluate_result.json")["metrics"]["val.top1"]; }

class PaddleXCheckpointE2E : public ::testing::Test {
 protected:
  // PaddleX's eval preprocessing for PP-LCNet_x0_25 (resize_short 256, centre crop 224) on the fixture's data.
  RunResult run(const std::string& mode, const std::vector<std::string>& overrides) {
    std::vector<std::string> all = {"Train.input_size=224", "Train.resize_short=256"};
    all.insert(all.end(), overrides.begin(), overrides.end());
    return run_main(with(base_args(kPaddleXLcnet + "/dataset", output_, mode), all));
  }
  TempDir temp_{"paddlex_ckpt"};
  std::string output_ = temp_.path() + "/out";
};

TEST_F(PaddleXCheckpointE2E, EvaluatesToTheTop1PaddleXReported) {
  for (const std::string& weights : {kBestModel, kBestModel + "/best_model.pdparams"}) {
    const auto r = run("evaluate", {"Evaluate.weight_path=" + weights});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(Contains(r.output, "with the 4 classes of '" + kPaddleXLcnet + "/output/label_dict.txt'"));
    const double top1 = read_json(output_ + "/evaluate_result.json")["metrics"]["val.top1"];
    EXPECT_NEAR(top1, paddlex_top1(), 1.0 / kValImages + 1e-9) << weights;
  }
}

TEST_F(PaddleXCheckpointE2E, FineTuningStartsFromItsAccuracy) {
  const auto r = run("train", {"Train.pretrain_weight_path=" + kBestModel, "Train.eval_before_train=True",
                               "Train.epochs_iters=1", "Train.batch_size=32", "Train.learning_rate=0.0001"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // PaddlePaddle's 146 tensors plus the num_batches_tracked of 27 BatchNorms, which it does not keep.
  EXPECT_TRUE(Contains(r.output, "173 tensors loaded, 0 skipped, 0 left at their initial values"));
  std::ifstream log(output_ + "/metrics.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(log, line));
  const auto first = nlohmann::json::parse(line);
  EXPECT_EQ(first["type"], "eval");
  EXPECT_EQ(first["step"], 0);
  EXPECT_NEAR(first["metrics"]["val.top1"].get<double>(), paddlex_top1(), 1.0 / kValImages + 1e-9) << r.output;
}

TEST_F(PaddleXCheckpointE2E, PretrainingWithAnotherClassCountSkipsTheHead) {
  const auto r = run("train", {"Train.pretrain_weight_path=" + kBestModel + "/best_model.pdparams",
                               "Train.num_classes=6", "Train.epochs_iters=1", "Train.input_size=32",
                               "Train.resize_short=36"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "171 tensors loaded, 2 skipped"));
  EXPECT_TRUE(Contains(r.output, "skipped fc.weight: shape [4, 1280] in file, [6, 1280] in model"));
}

TEST_F(PaddleXCheckpointE2E, ResumingItIsRefusedWithTheWayToStartFromIt) {
  const auto r = run("train", {"Train.resume_path=" + kBestModel});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.output, "is a PaddleX/PaddlePaddle checkpoint"));
  EXPECT_TRUE(Contains(r.output, "Train.pretrain_weight_path=" + kBestModel + "/best_model.pdparams"));
}

TEST_F(PaddleXCheckpointE2E, ResumingItsOptimizerStateOrPrefixIsRefusedToo) {
  for (const std::string& path : {kBestModel + "/best_model.pdstates", kBestModel + "/best_model"}) {
    const auto r = run("train", {"Train.resume_path=" + path});
    EXPECT_NE(r.exit_code, 0) << path;
    EXPECT_TRUE(Contains(r.output, "Train.pretrain_weight_path=" + kBestModel + "/best_model.pdparams"))
        << path;
  }
}

TEST_F(PaddleXCheckpointE2E, PretrainingFromAnotherModelStops) {
  const auto r = run("train", {"Global.model=PP-LCNet_x1_0", "Train.num_classes=6",
                               "Train.pretrain_weight_path=" + kBestModel});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(Contains(r.output, "no tensor of"));
  EXPECT_TRUE(Contains(r.output, "fits PP-LCNet_x1_0"));
}

TEST_F(PaddleXCheckpointE2E, ExportsAndPredicts) {
  const auto exported = run("export", {"Export.weight_path=" + kBestModel});
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  ASSERT_TRUE(fs::exists(output_ + "/inference/inference.pt"));  // in Global.output: best_model/ is PaddleX's
  EXPECT_FALSE(fs::exists(kBestModel + "/inference"));
  const auto predicted = run("predict", {"Predict.model_dir=" + output_ + "/inference",
                                         "Predict.input=" + kPaddleXLcnet + "/dataset/images", "Predict.batch_size=16"});
  ASSERT_EQ(predicted.exit_code, 0) << predicted.output;
  // The exported model's top-1 over the val images is PaddleX's too.
  std::ifstream val(kPaddleXLcnet + "/dataset/val.txt");
  std::string path;
  int64_t label = 0, correct = 0;
  while (val >> path >> label) {
    const auto result = read_json(output_ + "/" + fs::path(path).stem().string() + ".json");
    correct += result["class_ids"][0].get<int64_t>() == label;
  }
  EXPECT_NEAR(correct / kValImages, paddlex_top1(), 1.0 / kValImages + 1e-9);
}

TEST_F(PaddleXCheckpointE2E, AnotherModelsWeightsAreListedNotLoaded) {
  const auto r = run("evaluate", {"Global.model=PP-LCNet_x1_0", "Evaluate.weight_path=" + kBestModel});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(Contains(r.output, "do not fit the model"));
  EXPECT_TRUE(Contains(r.output, "conv1.conv.weight: shape [8, 3, 3, 3] in file, [16, 3, 3, 3] in model"));
}

TEST_F(PaddleXCheckpointE2E, PredictAsksForAnExportFirst) {
  const auto r = run("predict", {"Predict.model_dir=" + kBestModel, "Predict.input=" + kPaddleXLcnet + "/dataset/images"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.output, "is a PaddleX checkpoint; export it first"));
}

TEST_F(PaddleXCheckpointE2E, WeightsWithoutAClassListSayWhatIsMissing) {
  fs::create_directories(temp_.file("alone"));
  fs::copy_file(kBestModel + "/best_model.pdparams", temp_.file("alone/best_model.pdparams"));
  const auto r = run("export", {"Export.weight_path=" + temp_.file("alone"), "Global.dataset_dir=null"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.output, "without the class list"));
  EXPECT_TRUE(Contains(r.output, "Global.dataset_dir is not set"));
}

TEST_F(PaddleXCheckpointE2E, ExportDoesNotReplaceADirectoryItDidNotWrite) {
  fs::create_directories(temp_.file("theirs"));
  temp_.write("theirs/inference.json", "{}");
  const auto r = run("export", {"Export.weight_path=" + kBestModel, "Export.save_dir=" + temp_.file("theirs")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.output, "holds files this engine did not export"));
  EXPECT_TRUE(fs::exists(temp_.file("theirs/inference.json")));
}

}  // namespace
