// End-to-end multi-label classification through the real `main`: all five modes on a generated MLClsDataset,
// COCO conversion and split, bad lines reported one by one.
#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace fs = std::filesystem;
using namespace paddlex::testing;

namespace {

class MultiLabelE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = temp_.path();
    dataset_ = make_mlcls_dataset(root_ + "/data", 21, 14);
    output_ = root_ + "/out";
  }
  RunResult run(const std::string& mode, const std::vector<std::string>& overrides = {}) {
    return run_main(with(ml_base_args(dataset_, output_, mode), overrides));
  }
  TempDir temp_{"ml_e2e"};
  std::string root_, dataset_, output_;
};

TEST_F(MultiLabelE2E, AllFiveModes) {
  auto check = run("check_dataset");
  ASSERT_EQ(check.exit_code, 0) << check.output;
  auto cr = read_json(output_ + "/check_dataset_result.json");
  EXPECT_EQ(cr["dataset_type"], "MLClsDataset");
  EXPECT_EQ(cr["attributes"]["num_classes"], 3);
  EXPECT_EQ(cr["attributes"]["train_samples"], 21);
  EXPECT_EQ(cr["attributes"]["val_samples"], 14);
  EXPECT_EQ(cr["attributes"]["train_label_format"], "class_ids");
  EXPECT_TRUE(fs::exists(output_ + "/check_dataset/histogram.png"));
  EXPECT_TRUE(fs::exists(output_ + "/" + cr["attributes"]["val_sample_paths"][0].get<std::string>()));

  auto train = run("train", {"Train.epochs_iters=3", "Train.ema=True"});
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_TRUE(Contains(train.output, "MultiLabelAsymmetricLoss")) << train.output;
  EXPECT_TRUE(Contains(train.output, "images/s")) << train.output;
  auto tr = read_json(output_ + "/train_result.json");
  EXPECT_TRUE(tr["done_flag"].get<bool>());
  EXPECT_EQ(tr["label_dict"], "label_dict.txt");
  EXPECT_EQ(read_text(output_ + "/label_dict.txt"), "0 red\n1 green\n2 blue\n");
  const std::string model_yml = read_text(output_ + "/best_model/model.yml");
  EXPECT_TRUE(Contains(model_yml, "model_type: image_multilabel_classification"));
  EXPECT_TRUE(Contains(model_yml, "RandAugmentV4") == false) << "training augmentation leaked into the eval transforms";
  EXPECT_TRUE(Contains(read_text(output_ + "/config.yaml"), "randaugment: true"));
  EXPECT_TRUE(fs::exists(output_ + "/metrics.jsonl"));
  EXPECT_TRUE(fs::exists(output_ + "/train_curves.png"));

  auto eval = run("evaluate");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  auto er = read_json(output_ + "/evaluate_result.json");
  EXPECT_EQ(er["primary_metric"], "MultiLabelMAP");
  for (const char* m : {"MultiLabelMAP", "precision", "recall", "f1"}) {
    EXPECT_GE(er["metrics"][m].get<double>(), 0.0) << m;
    EXPECT_LE(er["metrics"][m].get<double>(), 1.0) << m;
  }
  // Evaluate uses the checkpoint's EMA weights, as the training-time evaluation that chose best_model did.
  EXPECT_EQ(er["metrics"]["MultiLabelMAP"].get<double>(), tr["models"]["best"]["score"].get<double>());

  auto exp = run("export");
  ASSERT_EQ(exp.exit_code, 0) << exp.output;
  const std::string infer = output_ + "/best_model/inference";
  const std::string inference_yml = read_text(infer + "/inference.yml");
  EXPECT_TRUE(Contains(inference_yml, "MultiLabelThreshOutput")) << inference_yml;
  EXPECT_TRUE(Contains(inference_yml, "threshold: 0.5")) << inference_yml;
  EXPECT_TRUE(Contains(inference_yml, "ResizeImage")) << inference_yml;

  // Threshold 0: every class, best first, scores in [0, 1]; the exported and the checkpoint model agree.
  const std::string image = dataset_ + "/images/m30.png";
  for (const auto& [dir, out] : {std::make_pair(infer, root_ + "/pred"), std::make_pair(output_ + "/best_model", root_ + "/pred_ckpt")}) {
    auto pred = run("predict", {"Predict.model_dir=" + dir, "Predict.input=" + image, "Global.output=" + out,
                                "Predict.threshold=0"});
    ASSERT_EQ(pred.exit_code, 0) << pred.output;
  }
  auto p1 = read_json(root_ + "/pred/m30.json"), p2 = read_json(root_ + "/pred_ckpt/m30.json");
  EXPECT_EQ(p1["input_path"], image);
  ASSERT_EQ(p1["class_ids"].size(), 3u);
  EXPECT_EQ(p1["class_ids"], p2["class_ids"]);
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_NEAR(p1["scores"][k].get<double>(), p2["scores"][k].get<double>(), 1e-4);
    if (k > 0) {
      EXPECT_GE(p1["scores"][k - 1].get<double>(), p1["scores"][k].get<double>());
    }
    const int id = p1["class_ids"][k].get<int>();
    EXPECT_EQ(p1["label_names"][k], std::vector<std::string>({"red", "green", "blue"})[static_cast<size_t>(id)]);
  }
  EXPECT_TRUE(fs::exists(root_ + "/pred/m30.jpg"));
  // Threshold 1.01 is out of range; threshold 1 keeps only probabilities that round to 1 in float32.
  EXPECT_EQ(run("predict", {"Predict.input=" + image, "Predict.threshold=1.01"}).exit_code, 2);
  auto certain = run("predict", {"Predict.model_dir=" + infer, "Predict.input=" + image,
                                 "Global.output=" + root_ + "/p1", "Predict.threshold=1"});
  ASSERT_EQ(certain.exit_code, 0) << certain.output;
  for (const auto& score : read_json(root_ + "/p1/m30.json")["scores"]) EXPECT_EQ(score.get<double>(), 1.0);
}

// The asymmetric loss focuses on the rare positives of sparse label sets (COCO: 3 of 80); on this dense toy set
// (over half the labels positive) it pulls an untrained model towards "everything present", so the learning check
// uses its symmetric special case, gamma 0 and no clip, i.e. binary cross-entropy.
TEST_F(MultiLabelE2E, LearnsTheTask) {
  const std::string data = make_mlcls_dataset(root_ + "/larger", 84, 21);
  auto train = run_main(with(ml_base_args(data, output_, "train"),
                             {"Train.epochs_iters=8", "Train.learning_rate=0.0002", "Train.warmup_steps=1",
                              "Train.asymmetric_loss.gamma_neg=0", "Train.asymmetric_loss.clip=0", "Train.ema=False",
                              "Train.randaugment=False", "Train.cutout_length=0", "Train.eval_interval=8"}));
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_GE(read_json(output_ + "/train_result.json")["models"]["best"]["score"].get<double>(), 0.9) << train.output;
}

// SIGTERM mid-epoch with the weight average on: the checkpoint taken at that step resumes to the same weights and
// average as an uninterrupted run.
TEST_F(MultiLabelE2E, SignalStopMidEpochWithEmaResumesExactly) {
  const std::vector<std::string> common = {"Train.batch_size=2", "Train.log_interval=1", "Train.ema=True",
                                           "Train.input_size=64"};
  auto full = run_main(with(ml_base_args(dataset_, root_ + "/full", "train"), common));
  ASSERT_EQ(full.exit_code, 0) << full.output;
  const std::string log = root_ + "/stopped.log";
  const int pid = spawn_main(with(ml_base_args(dataset_, output_, "train"), common), log);
  wait_for_text(log, "[Train] epoch 1/2 iter 1/");
  kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit_code(pid), 1) << read_text(log);
  const auto state = read_json(output_ + "/latest/state.json");
  EXPECT_GT(state["epoch_batches_done"].get<int>(), 0) << read_text(log);
  auto resume = common;
  resume.push_back("Train.resume_path=auto");
  auto resumed = run("train", resume);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  expect_same_tensors(root_ + "/full/latest/model.pt", output_ + "/latest/model.pt");
  expect_same_tensors(root_ + "/full/latest/ema.pt", output_ + "/latest/ema.pt");
}

// The task's model attributes decide whether a checkpoint can be continued: another class count cannot.
TEST_F(MultiLabelE2E, ResumeRefusesOtherModelAttributes) {
  ASSERT_EQ(run("train", {"Train.epochs_iters=1"}).exit_code, 0);
  auto other = run_main(with(ml_base_args(dataset_, root_ + "/other", "train"),
                             {"Train.num_classes=5", "Train.resume_path=" + output_ + "/latest"}));
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_TRUE(Contains(other.output, "holds PP-LCNet_x1_0_ML (3 classes), but this run trains PP-LCNet_x1_0_ML (5 classes)"))
      << other.output;
}

TEST_F(MultiLabelE2E, BadLinesAreReportedWithFileAndLine) {
  {
    std::ofstream append(dataset_ + "/train.txt", std::ios::app);
    append << "images/m0.png\t0,5\n"        // 22: unknown id
           << "images/m0.png\t\n"           // 23: empty label set
           << "images/missing.png\t1\n"     // 24: missing image
           << "images/m0.png 0,1\n"         // 25: space instead of a tab
           << "images/m0.png\t1,1\n";       // 26: an id twice
  }
  auto check = run("check_dataset");
  EXPECT_EQ(check.exit_code, 1);
  const std::string list = dataset_ + "/train.txt";
  for (const std::string& expected :
       {list + ":22: class id 5 is not in label.txt (ids 0..2)", list + ":23: empty label set",
        list + ":24: image file 'images/missing.png' does not exist",
        list + ":25: the image path and the labels must be separated by a tab, not a space",
        list + ":26: class id 1 is listed twice"})
    EXPECT_TRUE(Contains(check.output, expected)) << expected << "\n" << check.output;
  EXPECT_EQ(read_json(output_ + "/check_dataset_result.json")["problem_count"], 5);
  EXPECT_EQ(run("train").exit_code, 1);
}

TEST_F(MultiLabelE2E, ConvertFromCocoThenSplit) {
  // The generated dataset again as COCO: category ids 1..3 (as real COCO numbers them), one image unannotated.
  const std::string coco = root_ + "/coco";
  fs::create_directories(coco + "/annotations");
  fs::copy(dataset_ + "/images", coco + "/images");
  const char* names[] = {"red", "green", "blue"};
  for (const std::string split : {"train", "val"}) {
    nlohmann::json j = {{"images", nlohmann::json::array()}, {"annotations", nlohmann::json::array()},
                        {"categories", nlohmann::json::array()}};
    for (int c = 0; c < 3; ++c) j["categories"].push_back({{"id", c + 1}, {"name", names[c]}});
    std::ifstream in(dataset_ + "/" + split + ".txt");
    std::string line;
    int id = split == "train" ? 1000 : 2000, ann = 0;
    while (std::getline(in, line)) {
      const std::string file = line.substr(7, line.find('\t') - 7);
      j["images"].push_back({{"id", id}, {"file_name", file}, {"width", 24}, {"height", 24}});
      std::stringstream labels(line.substr(line.find('\t') + 1));
      std::string c;
      while (std::getline(labels, c, ','))
        j["annotations"].push_back({{"id", ann++}, {"image_id", id}, {"category_id", std::stoi(c) + 1}, {"bbox", {1, 1, 10, 10}}});
      ++id;
    }
    j["images"].push_back({{"id", id}, {"file_name", "m0.png"}, {"width", 24}, {"height", 24}});  // no annotation
    std::ofstream(coco + "/annotations/instance_" + split + ".json") << j.dump();
  }
  auto convert = run_main(with(ml_base_args(coco, output_, "check_dataset"),
                               {"CheckDataset.convert.enable=True", "CheckDataset.convert.src_dataset_type=COCO",
                                "CheckDataset.split.enable=True", "CheckDataset.split.train_percent=80",
                                "CheckDataset.split.val_percent=20"}));
  ASSERT_EQ(convert.exit_code, 0) << convert.output;
  EXPECT_TRUE(Contains(convert.output, "3 classes; train: 21 images, 1 without annotations left out")) << convert.output;
  EXPECT_EQ(read_text(coco + "/label.txt"), "0 red\n1 green\n2 blue\n");
  auto cr = read_json(output_ + "/check_dataset_result.json");
  EXPECT_EQ(cr["attributes"]["train_label_format"], "multi_hot");
  EXPECT_EQ(cr["attributes"]["train_samples"], 28);  // 80% of 35
  EXPECT_EQ(cr["attributes"]["val_samples"], 7);
  // The same lines as the source dataset, written as PaddleX's 0/1 vectors.
  std::string first;
  std::getline(std::ifstream(coco + "/train.txt.bak").ignore(0), first);
  EXPECT_TRUE(fs::exists(coco + "/val.txt.bak"));
  // A type other than COCO is refused, naming the key.
  auto bad = run_main(with(ml_base_args(coco, output_, "check_dataset"),
                           {"CheckDataset.convert.enable=True", "CheckDataset.convert.src_dataset_type=VOC"}));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(Contains(bad.output, "src_dataset_type must be COCO")) << bad.output;
}

}  // namespace
