// Caffe's TestSnapshot through the real `main`, for every schedule and stateful component: a run of 2N equals N,
// a new process resuming, and N more, bit for bit (weights, buffers and the weight average), for single- and
// multi-label classification, with EMA off and on, counted in epochs and in iterations (where the checkpoint
// falls mid-epoch). Also: two Gloo ranks evaluate to exactly what one process computes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace fs = std::filesystem;
using namespace paddlex::testing;

namespace {

struct ResumeCase {
  bool multilabel, ema, iterations;
};

std::string case_name(const ::testing::TestParamInfo<ResumeCase>& info) {
  return std::string(info.param.multilabel ? "MultiLabel" : "Classification") + (info.param.ema ? "Ema" : "") +
         (info.param.iterations ? "Iterations" : "Epochs");
}

class ResumeE2E : public ::testing::TestWithParam<ResumeCase> {
 protected:
  std::vector<std::string> args(const std::string& output, std::vector<std::string> overrides) {
    const ResumeCase& c = GetParam();
    const auto base = c.multilabel ? ml_base_args(dataset_, output, "train") : base_args(dataset_, output, "train");
    overrides.push_back("Train.ema=" + std::string(c.ema ? "True" : "False"));
    overrides.push_back("Train.warmup_steps=1");
    if (c.iterations) {
      // 24 training images at batch 8: 3 steps per epoch; iteration 4 is inside the second.
      overrides.insert(overrides.end(), {"Train.schedule_unit=iters", "Train.epochs_iters=8", "Train.save_interval=4",
                                         "Train.eval_interval=3"});
    } else {
      overrides.insert(overrides.end(), {"Train.epochs_iters=2"});
    }
    return with(base, overrides);
  }
  void SetUp() override {
    dataset_ = GetParam().multilabel ? make_mlcls_dataset(temp_.file("data"), 24, 6)
                                     : make_cls_dataset(temp_.file("data"), 4, 6, 3);
  }
  TempDir temp_{"resume"};
  std::string dataset_;
};

TEST_P(ResumeE2E, TwoNEqualsNResumedPlusN) {
  const ResumeCase& c = GetParam();
  const std::string full = temp_.file("full"), resumed = temp_.file("resumed");
  auto first = run_main(args(full, {}));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const std::string middle = full + (c.iterations ? "/iter_4" : "/epoch_1");
  if (c.iterations) {
    EXPECT_NE(read_json(middle + "/state.json")["epoch_batches_done"], 0) << "not a mid-epoch checkpoint";
  }
  auto second = run_main(args(resumed, {"Train.resume_path=" + middle}));
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_TRUE(Contains(second.output, "Resumed from")) << second.output;
  expect_same_tensors(full + "/latest/model.pt", resumed + "/latest/model.pt");
  if (c.ema) expect_same_tensors(full + "/latest/ema.pt", resumed + "/latest/ema.pt");
  EXPECT_EQ(read_json(full + "/latest/state.json")["global_step"], read_json(resumed + "/latest/state.json")["global_step"]);
  EXPECT_EQ(read_json(full + "/latest/state.json")["best_metric"], read_json(resumed + "/latest/state.json")["best_metric"]);
}

INSTANTIATE_TEST_SUITE_P(Schedules, ResumeE2E,
                         ::testing::Values(ResumeCase{false, false, false}, ResumeCase{false, true, false},
                                           ResumeCase{false, false, true}, ResumeCase{false, true, true},
                                           ResumeCase{true, false, false}, ResumeCase{true, true, false},
                                           ResumeCase{true, false, true}, ResumeCase{true, true, true}),
                         case_name);

// Each of two Gloo ranks evaluates its share of the val batches; merged, the metrics equal a single process's
// evaluation of the same checkpoint exactly.
TEST(DistributedEvaluationE2E, TwoRanksEqualOneProcess) {
  TempDir temp("dist_eval");
  for (const bool multilabel : {false, true}) {
    SCOPED_TRACE(multilabel ? "multi-label" : "classification");
    const std::string data = multilabel ? make_mlcls_dataset(temp.file("ml"), 16, 13)
                                        : make_cls_dataset(temp.file("cls"), 4, 4, 5);
    const std::string out = temp.file(multilabel ? "ml_out" : "cls_out");
    auto base = multilabel ? ml_base_args(data, out, "train") : base_args(data, out, "train");
    // Batch 4 over 13 (or 20) val images: uneven shares, a short last batch.
    auto train = run_main(with(base, {"Global.device=cpu:0,1", "Train.epochs_iters=3", "Train.batch_size=4",
                                      "Global.dist_timeout=30"}));
    ASSERT_EQ(train.exit_code, 0) << train.output;
    const nlohmann::json distributed = last_eval(out);
    ASSERT_FALSE(distributed.empty());
    auto eval = run_main(with(multilabel ? ml_base_args(data, out, "evaluate") : base_args(data, out, "evaluate"),
                              {"Evaluate.weight_path=" + out + "/latest", "Train.batch_size=4"}));
    ASSERT_EQ(eval.exit_code, 0) << eval.output;
    const nlohmann::json single = read_json(out + "/evaluate_result.json")["metrics"];
    EXPECT_EQ(distributed, single) << distributed.dump() << "\n" << single.dump();
    EXPECT_TRUE(single.contains(multilabel ? "MultiLabelMAP" : "val.top5"));
  }
}

}  // namespace
