// End-to-end: the real `main` binary through all five modes on a generated dataset, resume, pretrain and
// bad-input behaviour.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "test_util.h"
#include "paddlex/io/tensor_file.h"

namespace fs = std::filesystem;
using namespace paddlex::testing;

namespace {

class ClassificationE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = temp_.path();
    dataset_ = make_cls_dataset(root_ + "/data", 4, 6, 3);
    output_ = root_ + "/out";
  }
  RunResult run(const std::string& mode, const std::vector<std::string>& overrides = {}) {
    return run_main(with(base_args(dataset_, output_, mode), overrides));
  }
  // Starts `main`, sends SIGTERM as soon as training begins (so the stop lands mid-epoch) and returns what it
  // printed; the run must end with exit code 1.
  std::string stop_with_sigterm(const std::vector<std::string>& args) {
    const std::string log = root_ + "/stopped.log";
    const int pid = spawn_main(args, log);
    wait_for_text(log, "Training PP-LCNet");
    kill(pid, SIGTERM);
    const int exit_code = wait_exit_code(pid);
    const std::string text = read_text(log);
    EXPECT_EQ(exit_code, 1) << text;
    return text;
  }
  TempDir temp_{"e2e"};
  std::string root_, dataset_, output_;
};

TEST_F(ClassificationE2E, AllFiveModes) {
  auto check = run("check_dataset");
  ASSERT_EQ(check.exit_code, 0) << check.output;
  auto cr = read_json(output_ + "/check_dataset_result.json");
  EXPECT_TRUE(cr["done_flag"].get<bool>());
  EXPECT_TRUE(cr["check_pass"].get<bool>());
  EXPECT_EQ(cr["dataset_type"], "ClsDataset");
  EXPECT_EQ(cr["attributes"]["num_classes"], 4);
  EXPECT_EQ(cr["attributes"]["train_samples"], 24);
  EXPECT_EQ(cr["attributes"]["val_samples"], 12);
  EXPECT_TRUE(fs::exists(output_ + "/check_dataset/histogram.png"));
  EXPECT_TRUE(fs::exists(output_ + "/" + cr["attributes"]["train_sample_paths"][0].get<std::string>()));

  auto train = run("train", {"Train.epochs_iters=3", "Train.save_interval=2"});
  ASSERT_EQ(train.exit_code, 0) << train.output;
  auto tr = read_json(output_ + "/train_result.json");
  EXPECT_TRUE(tr["done_flag"].get<bool>());
  EXPECT_EQ(tr["model_name"], "PP-LCNet_x0_25");
  EXPECT_EQ(tr["models"]["last_1"]["weights"], "epoch_2/model.pt");
  EXPECT_FALSE(tr["models"].contains("last_2"));
  for (const char* dir : {"epoch_2", "latest", "best_model"})
    for (const char* file : {"model.pt", "optimizer.pt", "state.json", "model.yml"})
      EXPECT_TRUE(fs::exists(output_ + "/" + dir + "/" + file)) << dir << "/" << file;
  EXPECT_FALSE(fs::exists(output_ + "/epoch_1"));
  EXPECT_EQ(read_text(output_ + "/last_checkpoint"), "latest\n");
  EXPECT_NE(read_text(output_ + "/latest/model.yml").find("status: Normal"), std::string::npos);
  EXPECT_NE(read_text(output_ + "/train.log").find("[Eval] epoch 3"), std::string::npos);
  EXPECT_NE(read_text(output_ + "/config.yaml").find("epochs_iters: 3"), std::string::npos);
  EXPECT_EQ(read_json(output_ + "/latest/state.json")["completed_epochs"], 3);

  auto eval = run("evaluate", {"Evaluate.weight_path=" + output_ + "/best_model"});
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  auto er = read_json(output_ + "/evaluate_result.json");
  EXPECT_TRUE(er["done_flag"].get<bool>());
  const double top1 = er["metrics"]["val.top1"].get<double>();
  EXPECT_GE(top1, 0.0);
  EXPECT_LE(top1, er["metrics"]["val.top5"].get<double>());
  EXPECT_DOUBLE_EQ(top1, tr["models"]["best"]["score"].get<double>());
  // Evaluation preprocesses as the checkpoint was trained (model.yml), whatever input size this config has.
  auto eval_default_size = run("evaluate", {"Evaluate.weight_path=" + output_ + "/best_model",
                                            "Train.input_size=224", "Train.resize_short=256",
                                            "Global.output=" + root_ + "/eval2"});
  ASSERT_EQ(eval_default_size.exit_code, 0) << eval_default_size.output;
  EXPECT_EQ(read_json(root_ + "/eval2/evaluate_result.json")["metrics"], er["metrics"]);

  auto exp = run("export", {"Export.weight_path=" + output_ + "/best_model"});
  ASSERT_EQ(exp.exit_code, 0) << exp.output;
  const std::string infer = output_ + "/best_model/inference";
  EXPECT_NE(read_text(infer + "/model.yml").find("status: Infer"), std::string::npos);
  EXPECT_NE(read_text(infer + "/inference.yml").find("ResizeImage"), std::string::npos);
  for (const auto& [name, t] : paddlex::load_tensor_dict(infer + "/inference.pt"))
    EXPECT_EQ(name.find("bn."), std::string::npos) << "BatchNorm left in deployment weights: " << name;

  // The deployment model and the checkpoint predict the same scores.
  const std::string image = dataset_ + "/images/c2_7.png";
  auto pred = run("predict", {"Predict.model_dir=" + infer, "Predict.input=" + image, "Global.output=" + root_ + "/pred"});
  ASSERT_EQ(pred.exit_code, 0) << pred.output;
  auto pred_ckpt = run("predict", {"Predict.model_dir=" + output_ + "/best_model", "Predict.input=" + image,
                                   "Global.output=" + root_ + "/pred_ckpt"});
  ASSERT_EQ(pred_ckpt.exit_code, 0) << pred_ckpt.output;
  auto p1 = read_json(root_ + "/pred/c2_7.json"), p2 = read_json(root_ + "/pred_ckpt/c2_7.json");
  EXPECT_EQ(p1["input_path"], image);
  ASSERT_EQ(p1["class_ids"].size(), 4u);  // topk capped at num_classes
  EXPECT_EQ(p1["class_ids"], p2["class_ids"]);
  for (size_t k = 0; k < 4; ++k)
    EXPECT_NEAR(p1["scores"][k].get<double>(), p2["scores"][k].get<double>(), 1e-4);
  EXPECT_EQ(p1["label_names"][0], "class_" + std::to_string(p1["class_ids"][0].get<int>()));
  EXPECT_TRUE(fs::exists(root_ + "/pred/c2_7.jpg"));

  // A directory input predicts every image in it.
  auto dir_pred = run("predict", {"Predict.model_dir=" + infer, "Predict.input=" + dataset_ + "/images",
                                  "Predict.batch_size=5", "Global.output=" + root_ + "/pred_dir"});
  ASSERT_EQ(dir_pred.exit_code, 0) << dir_pred.output;
  EXPECT_EQ(read_json(root_ + "/pred_dir/predict_result.json")["results"].size(), 36u);
}

TEST_F(ClassificationE2E, LearnsTheTask) {
  // Three classes told apart by color (classes 3+ add a stripe orientation, too subtle for a few epochs from
  // scratch at 32 px); large enough for BatchNorm statistics to settle within a few epochs.
  const std::string data = make_cls_dataset(root_ + "/larger", 3, 30, 8);
  auto args = base_args(data, output_, "train");
  args[1] = std::string(PADDLEX_SOURCE_DIR) + "/paddlex/configs/image_classification/ResNet18.yaml";
  auto train = run_main(with(args, {"Train.epochs_iters=8", "Train.batch_size=16", "Train.learning_rate=0.01",
                                    "Train.warmup_steps=1", "Train.lr_scheduler.type=Cosine",
                                    "Train.random_crop_scale=[0.5, 1.0]", "Train.eval_interval=1"}));
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_GE(read_json(output_ + "/train_result.json")["models"]["best"]["score"].get<double>(), 0.9) << train.output;
}

// Caffe's TestSnapshot: 2 epochs in one run equal 1 epoch, a new process resuming, and 1 more epoch.
TEST_F(ClassificationE2E, ResumeIsBitExact) {
  auto full = run("train", {"Train.epochs_iters=2", "Train.warmup_steps=1"});
  ASSERT_EQ(full.exit_code, 0) << full.output;
  const std::string resumed = root_ + "/resumed";
  fs::create_directories(resumed);
  auto again = run_main(with(base_args(dataset_, resumed, "train"),
                             {"Train.epochs_iters=2", "Train.warmup_steps=1", "Train.resume_path=" + output_ + "/epoch_1"}));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("Resumed from"), std::string::npos);
  EXPECT_EQ(again.output.find("epoch 1/2"), std::string::npos) << "epoch 1 was trained again";
  expect_same_tensors(output_ + "/epoch_2/model.pt", resumed + "/epoch_2/model.pt");
  EXPECT_EQ(read_json(output_ + "/epoch_2/state.json")["global_step"],
            read_json(resumed + "/epoch_2/state.json")["global_step"]);

  // resume_path=auto continues from <output>/last_checkpoint; with all epochs done nothing is trained.
  auto autoresume = run("train", {"Train.epochs_iters=3", "Train.warmup_steps=1", "Train.resume_path=auto"});
  ASSERT_EQ(autoresume.exit_code, 0) << autoresume.output;
  EXPECT_NE(autoresume.output.find("epoch 3/3"), std::string::npos);
  EXPECT_EQ(read_json(output_ + "/latest/state.json")["completed_epochs"], 3);
}

// SIGTERM (Ctrl-C, a cluster's preemption) mid-epoch checkpoints at the step boundary; resuming continues at
// that batch and ends bit-identical to an uninterrupted run, wherever the signal landed.
TEST_F(ClassificationE2E, SignalStopsWithACheckpointAndResumeIsExact) {
  const std::vector<std::string> common = {"Train.epochs_iters=2", "Train.batch_size=2", "Train.log_interval=1",
                                           "Train.input_size=64", "Train.resize_short=64"};
  auto full = run_main(with(base_args(dataset_, root_ + "/full", "train"), common));
  ASSERT_EQ(full.exit_code, 0) << full.output;

  const std::string stopped = stop_with_sigterm(with(base_args(dataset_, output_, "train"), common));
  EXPECT_NE(stopped.find("stopped by signal 15 at epoch 1, iteration"), std::string::npos) << stopped;
  auto state = read_json(output_ + "/latest/state.json");
  EXPECT_EQ(state["completed_epochs"], 0);
  EXPECT_GT(state["epoch_batches_done"].get<int>(), 0);
  EXPECT_FALSE(read_json(output_ + "/train_result.json")["done_flag"].get<bool>());

  auto resume_overrides = common;
  resume_overrides.push_back("Train.resume_path=auto");
  auto resumed = run("train", resume_overrides);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("iterations of the next"), std::string::npos) << resumed.output;
  expect_same_tensors(root_ + "/full/latest/model.pt", output_ + "/latest/model.pt");
}

TEST_F(ClassificationE2E, PretrainSkipsMismatchedHeadAndRefusesDeploymentWeights) {
  ASSERT_EQ(run("train", {"Train.epochs_iters=1"}).exit_code, 0);
  const std::string other = root_ + "/other";
  auto pre = run_main(with(base_args(dataset_, other, "train"),
                           {"Train.epochs_iters=1", "Train.num_classes=7",
                            "Train.pretrain_weight_path=" + output_ + "/latest/model.pt"}));
  ASSERT_EQ(pre.exit_code, 0) << pre.output;
  EXPECT_NE(pre.output.find("skipped fc.weight: shape [4, 1280] in file, [7, 1280] in model"), std::string::npos)
      << pre.output;
  EXPECT_NE(read_text(other + "/train.log").find("skipped fc.bias"), std::string::npos);

  ASSERT_EQ(run("export", {"Export.weight_path=" + output_ + "/latest"}).exit_code, 0);
  auto refused = run_main(with(base_args(dataset_, root_ + "/third", "train"),
                               {"Train.pretrain_weight_path=" + output_ + "/latest/inference/inference.pt"}));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("BatchNorm folded"), std::string::npos) << refused.output;
}

TEST_F(ClassificationE2E, BadInputsExitWithClearErrors) {
  auto typo = run("train", {"Train.epoch_iters=3"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.output.find("did you mean Train.epochs_iters?"), std::string::npos) << typo.output;

  auto spaced = run_main({"-c", std::string(PADDLEX_SOURCE_DIR) + "/paddlex/configs/image_classification/ResNet18.yaml",
                          "-o", "Global.mode", "=", "train"});
  EXPECT_EQ(spaced.exit_code, 2);

  auto gpu = run("train", {"Global.device=gpu:0"});
  EXPECT_EQ(gpu.exit_code, 1);
  EXPECT_NE(gpu.output.find("no CUDA"), std::string::npos) << gpu.output;

  auto model = run("train", {"Global.model=ResNet19"});
  EXPECT_EQ(model.exit_code, 2);
  EXPECT_NE(model.output.find("ResNet18"), std::string::npos);

  auto missing = run("train", {"Global.dataset_dir=" + root_ + "/nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("nope"), std::string::npos);

  auto no_ckpt = run("evaluate", {"Evaluate.weight_path=" + root_ + "/none"});
  EXPECT_EQ(no_ckpt.exit_code, 1);
  EXPECT_FALSE(read_json(output_ + "/evaluate_result.json")["done_flag"].get<bool>());
}

TEST_F(ClassificationE2E, BrokenDatasetIsReportedLineByLine) {
  {
    std::ofstream append(dataset_ + "/train.txt", std::ios::app);
    append << "images/missing.png 1\n"
           << "images/c0_0.png 9\n"
           << "../outside.png 0\n";
  }
  auto check = run("check_dataset");
  EXPECT_EQ(check.exit_code, 1);
  const std::string list = dataset_ + "/train.txt";
  EXPECT_NE(check.output.find(list + ":25: image file 'images/missing.png' does not exist"), std::string::npos)
      << check.output;
  EXPECT_NE(check.output.find(list + ":26: label 9 is outside"), std::string::npos);
  EXPECT_NE(check.output.find(list + ":27: image path '../outside.png' leaves the dataset directory"),
            std::string::npos);
  auto result = read_json(output_ + "/check_dataset_result.json");
  EXPECT_FALSE(result["check_pass"].get<bool>());
  EXPECT_EQ(result["problem_count"], 3);
  // Training refuses the same dataset before any step.
  EXPECT_EQ(run("train").exit_code, 1);
}

TEST_F(ClassificationE2E, FailureNeverOverwritesAGoodResult) {
  ASSERT_EQ(run("check_dataset").exit_code, 0);
  { std::ofstream(dataset_ + "/val.txt", std::ios::app) << "images/missing.png 0\n"; }
  EXPECT_EQ(run("check_dataset").exit_code, 1);
  EXPECT_TRUE(read_json(output_ + "/check_dataset_result.json")["check_pass"].get<bool>());
  auto failed = read_json(output_ + "/check_dataset_result.failed.json");
  EXPECT_FALSE(failed["done_flag"].get<bool>());
  EXPECT_EQ(failed["problem_count"], 1);
}

}  // namespace

namespace {

// Our model.pt is read by Python's torch.load as a plain dict of tensors (python3-torch is a test dependency).
TEST_F(ClassificationE2E, ModelFileLoadsInPythonTorch) {
  if (!fs::exists("/usr/bin/python3") || std::system("/usr/bin/python3 -c 'import torch' 2>/dev/null") != 0)
    GTEST_SKIP() << "Debian's python3-torch is not installed";
  ASSERT_EQ(run("train", {"Train.epochs_iters=1"}).exit_code, 0);
  const std::string script = root_ + "/load.py";
  {
    std::ofstream py(script);
    py << "import sys, torch\n"
          "d = torch.load(sys.argv[1])\n"
          "assert isinstance(d, dict), type(d)\n"
          "assert d['fc.weight'].shape == (4, 1280), d['fc.weight'].shape\n"
          "assert d['conv1.bn.num_batches_tracked'].dtype == torch.int64\n"
          "print('tensors', len(d), 'sum', float(d['fc.weight'].double().sum()))\n";
  }
  const std::string cmd = "/usr/bin/python3 " + script + " " + output_ + "/latest/model.pt > " + root_ + "/py.txt 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read_text(root_ + "/py.txt");
  double sum = 0;
  for (const auto& [name, t] : paddlex::load_tensor_dict(output_ + "/latest/model.pt"))
    if (name == "fc.weight") sum = t.to(torch::kDouble).sum().item<double>();
  const std::string printed = read_text(root_ + "/py.txt");
  EXPECT_NEAR(std::stod(printed.substr(printed.find("sum ") + 4)), sum, 1e-9) << printed;
}

}  // namespace

TEST(MainBinary, HelpListsModesModelsAndKeys) {
  auto help = run_main({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* part : {"check_dataset", "predict", "PP-LCNet_x1_0", "MobileNetV3_small_x1_0",
                           "Train.epochs_iters (int, default 20", "Exit codes"})
    EXPECT_NE(help.output.find(part), std::string::npos) << part;
  auto none = run_main({});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.output.find("no config file"), std::string::npos) << none.output;
  auto missing = run_main({"-c", "/nonexistent.yaml"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("/nonexistent.yaml"), std::string::npos);
}

namespace {

// Self-launched data parallel training on two CPU processes (Gloo).
class DistributedE2E : public ClassificationE2E {
 protected:
  std::vector<std::string> two_ranks(const std::string& output, std::vector<std::string> overrides) {
    overrides.insert(overrides.end(), {"Global.device=cpu:0,1", "Train.epochs_iters=2", "Train.warmup_steps=1",
                                       "Global.dist_timeout=20"});
    auto args = base_args(dataset_, output, "train");
    for (const auto& o : overrides) args.insert(args.end(), {"-o", o});
    return args;
  }
};

TEST_F(DistributedE2E, SelfLaunchTrainsWritesOnceAndResumesExactly) {
  auto full = run_main(two_ranks(output_, {}));
  ASSERT_EQ(full.exit_code, 0) << full.output;
  EXPECT_NE(full.output.find("Launching 2 training processes"), std::string::npos);
  EXPECT_TRUE(read_json(output_ + "/train_result.json")["done_flag"].get<bool>());
  EXPECT_EQ(read_json(output_ + "/latest/state.json")["world_size"], 2);
  for (int r = 0; r < 2; ++r) {
    const std::string log = read_text(output_ + "/distributed_train_logs/rank_" + std::to_string(r) + ".log");
    EXPECT_NE(log.find("[Eval] epoch 2"), std::string::npos) << "rank " << r << ":\n" << log;
  }
  // 24 training images over 2 ranks at batch 8: each rank steps over its 12 in one full batch.
  EXPECT_NE(full.output.find("1 iteration per epoch, 2 epochs, device cpu"), std::string::npos) << full.output;
  EXPECT_NE(full.output.find(" per process, 2 processes"), std::string::npos) << full.output;

  const std::string resumed = root_ + "/resumed";
  auto again = run_main(two_ranks(resumed, {"Train.resume_path=" + output_ + "/epoch_1"}));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  expect_same_tensors(output_ + "/epoch_2/model.pt", resumed + "/epoch_2/model.pt");

  // Another world size is refused unless asked for.
  auto single = run("train", {"Train.epochs_iters=3", "Train.resume_path=" + output_ + "/epoch_2"});
  EXPECT_EQ(single.exit_code, 1);
  EXPECT_NE(single.output.find("trained with 2 processes, this run has 1"), std::string::npos) << single.output;
  auto allowed = run("train", {"Train.epochs_iters=3", "Train.resume_path=" + output_ + "/epoch_2",
                               "Train.resume_any_world_size=True"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.output;
  EXPECT_NE(allowed.output.find("not exactly"), std::string::npos);
}

// Ctrl-C / SIGTERM to the launcher reaches every rank: they stop at the same step, rank 0 checkpoints, the job
// says it was stopped (not that a rank failed), and resuming with two ranks ends bit-identical to an
// uninterrupted two-rank run.
TEST_F(DistributedE2E, SignalToTheLauncherStopsEveryRankAndResumesExactly) {
  const std::vector<std::string> common = {"Train.batch_size=2", "Train.log_interval=1"};
  auto full = run_main(two_ranks(root_ + "/full", common));
  ASSERT_EQ(full.exit_code, 0) << full.output;

  const std::string stopped = stop_with_sigterm(two_ranks(output_, common));
  EXPECT_NE(stopped.find("checkpoint saved in"), std::string::npos) << stopped;
  EXPECT_NE(stopped.find("stopped by signal 15 (rank exit codes 1, 1)"), std::string::npos) << stopped;
  EXPECT_EQ(stopped.find("failed with exit code"), std::string::npos) << stopped;

  auto resume = common;
  resume.push_back("Train.resume_path=auto");
  auto resumed = run_main(two_ranks(output_, resume));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  expect_same_tensors(root_ + "/full/latest/model.pt", output_ + "/latest/model.pt");
}

TEST_F(DistributedE2E, LosingARankFailsTheJobWithinTheTimeout) {
  // Rank 1 is an ordinary peer; rank 0 also hosts the rendezvous store.
  for (int victim : {1, 0}) {
    const std::string output = output_ + "_lose" + std::to_string(victim), log = output + ".log";
    auto args = two_ranks(output, {"Train.epochs_iters=50", "Global.dist_timeout=5", "Train.log_interval=1"});
    const auto start = std::chrono::steady_clock::now();
    const int pid = spawn_main(args, log);
    const std::string text = wait_for_text(log, "[Train] epoch 1");
    const std::string victim_pid = "rank " + std::to_string(victim) + ": pid ";
    const auto at = text.find(victim_pid);
    ASSERT_NE(at, std::string::npos) << text;
    kill(std::stoi(text.substr(at + victim_pid.size())), SIGKILL);
    EXPECT_EQ(wait_exit_code(pid), 1);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(seconds, 40.0);
    EXPECT_NE(read_text(log).find("rank " + std::to_string(victim) + " failed with exit code"), std::string::npos)
        << read_text(log);
    // The survivor names the rank it lost.
    const std::string survivor_log =
        read_text(output + "/distributed_train_logs/rank_" + std::to_string(1 - victim) + ".log");
    EXPECT_NE(survivor_log.find("missing peer: rank " + std::to_string(victim)), std::string::npos) << survivor_log;
  }
}

}  // namespace
