// Config: YAML file + `-o` overrides checked against the one schema (DESIGN.md "Config").
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"
#include "paddlex/core/config.h"
#include "paddlex/core/config_schema.h"
#include "paddlex/core/errors.h"
#include "paddlex/modules/registry.h"

using namespace paddlex::testing;

namespace {

namespace fs = std::filesystem;
using paddlex::Config;
using paddlex::ConfigError;

const std::string kBase = "Global:\n  model: ResNet18\n";

// The ConfigError message of `fn`, or a test failure when it does not throw one.
template <typename Fn>
std::string config_error(Fn fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected ConfigError, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected ConfigError, nothing was thrown";
  return "";
}

std::string override_error(const std::vector<std::string>& overrides, const std::string& text = kBase) {
  return config_error([&] { Config::from_text(text, overrides, paddlex::schema_for_model); });
}

// ---------------------------------------------------------------- values

TEST(Config, DefaultsFillEveryUnsetKey) {
  Config cfg = Config::from_text(kBase, {}, paddlex::schema_for_model);
  EXPECT_EQ(cfg.get_string("Global.model"), "ResNet18");
  EXPECT_EQ(cfg.get_string("Global.mode"), "check_dataset");
  EXPECT_EQ(cfg.get_string("Global.device"), "cpu");
  EXPECT_EQ(cfg.get_int("Train.batch_size"), 64);
  EXPECT_EQ(cfg.get_int("Train.epochs_iters"), 20);
  EXPECT_DOUBLE_EQ(cfg.get_float("Train.learning_rate"), 0.1);
  EXPECT_TRUE(cfg.get_bool("Train.random_flip"));
  EXPECT_FALSE(cfg.get_bool("CheckDataset.split.enable"));
  EXPECT_EQ(cfg.get_int_list("Train.lr_scheduler.milestones"), (std::vector<int64_t>{30, 60, 90}));
  EXPECT_EQ(cfg.get_float_list("Train.mean"), (std::vector<double>{0.485, 0.456, 0.406}));
  EXPECT_TRUE(cfg.is_null("Train.num_classes"));
  EXPECT_TRUE(cfg.is_null("Global.dataset_dir"));
  EXPECT_EQ(cfg.get_int_or("Train.num_classes", 7), 7);
  EXPECT_EQ(cfg.origin("Train.batch_size"), "default");
  // Every schema key has a value.
  for (const auto* group : cfg.schema().groups)
    for (const auto& spec : group->keys) EXPECT_NO_THROW(cfg.is_null(spec.key)) << spec.key;
}

TEST(Config, FileValuesAreTyped) {
  const std::string text = kBase +
                           "  mode: train\n"
                           "  seed: 7\n"
                           "Train:\n"
                           "  epochs_iters: 3\n"
                           "  learning_rate: 0.05\n"
                           "  random_flip: False\n"
                           "  mean: [0.5, 0.25, 1]\n"
                           "  lr_scheduler:\n"
                           "    type: Piecewise\n"
                           "    milestones: [2, 5]\n";
  Config cfg = Config::from_text(text, {}, paddlex::schema_for_model, "my.yaml");
  EXPECT_EQ(cfg.get_string("Global.mode"), "train");
  EXPECT_EQ(cfg.get_int("Global.seed"), 7);
  EXPECT_EQ(cfg.get_int("Train.epochs_iters"), 3);
  EXPECT_DOUBLE_EQ(cfg.get_float("Train.learning_rate"), 0.05);
  EXPECT_FALSE(cfg.get_bool("Train.random_flip"));
  EXPECT_EQ(cfg.get_float_list("Train.mean"), (std::vector<double>{0.5, 0.25, 1.0}));
  EXPECT_EQ(cfg.get_string("Train.lr_scheduler.type"), "Piecewise");
  EXPECT_EQ(cfg.get_int_list("Train.lr_scheduler.milestones"), (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(cfg.origin("Train.epochs_iters"), "my.yaml:6");
}

TEST(Config, OverridesAreTypedBySchema) {
  Config cfg = Config::from_text(kBase, {"Train.learning_rate=1e-3", "Train.random_flip=false", "Train.batch_size=16",
                                         "Train.lr_scheduler.milestones=[5, 10]", "Global.output=/tmp/out dir",
                                         "Global.model=PP-LCNet_x1_0"}, paddlex::schema_for_model);
  EXPECT_DOUBLE_EQ(cfg.get_float("Train.learning_rate"), 0.001);
  EXPECT_FALSE(cfg.get_bool("Train.random_flip"));
  EXPECT_EQ(cfg.get_int("Train.batch_size"), 16);
  EXPECT_EQ(cfg.get_int_list("Train.lr_scheduler.milestones"), (std::vector<int64_t>{5, 10}));
  EXPECT_EQ(cfg.get_string("Global.output"), "/tmp/out dir");
  EXPECT_EQ(cfg.get_string("Global.model"), "PP-LCNet_x1_0");
  EXPECT_EQ(cfg.origin("Train.batch_size"), "-o Train.batch_size=16");
}

TEST(Config, LaterOverrideWinsOverEarlierAndOverFile) {
  const std::string text = kBase + "Train:\n  epochs_iters: 7\n";
  Config cfg = Config::from_text(text, {"Train.epochs_iters=3", "Train.epochs_iters=9"}, paddlex::schema_for_model);
  EXPECT_EQ(cfg.get_int("Train.epochs_iters"), 9);
  EXPECT_EQ(cfg.origin("Train.epochs_iters"), "-o Train.epochs_iters=9");
  Config only_file = Config::from_text(text, {}, paddlex::schema_for_model);
  EXPECT_EQ(only_file.get_int("Train.epochs_iters"), 7);
}

TEST(Config, ListIndexOverride) {
  Config from_default = Config::from_text(kBase, {"Train.mean.0=0.5"}, paddlex::schema_for_model);
  EXPECT_EQ(from_default.get_float_list("Train.mean"), (std::vector<double>{0.5, 0.456, 0.406}));

  Config from_file = Config::from_text(kBase + "Train:\n  mean: [0.1, 0.2, 0.3]\n", {"Train.mean.2=0.9"}, paddlex::schema_for_model);
  EXPECT_EQ(from_file.get_float_list("Train.mean"), (std::vector<double>{0.1, 0.2, 0.9}));

  Config ints = Config::from_text(kBase, {"Train.lr_scheduler.milestones.1=45"}, paddlex::schema_for_model);
  EXPECT_EQ(ints.get_int_list("Train.lr_scheduler.milestones"), (std::vector<int64_t>{30, 45, 90}));

  // The element is type-checked like the whole list.
  std::string msg = override_error({"Train.lr_scheduler.milestones.1=4.5"});
  EXPECT_TRUE(Contains(msg, "Train.lr_scheduler.milestones"));
  EXPECT_TRUE(Contains(msg, "4.5"));
}

TEST(Config, ListIndexOutOfRangeIsAnError) {
  std::string msg = override_error({"Train.mean.3=0.5"});
  EXPECT_TRUE(Contains(msg, "Train.mean"));
  EXPECT_TRUE(Contains(msg, "3"));
  EXPECT_TRUE(Contains(msg, "size 3"));
}

TEST(Config, HugeListIndexIsAConfigError) {
  // Regression: std::stoul on the index used to escape as std::out_of_range ("stoul", exit 1).
  std::string msg = override_error({"Train.mean.99999999999999999999999=0.5"});
  EXPECT_TRUE(Contains(msg, "Train.mean"));
}

// ---------------------------------------------------------------- unknown keys

TEST(Config, UnknownKeyInFileNamesFileLineAndNearestKey) {
  TempDir dir("config");
  const std::string path = dir.write("cfg.yaml",
                                     "Global:\n"            // 1
                                     "  model: ResNet18\n"  // 2
                                     "Train:\n"             // 3
                                     "  batch_size: 8\n"    // 4
                                     "  epoch_iters: 5\n"); // 5
  std::string msg = config_error([&] { Config::load(path, {}, paddlex::schema_for_model); });
  EXPECT_TRUE(Contains(msg, path + ":5"));
  EXPECT_TRUE(Contains(msg, "Train.epoch_iters"));
  EXPECT_TRUE(Contains(msg, "did you mean Train.epochs_iters"));
}

TEST(Config, LoadReadsFileAndAppliesOverrides) {
  TempDir dir("config");
  const std::string path = dir.write("cfg.yaml", kBase + "Train:\n  batch_size: 8\n");
  Config cfg = Config::load(path, {"Train.epochs_iters=2"}, paddlex::schema_for_model);
  EXPECT_EQ(cfg.get_int("Train.batch_size"), 8);
  EXPECT_EQ(cfg.get_int("Train.epochs_iters"), 2);
  EXPECT_EQ(cfg.origin("Train.batch_size"), path + ":4");
}

TEST(Config, MissingFileIsAConfigError) {
  std::string msg = config_error([] { Config::load("/nonexistent/dir/cfg.yaml", {}, paddlex::schema_for_model); });
  EXPECT_TRUE(Contains(msg, "/nonexistent/dir/cfg.yaml"));
}

TEST(Config, UnknownOverrideKeyNamesKeyAndNearest) {
  std::string msg = override_error({"Train.learnig_rate=0.1"});
  EXPECT_TRUE(Contains(msg, "Train.learnig_rate"));
  EXPECT_TRUE(Contains(msg, "Train.learning_rate"));
}

TEST(Config, LowerCaseSectionSuggestsProperKey) {
  std::string msg = override_error({"global.mode=train"});
  EXPECT_TRUE(Contains(msg, "global.mode"));
  EXPECT_TRUE(Contains(msg, "did you mean Global.mode"));
}

// ---------------------------------------------------------------- wrong values

TEST(Config, WrongTypeNamesKeyTypeAndValue) {
  std::string msg = override_error({"Train.epochs_iters=0.5"});
  EXPECT_TRUE(Contains(msg, "Train.epochs_iters"));
  EXPECT_TRUE(Contains(msg, "int"));
  EXPECT_TRUE(Contains(msg, "0.5"));

  msg = override_error({"Train.random_flip=maybe"});
  EXPECT_TRUE(Contains(msg, "Train.random_flip"));
  EXPECT_TRUE(Contains(msg, "bool"));
  EXPECT_TRUE(Contains(msg, "maybe"));

  msg = override_error({"Train.mean=0.5"});
  EXPECT_TRUE(Contains(msg, "Train.mean"));
  EXPECT_TRUE(Contains(msg, "list of float"));
  EXPECT_TRUE(Contains(msg, "0.5"));

  msg = override_error({"Train.learning_rate=fast"});
  EXPECT_TRUE(Contains(msg, "Train.learning_rate"));
  EXPECT_TRUE(Contains(msg, "float"));
  EXPECT_TRUE(Contains(msg, "fast"));
}

TEST(Config, WrongTypeInFileNamesLine) {
  std::string msg = config_error([] { Config::from_text(kBase + "Train:\n  batch_size: many\n", {}, paddlex::schema_for_model, "f.yaml"); });
  EXPECT_TRUE(Contains(msg, "f.yaml:4"));
  EXPECT_TRUE(Contains(msg, "Train.batch_size"));
  EXPECT_TRUE(Contains(msg, "many"));
}

TEST(Config, OutOfRangeIsAnError) {
  std::string msg = override_error({"Train.batch_size=0"});
  EXPECT_TRUE(Contains(msg, "Train.batch_size"));
  EXPECT_TRUE(Contains(msg, "range"));
  EXPECT_NO_THROW(Config::from_text(kBase, {"Train.batch_size=1"}, paddlex::schema_for_model));
  // Bounds apply to every element of a list.
  msg = override_error({"Train.random_crop_scale=[0.5, 1.5]"});
  EXPECT_TRUE(Contains(msg, "Train.random_crop_scale"));
}

TEST(Config, NotANumberIsRejectedForBoundedFloat) {
  // Regression: NaN passed the range check (both comparisons are false for NaN).
  std::string msg = override_error({"Train.learning_rate=.nan"});
  EXPECT_TRUE(Contains(msg, "Train.learning_rate"));
  msg = override_error({"Train.optimizer.weight_decay=.inf"});
  EXPECT_TRUE(Contains(msg, "Train.optimizer.weight_decay"));
}

TEST(Config, StringOverridesAreLiteral) {
  // A string value is taken as written, not parsed as YAML (where "#x" would be a comment and "a: b" a map).
  Config cfg = Config::from_text(kBase, {"Global.output=#run1", "Global.dataset_dir=data: v1", "Global.device=gpu:0,1"}, paddlex::schema_for_model);
  EXPECT_EQ(cfg.get_string("Global.output"), "#run1");
  EXPECT_EQ(cfg.get_string("Global.dataset_dir"), "data: v1");
  EXPECT_EQ(cfg.get_string("Global.device"), "gpu:0,1");
  // None/null still mean null for nullable string keys.
  Config none = Config::from_text(kBase + "  dataset_dir: d\n", {"Global.dataset_dir=None"}, paddlex::schema_for_model);
  EXPECT_TRUE(none.is_null("Global.dataset_dir"));
}

TEST(Config, EnumValueNotAllowedListsAllowedValues) {
  std::string msg = override_error({"Global.mode=training"});
  EXPECT_TRUE(Contains(msg, "Global.mode"));
  EXPECT_TRUE(Contains(msg, "training"));
  for (const char* v : {"check_dataset", "train", "evaluate", "export", "predict"}) EXPECT_TRUE(Contains(msg, v));
}

TEST(Config, OverrideWithoutValueIsAnError) {
  std::string msg = override_error({"Global.mode"});
  EXPECT_TRUE(Contains(msg, "Global.mode"));
  EXPECT_TRUE(Contains(msg, "="));
  msg = override_error({"=train"});
  EXPECT_TRUE(Contains(msg, "=train"));
  // An empty value is null, which Global.mode does not allow.
  msg = override_error({"Global.mode="});
  EXPECT_TRUE(Contains(msg, "Global.mode"));
  EXPECT_TRUE(Contains(msg, "null"));
}

TEST(Config, YamlSyntaxErrorNamesFileAndLine) {
  TempDir dir("config");
  const std::string path = dir.write("bad.yaml",
                                     "Global:\n"                // 1
                                     "  model: ResNet18\n"      // 2
                                     "Train:\n"                 // 3
                                     "  mean: [0.1, 0.2\n"      // 4  unclosed flow sequence
                                     "  batch_size: 8\n");      // 5
  std::string msg = config_error([&] { Config::load(path, {}, paddlex::schema_for_model); });
  EXPECT_TRUE(Contains(msg, path + ":"));
  EXPECT_TRUE(Contains(msg, "YAML"));

  const std::string path2 = dir.write("bad2.yaml",
                                      "Global:\n"            // 1
                                      "  model: ResNet18\n"  // 2
                                      "  mode: \"train\n");  // 3  unterminated quote
  msg = config_error([&] { Config::load(path2, {}, paddlex::schema_for_model); });
  EXPECT_TRUE(Contains(msg, path2 + ":3"));
}

TEST(Config, AcceptedPaddleXKeysDoNotThrow) {
  const std::string text = kBase +
                           "Train:\n"
                           "  dy2st: False\n"
                           "  epochs_iters: 2\n"
                           "Benchmark:\n"
                           "  x: 1\n";
  Config cfg = Config::from_text(text, {"Train.dy2st=True", "Benchmark.x=3"}, paddlex::schema_for_model);
  EXPECT_EQ(cfg.get_int("Train.epochs_iters"), 2);
  EXPECT_EQ(cfg.to_yaml().find("dy2st"), std::string::npos);
  // A sibling of an accepted key is still checked.
  std::string msg = override_error({"Train.dy2stt=True"});
  EXPECT_TRUE(Contains(msg, "Train.dy2stt"));
}

TEST(Config, PredictRunModeIsPaddleXsKeyWithOurChoices) {
  Config cfg = Config::from_text(kBase + "Predict:\n  kernel_option:\n    run_mode: paddle\n", {"Predict.kernel_option.run_mode=onnx"},
                                 paddlex::schema_for_model);
  EXPECT_EQ(cfg.get_string("Predict.kernel_option.run_mode"), "onnx");
  Config mkldnn = Config::from_text(kBase + "Predict:\n  kernel_option:\n    run_mode: mkldnn\n", {}, paddlex::schema_for_model);
  EXPECT_EQ(mkldnn.get_string("Predict.kernel_option.run_mode"), "mkldnn");  // PaddleX's CPU default is accepted
  EXPECT_TRUE(Contains(override_error({"Predict.kernel_option.run_mode=trt_fp16"}), "Predict.kernel_option.run_mode"));
}

TEST(Config, EmptyKnownSectionIsAccepted) {
  // Regression: a known section whose keys are all commented out (`Evaluate:` alone, a null node) used to
  // be reported as "unknown key 'Evaluate'".
  EXPECT_NO_THROW(Config::from_text(kBase + "Evaluate:\nTrain:\n  batch_size: 8\n", {}, paddlex::schema_for_model));
}

TEST(Config, NullHandling) {
  Config cfg = Config::from_text(kBase + "Train:\n  pretrain_weight_path: None\n  num_classes: null\n", {}, paddlex::schema_for_model);
  EXPECT_TRUE(cfg.is_null("Train.pretrain_weight_path"));
  EXPECT_TRUE(cfg.is_null("Train.num_classes"));
  EXPECT_EQ(cfg.get_string_or("Train.pretrain_weight_path", "fallback"), "fallback");

  Config set = Config::from_text(kBase + "Train:\n  pretrain_weight_path: w.pt\n", {}, paddlex::schema_for_model);
  EXPECT_FALSE(set.is_null("Train.pretrain_weight_path"));
  EXPECT_EQ(set.get_string_or("Train.pretrain_weight_path", "fallback"), "w.pt");
  Config unset = Config::from_text(kBase + "Train:\n  pretrain_weight_path: w.pt\n",
                                   {"Train.pretrain_weight_path=None"}, paddlex::schema_for_model);
  EXPECT_TRUE(unset.is_null("Train.pretrain_weight_path"));

  std::string msg = config_error([] { Config::from_text(kBase + "Train:\n  epochs_iters: null\n", {}, paddlex::schema_for_model, "n.yaml"); });
  EXPECT_TRUE(Contains(msg, "n.yaml:4"));
  EXPECT_TRUE(Contains(msg, "Train.epochs_iters"));
  EXPECT_TRUE(Contains(msg, "null"));
  msg = override_error({"Train.batch_size=None"});
  EXPECT_TRUE(Contains(msg, "Train.batch_size"));
}

// ---------------------------------------------------------------- cross-field checks

TEST(Config, ModelIsRequired) {
  std::string msg = config_error([] { Config::from_text("Train:\n  batch_size: 8\n", {}, paddlex::schema_for_model); });
  EXPECT_TRUE(Contains(msg, "Global.model"));
}

TEST(Config, SplitNeedsBothPercents) {
  std::string msg = override_error({"CheckDataset.split.enable=True"});
  EXPECT_TRUE(Contains(msg, "train_percent"));
  msg = override_error({"CheckDataset.split.enable=True", "CheckDataset.split.train_percent=80"});
  EXPECT_TRUE(Contains(msg, "val_percent"));
}

TEST(Config, SplitPercentsMustSumTo100) {
  std::string msg = override_error(
      {"CheckDataset.split.enable=True", "CheckDataset.split.train_percent=70", "CheckDataset.split.val_percent=20"});
  EXPECT_TRUE(Contains(msg, "100"));
  Config ok = Config::from_text(kBase, {"CheckDataset.split.enable=True", "CheckDataset.split.train_percent=80",
                                        "CheckDataset.split.val_percent=20"}, paddlex::schema_for_model);
  EXPECT_EQ(ok.get_int("CheckDataset.split.train_percent"), 80);
  // Disabled split does not look at the percents.
  EXPECT_NO_THROW(
      Config::from_text(kBase, {"CheckDataset.split.train_percent=70", "CheckDataset.split.val_percent=20"}, paddlex::schema_for_model));
}

TEST(Config, MilestonesMustBeAscending) {
  std::string msg = override_error({"Train.lr_scheduler.milestones=[60, 30]"});
  EXPECT_TRUE(Contains(msg, "Train.lr_scheduler.milestones"));
  EXPECT_TRUE(Contains(msg, "ascending"));
  EXPECT_NO_THROW(Config::from_text(kBase, {"Train.lr_scheduler.milestones=[10, 20]"}, paddlex::schema_for_model));
}

TEST(Config, ResizeShortMustCoverInputSize) {
  std::string msg = override_error({"Train.resize_short=200"});
  EXPECT_TRUE(Contains(msg, "Train.resize_short"));
  EXPECT_TRUE(Contains(msg, "Train.input_size"));
  EXPECT_NO_THROW(Config::from_text(kBase, {"Train.resize_short=32", "Train.input_size=32"}, paddlex::schema_for_model));
}

// ---------------------------------------------------------------- serialization

TEST(Config, ToYamlRoundTrips) {
  Config cfg = Config::from_text(kBase + "  dataset_dir: \"data/my set: v1\"\n",
                                 {"Train.learning_rate=0.123456789012345", "Train.epochs_iters=3",
                                  "Train.mean=[0.1, 0.2, 0.3]", "Train.lr_scheduler.milestones=[2, 4]",
                                  "Train.random_flip=False", "Train.pretrain_weight_path=None",
                                  "Global.output=#out", "Global.mode=train", "Train.num_classes=5"}, paddlex::schema_for_model);
  const std::string yaml = cfg.to_yaml();
  Config back = Config::from_text(yaml, {}, paddlex::schema_for_model);
  EXPECT_EQ(back.to_yaml(), yaml);
  EXPECT_EQ(back.hash(), cfg.hash());
  EXPECT_EQ(back.get_string("Global.dataset_dir"), "data/my set: v1");
  EXPECT_EQ(back.get_float("Train.learning_rate"), 0.123456789012345);
  EXPECT_EQ(back.get_int("Train.epochs_iters"), 3);
  EXPECT_EQ(back.get_float_list("Train.mean"), (std::vector<double>{0.1, 0.2, 0.3}));
  EXPECT_EQ(back.get_int_list("Train.lr_scheduler.milestones"), (std::vector<int64_t>{2, 4}));
  EXPECT_FALSE(back.get_bool("Train.random_flip"));
  EXPECT_TRUE(back.is_null("Train.pretrain_weight_path"));
  EXPECT_EQ(back.get_string("Global.output"), "#out");
  EXPECT_EQ(back.get_string("Global.mode"), "train");
  EXPECT_EQ(back.get_int("Train.num_classes"), 5);
  // Every schema key is written.
  for (const auto* group : back.schema().groups)
    for (const auto& spec : group->keys) {
      const std::string leaf = spec.key.substr(spec.key.rfind('.') + 1);
      EXPECT_NE(yaml.find(leaf + ":"), std::string::npos) << spec.key;
    }
}

TEST(Config, HashIsStableAndTracksValues) {
  Config a = Config::from_text(kBase + "Train:\n  batch_size: 8\n", {}, paddlex::schema_for_model);
  Config b = Config::from_text("Train:\n    batch_size: 8   # same value, other layout\nGlobal: {model: ResNet18}\n", {}, paddlex::schema_for_model);
  Config c = Config::from_text(kBase, {"Train.batch_size=8"}, paddlex::schema_for_model);
  EXPECT_FALSE(a.hash().empty());
  EXPECT_EQ(a.hash(), a.hash());
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_EQ(a.hash(), c.hash());
  Config d = Config::from_text(kBase + "Train:\n  batch_size: 9\n", {}, paddlex::schema_for_model);
  EXPECT_NE(a.hash(), d.hash());
  Config e = Config::from_text(kBase + "Train:\n  batch_size: 8\n", {"Train.mean.0=0.5"}, paddlex::schema_for_model);
  EXPECT_NE(a.hash(), e.hash());
}

TEST(Config, NearestKey) {
  const paddlex::Schema schema = paddlex::schema_for_model("ResNet18", "test");
  EXPECT_EQ(paddlex::nearest_key(schema, "Train.epoch_iters"), "Train.epochs_iters");
  EXPECT_EQ(paddlex::nearest_key(schema, "TRAIN.BATCH_SIZE"), "Train.batch_size");
  EXPECT_EQ(paddlex::nearest_key(schema, "Global.mdoel"), "Global.model");
  EXPECT_EQ(paddlex::nearest_key(schema, "Train.lr_scheduler.milestone"), "Train.lr_scheduler.milestones");
  EXPECT_EQ(paddlex::nearest_key(schema, "Train.learning_rate"), "Train.learning_rate");
  EXPECT_EQ(paddlex::nearest_key(schema, "Trian"), "Train");
}

// Each task adds its own keys; a key of another task is refused with a message naming that task, and the schema
// holds the task's cross-field checks.
TEST(Config, TaskKeysBelongToTheirTask) {
  const std::string ml = "Global:\n  model: PP-LCNet_x1_0_ML\n";
  Config cfg = Config::from_text(ml, {}, paddlex::schema_for_model);
  EXPECT_EQ(cfg.schema().task, "image_multilabel_classification");
  EXPECT_EQ(cfg.get_int("Train.input_size"), 448);  // the task's own default
  EXPECT_TRUE(cfg.is_null("Predict.threshold"));
  EXPECT_EQ(Config::from_text(kBase, {}, paddlex::schema_for_model).get_int("Train.input_size"), 224);
  std::string msg = override_error({"Train.label_smoothing=0.1"}, ml);
  EXPECT_TRUE(Contains(msg, "'Train.label_smoothing' is not used by image_multilabel_classification models"));
  EXPECT_TRUE(Contains(msg, "it is a key of image_classification"));
  msg = override_error({"Predict.threshold=0.3"});
  EXPECT_TRUE(Contains(msg, "it is a key of image_multilabel_classification")) << msg;
  // Cross-field checks of the task run too.
  msg = override_error({"Train.resize_short=100", "Train.input_size=224"});
  EXPECT_TRUE(Contains(msg, "resize_short must be >= Train.input_size")) << msg;
  msg = override_error({"Train.mean=[0.5, 0.5]"}, ml);
  EXPECT_TRUE(Contains(msg, "Train.mean needs 3 values")) << msg;
  // A whole section of another task's keys is named as such, in the file as with -o.
  msg = config_error([&] {
    Config::from_text(kBase + "Train:\n  asymmetric_loss:\n    clip: 0.1\n", {}, paddlex::schema_for_model, "c.yaml");
  });
  EXPECT_TRUE(Contains(msg, "c.yaml:4: key 'Train.asymmetric_loss' is not used by image_classification")) << msg;
  // Global.model must be a string.
  msg = config_error([] { Config::from_text("Global:\n  model: [ResNet18]\n", {}, paddlex::schema_for_model, "m.yaml"); });
  EXPECT_TRUE(Contains(msg, "m.yaml:2: key 'Global.model' expects string")) << msg;
  // An unknown model is refused before any other key is looked at.
  msg = override_error({"Global.model=ResNet19", "Train.label_smoothing=0.1"});
  EXPECT_TRUE(Contains(msg, "not a known model")) << msg;
}

TEST(Config, MixedPrecisionIsRefusedNotIgnored) {
  EXPECT_EQ(Config::from_text(kBase, {"Train.amp=OFF"}, paddlex::schema_for_model).get_string("Train.amp"), "OFF");
  const std::string msg = override_error({"Train.amp=O1"});
  EXPECT_TRUE(Contains(msg, "mixed precision is not implemented")) << msg;
}

TEST(Config, GeneratedDocIsUpToDate) {
  const std::string path = std::string(PADDLEX_SOURCE_DIR) + "/docs/CONFIG.md";
  if (!fs::exists(path))
    FAIL() << path << " does not exist; generate it with `build/main --config-doc > docs/CONFIG.md`";
  EXPECT_EQ(read_text(path), paddlex::config_markdown(paddlex::documented_key_groups()))
      << "docs/CONFIG.md differs from the schema; regenerate it with `build/main --config-doc > docs/CONFIG.md`";
}

}  // namespace
