#include "paddlex/trainers/checkpoint.h"

#include <filesystem>
#include <sstream>

#include "paddlex/core/errors.h"
#include "paddlex/core/files.h"
#include "paddlex/trainers/pytorch_pickle.h"

namespace fs = std::filesystem;

namespace paddlex {

TensorDict state_dict(const torch::nn::Module& module) {
  TensorDict out;
  for (const auto& p : module.named_parameters()) out.emplace_back(p.key(), p.value());
  for (const auto& b : module.named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

void save_tensor_dict(const TensorDict& tensors, const std::string& path) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, t] : tensors) dict.insert(name, t.detach().cpu().contiguous());
  write_bytes_atomic(path, torch::pickle_save(dict));
}

TensorDict load_tensor_dict(const std::string& path) {
  // Our model.pt (torch::pickle_save) and Python torch.save files alike; the reader unwraps
  // {"state_dict": ...}/{"model": ...} and names the path in its errors.
  TensorDict out = read_pytorch_state_dict(path);
  for (auto& [name, t] : out)
    if (name.rfind("module.", 0) == 0) name = name.substr(7);  // saved from DistributedDataParallel
  return out;
}

LoadReport load_matching(torch::nn::Module& module, const TensorDict& tensors) {
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> by_name(tensors.begin(), tensors.end());
  LoadReport report;
  for (auto& [name, target] : state_dict(module)) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      report.missing.push_back(name);
      continue;
    }
    if (it->second.sizes() != target.sizes()) {
      std::ostringstream os;
      os << name << ": shape " << it->second.sizes() << " in file, " << target.sizes() << " in model";
      report.skipped.push_back(os.str());
    } else {
      target.copy_(it->second.to(target.dtype()));
      report.loaded.push_back(name);
    }
    by_name.erase(it);
  }
  for (const auto& [name, t] : by_name) report.skipped.push_back(name + ": not in the model");
  return report;
}

void load_exact(torch::nn::Module& module, const TensorDict& tensors, const std::string& source) {
  LoadReport r = load_matching(module, tensors);
  if (!r.skipped.empty() || !r.missing.empty()) {
    std::string first = !r.skipped.empty() ? r.skipped.front() : r.missing.front() + ": missing in the file";
    throw RunError("weights '" + source + "' do not fit the model (" + std::to_string(r.skipped.size()) +
                   " mismatched, " + std::to_string(r.missing.size()) + " missing; first: " + first + ")");
  }
}

std::vector<char> serialize_optimizer(torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  std::ostringstream os;
  archive.save_to(os);
  std::string s = os.str();
  return std::vector<char>(s.begin(), s.end());
}

void load_optimizer(torch::optim::Optimizer& optimizer, const std::string& path) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    optimizer.load(archive);
  } catch (const c10::Error& e) {
    std::string what = e.what();
    throw RunError("cannot load optimizer state '" + path + "': " + what.substr(0, what.find('\n')));
  }
}

nlohmann::json TrainState::to_json() const {
  return {{"completed_epochs", completed_epochs}, {"epoch_batches_done", epoch_batches_done},
          {"global_step", global_step}, {"best_metric", best_metric},
          {"best_epoch", best_epoch},           {"world_size", world_size},   {"num_threads", num_threads},
          {"config_hash", config_hash},         {"cpu_rng_state", cpu_rng_state}};
}

TrainState TrainState::from_json(const nlohmann::json& j, const std::string& source) {
  TrainState s;
  try {
    s.completed_epochs = j.at("completed_epochs").get<int64_t>();
    s.epoch_batches_done = j.at("epoch_batches_done").get<int64_t>();
    s.global_step = j.at("global_step").get<int64_t>();
    s.best_metric = j.at("best_metric").get<double>();
    s.best_epoch = j.at("best_epoch").get<int64_t>();
    s.world_size = j.at("world_size").get<int>();
    s.num_threads = j.at("num_threads").get<int>();
    s.config_hash = j.at("config_hash").get<std::string>();
    s.cpu_rng_state = j.at("cpu_rng_state").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw RunError("'" + source + "' is not a complete state.json: " + e.what());
  }
  return s;
}

std::string capture_cpu_rng_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  torch::Tensor state = gen.get_state();
  static const char* hex = "0123456789abcdef";
  std::string out;
  const uint8_t* p = state.data_ptr<uint8_t>();
  for (int64_t i = 0; i < state.numel(); ++i) {
    out += hex[p[i] >> 4];
    out += hex[p[i] & 15];
  }
  return out;
}

void restore_cpu_rng_state(const std::string& hex) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  torch::Tensor state = torch::empty({static_cast<int64_t>(hex.size() / 2)}, torch::kUInt8);
  uint8_t* p = state.data_ptr<uint8_t>();
  for (size_t i = 0; i + 1 < hex.size(); i += 2) p[i / 2] = static_cast<uint8_t>(nibble(hex[i]) * 16 + nibble(hex[i + 1]));
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

YAML::Node model_yml(const ModelDescription& model, const std::string& task_name, const std::string& status,
                     int64_t completed_epochs, const std::map<std::string, double>& metrics) {
  YAML::Node root;
  root["version"] = "1.0.0";
  root["Model"] = model.model_name;
  root["_Attributes"]["model_type"] = task_name;
  root["_Attributes"]["num_classes"] = model.num_classes;
  root["_Attributes"]["labels"] = model.labels;
  root["_Attributes"]["fixed_input_shape"] = YAML::Node(YAML::NodeType::Null);
  YAML::Node eval(YAML::NodeType::Map);
  for (const auto& [k, v] : metrics) eval[k] = v;
  root["_Attributes"]["eval_metrics"] = eval;
  root["Transforms"] = model.transforms;
  root["completed_epochs"] = completed_epochs;
  root["status"] = status;
  return root;
}

ModelDescription read_model_yml(const std::string& path) {
  if (!fs::is_regular_file(path)) throw RunError("model description not found: '" + path + "'");
  try {
    YAML::Node root = YAML::LoadFile(path);
    ModelDescription d;
    d.model_name = root["Model"].as<std::string>();
    d.num_classes = root["_Attributes"]["num_classes"].as<int64_t>();
    d.labels = root["_Attributes"]["labels"].as<std::vector<std::string>>();
    d.transforms = root["Transforms"];
    return d;
  } catch (const YAML::Exception& e) {
    throw RunError(at_line(path, e.mark.line + 1, "bad model.yml: " + e.msg));
  }
}

std::shared_ptr<Network> load_checkpoint_network(Task& task, const std::string& dir,
                                                 const ModelDescription& description) {
  auto network = task.build_model(description.model_name, description.num_classes);
  const std::string weights = (fs::path(dir) / "model.pt").string();
  load_exact(*network, load_tensor_dict(weights), weights);
  return network;
}

std::string resolve_checkpoint_dir(const std::string& path, const std::string& key) {
  fs::path p(path);
  if (fs::is_regular_file(p)) p = p.parent_path();
  if (!fs::is_directory(p))
    throw RunError(key + ": '" + path + "' is neither a checkpoint directory nor a file inside one");
  if (!fs::exists(p / "model.pt") || !fs::exists(p / "model.yml"))
    throw RunError(key + ": '" + p.string() + "' is not a checkpoint directory (needs model.pt and model.yml)");
  return p.string();
}

}  // namespace paddlex
