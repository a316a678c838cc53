#include "paddlex/trainers/checkpoint.h"

#include <torch/torch.h>

#include <filesystem>

#include "paddlex/core/config.h"
#include "paddlex/core/errors.h"
#include "paddlex/core/files.h"
#include "paddlex/io/model_dir.h"

namespace fs = std::filesystem;

namespace paddlex {

nlohmann::json TrainState::to_json() const {
  return {{"completed_epochs", completed_epochs},
          {"epoch_batches_done", epoch_batches_done},
          {"global_step", global_step},
          {"steps_per_epoch", steps_per_epoch},
          {"best_metric", best_metric ? nlohmann::json(*best_metric) : nlohmann::json(nullptr)},
          {"best_at", best_at},
          {"world_size", world_size},
          {"num_threads", num_threads},
          {"config_hash", config_hash},
          {"cpu_rng_state", cpu_rng_state}};
}

TrainState TrainState::from_json(const nlohmann::json& j, const std::string& source) {
  TrainState s;
  try {
    s.completed_epochs = j.at("completed_epochs").get<int64_t>();
    s.epoch_batches_done = j.at("epoch_batches_done").get<int64_t>();
    s.global_step = j.at("global_step").get<int64_t>();
    s.steps_per_epoch = j.value("steps_per_epoch", int64_t{0});
    // Checkpoints of earlier versions: best_epoch, and best_metric -1 before any evaluation.
    s.best_at = j.contains("best_at") ? j.at("best_at").get<int64_t>() : j.value("best_epoch", int64_t{0});
    if (!j.at("best_metric").is_null() && s.best_at > 0) s.best_metric = j.at("best_metric").get<double>();
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

std::string resolve_resume_dir(const Config& cfg) {
  std::string path = cfg.get_string("Train.resume_path");
  if (path == "auto") {
    const std::string pointer = (fs::path(cfg.get_string("Global.output")) / "last_checkpoint").string();
    if (!fs::exists(pointer))
      throw RunError("Train.resume_path=auto: no '" + pointer + "' (no checkpoint has been written there yet)");
    std::string name = read_text_file(pointer);
    name.erase(name.find_last_not_of(" \n\r\t") + 1);
    path = (fs::path(cfg.get_string("Global.output")) / name).string();
  }
  // A PaddleX checkpoint: its directory, .pdparams/.pdopt/.pdstates, or PaddleClas's prefix without extension.
  const std::string ext = fs::path(path).extension().string();
  const bool paddle_file =
      ext == ".pdopt" || ext == ".pdstates" || fs::exists(path + ".pdopt") || fs::exists(path + ".pdparams");
  const std::string paddle = paddle_file ? "" : paddle_weights_at(path, "Train.resume_path");
  if (paddle_file || !paddle.empty()) {
    const std::string weights =
        !paddle.empty() ? paddle : (ext == ".pdopt" || ext == ".pdstates" ? fs::path(path).replace_extension("").string()
                                                                          : path) + ".pdparams";
    throw RunError("Train.resume_path: '" + path + "' is a PaddleX/PaddlePaddle checkpoint; its optimizer state "
                   "(.pdopt) and training progress (.pdstates) cannot be resumed here. Start from its weights "
                   "instead with -o Train.pretrain_weight_path=" + weights);
  }
  return resolve_checkpoint_dir(path, "Train.resume_path");
}

}  // namespace paddlex
