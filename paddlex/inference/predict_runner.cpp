#include "paddlex/inference/predict_runner.h"

#include <algorithm>
#include <filesystem>

#include "paddlex/core/config.h"
#include "paddlex/core/errors.h"
#include "paddlex/core/files.h"
#include "paddlex/core/logging.h"
#include "paddlex/io/tensor_file.h"

namespace fs = std::filesystem;

namespace paddlex {

InferenceModel load_inference_model(const Task& task, const std::string& dir, const torch::Device& device) {
  if (!fs::is_directory(dir))
    throw RunError("Predict.model_dir: '" + dir + "' is not a directory (an export dir or a checkpoint dir)");
  if (!fs::exists(fs::path(dir) / "model.yml") && !paddle_weights_at(dir, "Predict.model_dir").empty())
    throw RunError("Predict.model_dir: '" + dir + "' is a PaddleX checkpoint; export it first (-o Global.mode=export "
                   "-o Export.weight_path=" + dir + ") and predict from the exported directory");
  InferenceModel m;
  m.info = read_model_yml((fs::path(dir) / "model.yml").string());
  if (m.info.task != task.name())
    throw RunError("Predict.model_dir: '" + dir + "' holds a " + m.info.task + " model, but Global.model is a " +
                   task.name() + " model");
  if (fs::exists(fs::path(dir) / "inference.yml")) {
    m.network = task.build_model(m.info);
    const std::string weights = (fs::path(dir) / "inference.pt").string();
    TensorDict tensors = load_tensor_dict(weights);
    tensors.erase(std::remove_if(tensors.begin(), tensors.end(), [](const auto& t) { return t.first == kFoldedMarker; }),
                  tensors.end());
    m.network->eval();
    m.network->fold_batchnorm();
    load_network_weights(*m.network, tensors, weights);
    const std::string yml = (fs::path(dir) / "inference.yml").string();
    try {
      m.inference_config = YAML::LoadFile(yml);
    } catch (const YAML::Exception& e) {
      throw RunError(at_line(yml, e.mark.line + 1, e.msg));
    }
  } else {
    resolve_checkpoint_dir(dir, "Predict.model_dir");
    m.network = load_model_network(task, m.info, (fs::path(dir) / m.info.eval_weights).string());
    m.inference_config = task.inference_config(m.info);
  }
  m.network->to(device);
  m.network->eval();
  return m;
}

nlohmann::json run_predict(const Config& cfg, const Task& task, const torch::Device& device) {
  const std::string output = cfg.get_string("Global.output");
  const std::string dir =
      cfg.get_string_or("Predict.model_dir", (fs::path(output) / "best_model" / "inference").string());
  if (cfg.is_null("Predict.input")) throw ConfigError(cfg.origin("Predict.input") + ": Predict.input is required");
  InferenceModel model = load_inference_model(task, dir, device);
  const auto predictor = task.make_predictor(cfg, model.info, model.inference_config);
  const auto inputs = predictor->collect_inputs(cfg.get_string("Predict.input"));
  const size_t batch_size = static_cast<size_t>(cfg.get_int("Predict.batch_size"));
  ensure_writable_dir(output);
  torch::NoGradGuard no_grad;
  nlohmann::json results = nlohmann::json::array();
  for (size_t begin = 0; begin < inputs.size(); begin += batch_size) {
    const size_t end = std::min(inputs.size(), begin + batch_size);
    std::vector<Sample> samples;
    for (size_t i = begin; i < end; ++i) samples.push_back(predictor->read(inputs[i]));
    const Batch batch = predictor->collate(std::move(samples));
    TensorMap outputs = model.network->forward(network_inputs(*model.network, batch, device, false));
    for (auto& entry : outputs) entry.second = entry.second.to(torch::kCPU);
    const auto rows = predictor->postprocess(batch, outputs);
    for (size_t i = begin; i < end; ++i) {
      nlohmann::ordered_json r = {{"input_path", inputs[i]}};
      for (const auto& [key, value] : rows.at(i - begin).items()) r[key] = value;
      const std::string stem = (fs::path(output) / fs::path(inputs[i]).stem()).string();
      write_json_atomic(stem + ".json", r);
      const nlohmann::json result = nlohmann::json::parse(r.dump());
      predictor->visualize(inputs[i], result, stem);
      Log::info(inputs[i] + ": " + r.dump());
      results.push_back(result);
    }
  }
  return {{"results", results}};
}

}  // namespace paddlex
