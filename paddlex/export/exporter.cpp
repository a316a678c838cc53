#include "paddlex/export/exporter.h"

#include <filesystem>

#include "paddlex/core/config.h"
#include "paddlex/core/errors.h"
#include "paddlex/core/files.h"
#include "paddlex/core/logging.h"
#include "paddlex/trainers/checkpoint.h"

namespace fs = std::filesystem;

namespace paddlex {
namespace {

std::string yaml_text(const YAML::Node& node) {
  YAML::Emitter e;
  e << node;
  return std::string(e.c_str()) + "\n";
}

}  // namespace

std::string export_model(const Config& cfg, Task& task) {
  const std::string output = cfg.get_string("Global.output");
  const std::string dir = resolve_checkpoint_dir(
      cfg.get_string_or("Export.weight_path", (fs::path(output) / "best_model").string()), "Export.weight_path");
  const std::string save_dir = cfg.get_string_or("Export.save_dir", (fs::path(dir) / "inference").string());
  ModelDescription desc = read_model_yml(dir + "/model.yml");
  auto model = load_checkpoint_network(task, dir, desc);
  model->eval();
  model->fold_batchnorm();

  const std::string staged = save_dir + ".staging";
  fs::remove_all(staged);
  fs::create_directories(staged);
  TensorDict weights = state_dict(*model);
  weights.emplace_back(kFoldedMarker, torch::ones({1}));
  save_tensor_dict(weights, staged + "/inference.pt");
  write_file_atomic(staged + "/inference.yml", yaml_text(task.inference_config(desc)));
  // The deployment's model.yml is the checkpoint's (epochs, metrics, transforms) with status Infer.
  YAML::Node infer_yml = YAML::LoadFile(dir + "/model.yml");
  infer_yml["status"] = "Infer";
  write_file_atomic(staged + "/model.yml", yaml_text(infer_yml));
  fs::create_directories(fs::path(save_dir).parent_path().empty() ? "." : fs::path(save_dir).parent_path());
  replace_dir_atomic(staged, save_dir);
  Log::info("Exported '" + dir + "' (" + desc.model_name + ", BatchNorm folded) to '" + save_dir + "'");
  return save_dir;
}

InferenceModel load_inference_model(Task& task, const std::string& dir, const torch::Device& device) {
  if (!fs::is_directory(dir))
    throw RunError("Predict.model_dir: '" + dir + "' is not a directory (an export dir or a checkpoint dir)");
  InferenceModel m;
  const bool exported = fs::exists(fs::path(dir) / "inference.yml");
  m.description = read_model_yml((fs::path(dir) / "model.yml").string());
  if (exported) {
    m.network = task.build_model(m.description.model_name, m.description.num_classes);
    const std::string weights = (fs::path(dir) / "inference.pt").string();
    TensorDict tensors = load_tensor_dict(weights);
    tensors.erase(std::remove_if(tensors.begin(), tensors.end(), [](const auto& t) { return t.first == kFoldedMarker; }),
                  tensors.end());
    m.network->eval();
    m.network->fold_batchnorm();
    load_exact(*m.network, tensors, weights);
    const std::string yml = (fs::path(dir) / "inference.yml").string();
    try {
      m.inference_config = YAML::LoadFile(yml);
    } catch (const YAML::Exception& e) {
      throw RunError(at_line(yml, e.mark.line + 1, e.msg));
    }
  } else {
    resolve_checkpoint_dir(dir, "Predict.model_dir");
    m.network = load_checkpoint_network(task, dir, m.description);
    m.inference_config = task.inference_config(m.description);
  }
  m.network->to(device);
  m.network->eval();
  return m;
}

}  // namespace paddlex
