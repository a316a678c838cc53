#include "paddlex/inference/predict_runner.h"

#include <algorithm>
#include <filesystem>

#include "paddlex/core/config.h"
#include "paddlex/core/errors.h"
#include "paddlex/core/files.h"
#include "paddlex/core/logging.h"
#include "paddlex/inference/onednn_runner.h"
#include "paddlex/inference/onnx_runner.h"
#include "paddlex/io/tensor_file.h"

namespace fs = std::filesystem;

namespace paddlex {

namespace {

RunMode resolve_run_mode(const std::string& run_mode, bool exported, const torch::Device& device,
                         const std::string& dir) {
  if (run_mode == "libtorch") return RunMode::kLibTorch;
  if (run_mode == "paddle") return exported && device.is_cpu() ? RunMode::kOneDnn : RunMode::kLibTorch;
  if (!exported)
    throw RunError("Predict.kernel_option.run_mode=" + run_mode + " needs an exported directory, but '" + dir +
                   "' is a checkpoint; export it (-o Global.mode=export) or use run_mode libtorch");
  if (!device.is_cpu())
    throw RunError("Predict.kernel_option.run_mode=" + run_mode + " runs inference.onnx on the CPU; use "
                   "run_mode libtorch to predict on " + device.str());
  return run_mode == "mkldnn" ? RunMode::kOneDnn : RunMode::kOpenCv;
}

const char* describe(RunMode mode) {
  switch (mode) {
    case RunMode::kOneDnn: return "ONNX on oneDNN";
    case RunMode::kOpenCv: return "ONNX in OpenCV dnn";
    case RunMode::kLibTorch: break;
  }
  return "LibTorch";
}

// Feeds a batch's inputs to a runner of inference.onnx (OneDnnRunner or OnnxRunner).
template <typename Runner>
std::function<TensorMap(const Batch&)> onnx_runner(const std::string& onnx, const std::vector<std::string>& inputs,
                                                   const std::vector<std::string>& outputs) {
  auto runner = std::make_shared<Runner>(onnx, inputs, outputs);
  return [runner, inputs](const Batch& batch) {
    TensorMap feed;
    for (const auto& name : inputs) feed[name] = batch.at(name);
    return runner->run(feed);
  };
}

// The network in LibTorch, eval mode, on `device`.
std::function<TensorMap(const Batch&)> libtorch_runner(std::shared_ptr<Network> network, const torch::Device& device) {
  network->to(device);
  network->eval();
  return [network, device](const Batch& batch) {
    torch::NoGradGuard no_grad;
    TensorMap outputs = network->forward(network_inputs(*network, batch, device, false));
    for (auto& entry : outputs) entry.second = entry.second.to(torch::kCPU);
    return outputs;
  };
}

YAML::Node read_inference_yml(const std::string& path) {
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw RunError(at_line(path, e.mark.line + 1, e.msg));
  }
}

// The input and output names of an exported model, from inference.yml's Deploy section.
std::vector<std::string> deploy_names(const YAML::Node& inference_yml, const std::string& which, const std::string& path) {
  const YAML::Node list = inference_yml["Deploy"] ? inference_yml["Deploy"][which] : YAML::Node();
  if (!list || !list.IsSequence() || list.size() == 0)
    throw RunError(path + ": Deploy." + which + " is missing (the ONNX model's " + which + "); re-export the model");
  return list.as<std::vector<std::string>>();
}

}  // namespace

InferenceModel load_inference_model(const Task& task, const std::string& dir, const torch::Device& device,
                                    const std::string& run_mode) {
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
  const std::string yml = (fs::path(dir) / kInferenceYml).string();
  const bool exported = fs::exists(yml);
  m.mode = resolve_run_mode(run_mode, exported, device, dir);
  if (!exported) {
    resolve_checkpoint_dir(dir, "Predict.model_dir");
    m.run = libtorch_runner(load_model_network(task, m.info, (fs::path(dir) / m.info.eval_weights).string()), device);
    m.inference_config = task.inference_config(m.info);
    return m;
  }
  m.inference_config = read_inference_yml(yml);
  if (m.mode != RunMode::kLibTorch) {
    const std::string onnx = (fs::path(dir) / kOnnxFile).string();
    if (!fs::exists(onnx))
      throw RunError("Predict.model_dir: '" + dir + "' has no " + kOnnxFile + " (exported by an older version?); "
                     "re-export it, or use Predict.kernel_option.run_mode=libtorch");
    const auto inputs = deploy_names(m.inference_config, "inputs", yml);
    const auto outputs = deploy_names(m.inference_config, "outputs", yml);
    m.run = m.mode == RunMode::kOneDnn ? onnx_runner<OneDnnRunner>(onnx, inputs, outputs)
                                       : onnx_runner<OnnxRunner>(onnx, inputs, outputs);
    return m;
  }
  auto network = task.build_model(m.info);
  const std::string weights = (fs::path(dir) / kInferenceWeights).string();
  TensorDict tensors = load_tensor_dict(weights);
  tensors.erase(std::remove_if(tensors.begin(), tensors.end(), [](const auto& t) { return t.first == kFoldedMarker; }),
                tensors.end());
  network->eval();
  network->fold_batchnorm();
  load_network_weights(*network, tensors, weights);
  m.run = libtorch_runner(network, device);
  return m;
}

nlohmann::json run_predict(const Config& cfg, const Task& task, const torch::Device& device) {
  const std::string output = cfg.get_string("Global.output");
  const std::string dir =
      cfg.get_string_or("Predict.model_dir", (fs::path(output) / "best_model" / "inference").string());
  if (cfg.is_null("Predict.input")) throw ConfigError(cfg.origin("Predict.input") + ": Predict.input is required");
  InferenceModel model = load_inference_model(task, dir, device, cfg.get_string("Predict.kernel_option.run_mode"));
  Log::info("Predicting with '" + dir + "' (" + describe(model.mode) + ")");
  const auto predictor = task.make_predictor(cfg, model.info, model.inference_config);
  const auto inputs = predictor->collect_inputs(cfg.get_string("Predict.input"));
  const size_t batch_size = static_cast<size_t>(cfg.get_int("Predict.batch_size"));
  ensure_writable_dir(output);
  nlohmann::json results = nlohmann::json::array();
  for (size_t begin = 0; begin < inputs.size(); begin += batch_size) {
    const size_t end = std::min(inputs.size(), begin + batch_size);
    std::vector<Sample> samples;
    for (size_t i = begin; i < end; ++i) samples.push_back(predictor->read(inputs[i]));
    const Batch batch = predictor->collate(std::move(samples));
    const TensorMap outputs = model.run(batch);
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
