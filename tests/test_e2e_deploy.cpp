// Deployment end to end through the real `main`: the exported inference.onnx of trained models (a real PaddleX
// PP-LCNet checkpoint, a multi-label model trained here) runs on oneDNN and in OpenCV dnn as the LibTorch network
// does on the same preprocessed images (1e-4 absolute, same top-1); predict runs it in every run mode; bad inputs
// are named.
#include <gtest/gtest.h>

#include <filesystem>

#include "paddlex/core/random.h"
#include "paddlex/datasets/image_io.h"
#include "paddlex/datasets/image_ops.h"
#include "paddlex/inference/onednn_runner.h"
#include "paddlex/inference/onnx_runner.h"
#include "paddlex/modules/registry.h"
#include "paddlex/task/task.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace paddlex::testing;

namespace {

std::vector<std::string> images_in(const std::string& dir) {
  std::vector<std::string> images;
  for (const auto& e : fs::directory_iterator(dir)) images.push_back(e.path().string());
  std::sort(images.begin(), images.end());
  return images;
}

// The images preprocessed as the export's inference.yml says, one batch.
torch::Tensor preprocessed(const std::string& infer_dir, const std::vector<std::string>& images) {
  const auto yml = YAML::LoadFile(infer_dir + "/inference.yml");
  const auto pipeline = paddlex::ImagePipeline::parse(yml["PreProcess"]["transform_ops"], "inference.yml");
  paddlex::SampleRng rng(0);
  std::vector<torch::Tensor> tensors;
  for (const auto& path : images) tensors.push_back(pipeline.image_tensor(paddlex::read_image_rgb(path), rng));
  return torch::stack(tensors);
}

// `Runner` on the export's inference.onnx vs the LibTorch logits `expected` of the batch `x`, at the whole batch and
// at batch 1: logits within 1e-4 (relative to their scale when they exceed 1: the real PaddleX model's reach 1143,
// where float32's spacing is 1.2e-4), probabilities within 1e-4 absolute, same top-1.
template <typename Runner>
void expect_runner_matches(const std::string& runtime, const std::string& infer_dir, const torch::Tensor& x,
                           const torch::Tensor& expected) {
  SCOPED_TRACE(runtime);
  Runner runner(infer_dir + "/inference.onnx", {"image"}, {"logits"});
  const torch::Tensor got = runner.run({{"image", x}}).at("logits");
  const double bound = 1e-4 * std::max(1.0, expected.abs().max().item<double>());
  ASSERT_EQ(got.sizes(), expected.sizes());
  EXPECT_LE((got - expected).abs().max().item<double>(), bound) << "logits up to " << expected.abs().max().item<double>();
  EXPECT_LE((got.softmax(1) - expected.softmax(1)).abs().max().item<double>(), 1e-4);
  EXPECT_LE((got.sigmoid() - expected.sigmoid()).abs().max().item<double>(), 1e-4);
  EXPECT_TRUE(torch::equal(got.argmax(1), expected.argmax(1)));
  const torch::Tensor first = runner.run({{"image", x.narrow(0, 0, 1)}}).at("logits");
  EXPECT_LE((first - expected.narrow(0, 0, 1)).abs().max().item<double>(), bound);
  std::cout << "[ measured ] " << runtime << ", " << infer_dir << ": max |logit| " << expected.abs().max().item<double>()
            << ", max abs diff " << (got - expected).abs().max().item<double>() << ", " << x.size(0) << " images\n";
}

// The export in OpenCV dnn and on oneDNN vs `network` (LibTorch, eval mode, BatchNorm not folded).
void expect_onnx_matches(const std::string& infer_dir, paddlex::Network& network, const std::vector<std::string>& images) {
  network.eval();
  torch::NoGradGuard no_grad;
  const auto x = preprocessed(infer_dir, images);
  const auto expected = network.forward({{"image", x}}).at("logits");
  expect_runner_matches<paddlex::OnnxRunner>("OpenCV dnn", infer_dir, x, expected);
  expect_runner_matches<paddlex::OneDnnRunner>("oneDNN", infer_dir, x, expected);
}

class DeployE2E : public ::testing::Test {
 protected:
  std::vector<std::string> paddlex_lcnet_args(const std::string& mode) {
    return {"-c", kPaddleXLcnetConfig, "-o", "Global.mode=" + mode, "-o", "Global.dataset_dir=" + kPaddleXLcnet + "/dataset", "-o",
            "Global.output=" + out_};
  }
  RunResult export_paddlex_lcnet() {
    return run_main(with(paddlex_lcnet_args("export"), {"Export.weight_path=" + kPaddleXLcnet + "/output/best_model"}));
  }
  TempDir temp_{"deploy_e2e"};
  std::string out_ = temp_.path() + "/out";
  std::string infer_ = out_ + "/inference";
};

TEST_F(DeployE2E, PaddleXCheckpointExportRunsOnOneDnnAndOpenCvAsInLibTorch) {
  auto exp = export_paddlex_lcnet();
  ASSERT_EQ(exp.exit_code, 0) << exp.output;
  for (const char* f : {"inference.onnx", "inference.pt", "inference.yml", "model.yml"})
    EXPECT_TRUE(fs::exists(infer_ + "/" + f)) << f;
  const std::string yml = read_text(infer_ + "/inference.yml");
  EXPECT_TRUE(Contains(yml, "model_name: PP-LCNet_x0_25"));
  EXPECT_TRUE(Contains(yml, "opset: 14"));
  EXPECT_TRUE(Contains(yml, "model_file: inference.onnx"));

  auto network = make_any_classifier("PP-LCNet_x0_25", 4);
  const std::string weights = kPaddleXLcnet + "/output/best_model/best_model.pdparams";
  paddlex::load_network_weights(*network, paddlex::read_weights_for(*network, weights), weights);
  expect_onnx_matches(infer_, *network, images_in(kPaddleXLcnet + "/dataset/images"));
}

TEST_F(DeployE2E, PredictRunModesAgree) {
  ASSERT_EQ(export_paddlex_lcnet().exit_code, 0);
  const std::string images = kPaddleXLcnet + "/dataset/images";
  std::map<std::string, nlohmann::json> results;
  const std::map<std::string, std::string> runtime = {{"paddle", "(ONNX on oneDNN)"},
                                                       {"mkldnn", "(ONNX on oneDNN)"},
                                                       {"onnx", "(ONNX in OpenCV dnn)"},
                                                       {"libtorch", "(LibTorch)"}};
  for (const auto& [mode, says] : runtime) {
    auto pred = run_main(with(paddlex_lcnet_args("predict"),
                              {"Predict.model_dir=" + infer_, "Predict.input=" + images, "Predict.batch_size=7",
                               "Predict.kernel_option.run_mode=" + mode, "Global.output=" + temp_.path() + "/" + mode}));
    ASSERT_EQ(pred.exit_code, 0) << pred.output;
    EXPECT_TRUE(Contains(pred.output, says)) << mode;
    results[mode] = read_json(temp_.path() + "/" + mode + "/predict_result.json")["results"];
  }
  ASSERT_EQ(results["mkldnn"].size(), images_in(images).size());
  EXPECT_EQ(results["paddle"], results["mkldnn"]);
  for (const std::string mode : {"mkldnn", "onnx"}) {
    for (size_t i = 0; i < results[mode].size(); ++i) {
      const auto& a = results[mode][i];
      const auto& b = results["libtorch"][i];
      EXPECT_EQ(a["class_ids"][0], b["class_ids"][0]) << mode << " " << a["input_path"];
      for (size_t k = 0; k < a["scores"].size(); ++k)
        EXPECT_NEAR(a["scores"][k].get<double>(), b["scores"][k].get<double>(), 2e-5) << mode << " " << a["input_path"];
    }
  }
}

TEST_F(DeployE2E, MultiLabelExportRunsOnOneDnnAndOpenCvAsInLibTorch) {
  const std::string dataset = make_mlcls_dataset(temp_.path() + "/ml", 12, 8);
  const std::string out = temp_.path() + "/ml_out";
  auto train = run_main(with(ml_base_args(dataset, out, "train"), {"Train.epochs_iters=2"}));
  ASSERT_EQ(train.exit_code, 0) << train.output;
  auto exp = run_main(ml_base_args(dataset, out, "export"));
  ASSERT_EQ(exp.exit_code, 0) << exp.output;
  const auto task = paddlex::task_for_model("PP-LCNet_x1_0_ML", "test");
  const auto info = paddlex::read_model_yml(out + "/best_model/model.yml");
  auto network = paddlex::load_model_network(*task, info, out + "/best_model/" + info.eval_weights);
  expect_onnx_matches(out + "/best_model/inference", *network, images_in(dataset + "/images"));
  // Our checkpoint dir runs in LibTorch only.
  auto ckpt = run_main(with(ml_base_args(dataset, out, "predict"),
                            {"Predict.model_dir=" + out + "/best_model", "Predict.input=" + dataset + "/images",
                             "Predict.kernel_option.run_mode=mkldnn"}));
  EXPECT_EQ(ckpt.exit_code, 1);
  EXPECT_TRUE(Contains(ckpt.output, "run_mode=mkldnn needs an exported directory")) << ckpt.output;
}

TEST_F(DeployE2E, BadDeploymentInputsAreNamed) {
  ASSERT_EQ(export_paddlex_lcnet().exit_code, 0);
  // An exported directory is not a source for export.
  auto again = run_main(with(paddlex_lcnet_args("export"), {"Export.weight_path=" + infer_, "Export.save_dir=" + temp_.path() + "/x"}));
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(Contains(again.output, "is an exported (Infer) directory")) << again.output;
  // run_mode onnx and mkldnn need an export.
  const std::string image = kPaddleXLcnet + "/dataset/images/val_3_009.png";
  for (const std::string mode : {"onnx", "mkldnn"}) {
    auto ckpt = run_main(with(paddlex_lcnet_args("predict"), {"Predict.model_dir=" + kPaddleXLcnet + "/output/best_model",
                                                              "Predict.input=" + image, "Predict.kernel_option.run_mode=" + mode}));
    EXPECT_NE(ckpt.exit_code, 0);
    EXPECT_TRUE(Contains(ckpt.output, "export")) << ckpt.output;
  }
  // An unknown run mode is a config error naming the key.
  auto bad_mode = run_main(with(paddlex_lcnet_args("predict"), {"Predict.model_dir=" + infer_, "Predict.input=" + image,
                                                                "Predict.kernel_option.run_mode=trt_fp16"}));
  EXPECT_EQ(bad_mode.exit_code, 2);
  EXPECT_TRUE(Contains(bad_mode.output, "Predict.kernel_option.run_mode")) << bad_mode.output;
  // A corrupt ONNX file is named; an export without one (older version) says to re-export.
  write_file(infer_ + "/inference.onnx", "not a protobuf");
  auto corrupt = run_main(with(paddlex_lcnet_args("predict"), {"Predict.model_dir=" + infer_, "Predict.input=" + image}));
  EXPECT_EQ(corrupt.exit_code, 1);
  EXPECT_TRUE(Contains(corrupt.output, infer_ + "/inference.onnx")) << corrupt.output;
  fs::remove(infer_ + "/inference.onnx");
  auto missing = run_main(with(paddlex_lcnet_args("predict"), {"Predict.model_dir=" + infer_, "Predict.input=" + image}));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(Contains(missing.output, "re-export")) << missing.output;
  // LibTorch still runs the directory.
  auto libtorch = run_main(with(paddlex_lcnet_args("predict"), {"Predict.model_dir=" + infer_, "Predict.input=" + image,
                                                                "Predict.kernel_option.run_mode=libtorch"}));
  EXPECT_EQ(libtorch.exit_code, 0) << libtorch.output;
}

}  // namespace
