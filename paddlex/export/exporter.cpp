#include "paddlex/export/exporter.h"

#include <filesystem>

#include "paddlex/core/config.h"
#include "paddlex/core/errors.h"
#include "paddlex/core/files.h"
#include "paddlex/core/logging.h"
#include "paddlex/io/tensor_file.h"

namespace fs = std::filesystem;

namespace paddlex {
namespace {

// The network as a checked ONNX model, serialized.
std::string onnx_model(const Network& network, const std::string& model_name) {
  nn::OnnxGraph graph(model_name);
  try {
    network.to_onnx(graph);
  } catch (const nn::OnnxUnsupported& e) {
    throw RunError("export: " + model_name + " cannot be exported to ONNX: " + e.what());
  }
  try {
    graph.check();
  } catch (const std::exception& e) {
    throw RunError("export: the ONNX graph of " + model_name + " fails onnx::checker (an engine bug): " + e.what());
  }
  return graph.serialize();
}

// inference.yml's Deploy section: what a runtime needs to know about inference.onnx.
YAML::Node onnx_deploy_info(const Network& network) {
  YAML::Node deploy;
  deploy["model_file"] = kOnnxFile;
  deploy["format"] = "ONNX";
  deploy["opset"] = nn::OnnxGraph::kOpset;
  for (const auto& name : network.input_names()) deploy["inputs"].push_back(name);
  for (const auto& name : network.output_names()) deploy["outputs"].push_back(name);
  deploy["batchnorm_folded"] = true;
  return deploy;
}

}  // namespace

std::string export_model(const Config& cfg, const Task& task) {
  const std::string output = cfg.get_string("Global.output");
  const CheckpointRef checkpoint = open_trained_model(
      task, cfg, cfg.get_string_or("Export.weight_path", (fs::path(output) / "best_model").string()),
      "Export.weight_path");
  const std::string& dir = checkpoint.dir;
  const ModelInfo& info = checkpoint.info;
  // A PaddleX checkpoint directory has its own inference/ (PaddlePaddle's format): this export goes to
  // Global.output instead.
  const std::string save_dir = cfg.get_string_or(
      "Export.save_dir", ((checkpoint.paddle ? fs::path(output) : fs::path(dir)) / "inference").string());
  if (info.task != task.name())
    throw RunError("Export.weight_path: '" + dir + "' holds a " + info.task + " model, but Global.model " +
                   cfg.get_string("Global.model") + " is a " + task.name() + " model");
  if (fs::is_directory(save_dir) && !fs::is_empty(save_dir) && !fs::exists(fs::path(save_dir) / "inference.pt"))
    throw RunError("Export.save_dir: '" + save_dir + "' holds files this engine did not export (no inference.pt), "
                   "which the export would replace; choose another Export.save_dir");
  auto model = load_model_network(task, info, checkpoint.weights);
  model->eval();
  model->fold_batchnorm();
  const std::string onnx = onnx_model(*model, info.model_name);

  const std::string staged = save_dir + ".staging";
  fs::remove_all(staged);
  fs::create_directories(staged);
  TensorDict weights = state_dict(*model);
  weights.emplace_back(kFoldedMarker, torch::ones({1}));
  save_tensor_dict(weights, staged + "/inference.pt");
  write_file_atomic(staged + "/" + kOnnxFile, onnx);
  YAML::Node inference_yml = task.inference_config(info);
  inference_yml["Deploy"] = onnx_deploy_info(*model);
  write_file_atomic(staged + "/inference.yml", yaml_text(inference_yml));
  // The deployment's model.yml is the checkpoint's (epochs, metrics, transforms) with status Infer.
  YAML::Node infer_yml = checkpoint.paddle ? model_yml(info, "Infer", 0, {}) : YAML::LoadFile(dir + "/model.yml");
  infer_yml["status"] = "Infer";
  infer_yml["eval_weights"] = "inference.pt";
  write_file_atomic(staged + "/model.yml", yaml_text(infer_yml));
  fs::create_directories(fs::path(save_dir).parent_path().empty() ? "." : fs::path(save_dir).parent_path());
  replace_dir_atomic(staged, save_dir);
  Log::info("Exported '" + dir + "' (" + info.model_name + ", " + info.eval_weights + ", BatchNorm folded) to '" +
            save_dir + "'");
  return save_dir;
}

}  // namespace paddlex
