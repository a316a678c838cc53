#include "paddlex/engine.h"

#include <opencv2/core.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "paddlex/core/config.h"
#include "paddlex/core/cpu_allocator.h"
#include "paddlex/core/device.h"
#include "paddlex/core/errors.h"
#include "paddlex/core/files.h"
#include "paddlex/core/logging.h"
#include "paddlex/core/stop_signal.h"
#include "paddlex/export/exporter.h"
#include "paddlex/inference/predict_runner.h"
#include "paddlex/modules/registry.h"
#include "paddlex/trainers/distributed.h"
#include "paddlex/trainers/launcher.h"
#include "paddlex/trainers/trainer.h"

namespace fs = std::filesystem;

namespace paddlex {
namespace {

bool is_good_result(const std::string& path) {
  if (!fs::exists(path)) return false;
  try {
    auto j = read_json_file(path);
    return j.value("done_flag", false);
  } catch (const std::exception&) {
    return false;
  }
}

std::string failed_path(const std::string& result_path) {
  return result_path.substr(0, result_path.size() - 5) + ".failed.json";
}

// Records a failure without destroying a good result of an earlier run: that one stays, and the failure
// goes to <mode>_result.failed.json beside it.
void record_failure(const std::string& path, bool had_good_result_before, const std::string& type,
                    const std::string& message) {
  std::string target = path;
  nlohmann::json j = nlohmann::json::object();
  if (had_good_result_before && is_good_result(path)) {
    target = failed_path(path);
  } else if (fs::exists(path)) {
    try {
      j = read_json_file(path);  // this run's partial result (e.g. train progress): keep it
    } catch (const std::exception&) {
    }
  }
  j["done_flag"] = false;
  j["err_type"] = type;
  j["err_msg"] = message;
  try {
    ensure_writable_dir(fs::path(target).parent_path().string());
    write_json_atomic(target, j);
  } catch (const std::exception& e) {
    Log::warn(std::string("could not record the failure: ") + e.what());
  }
}

}  // namespace

void configure_threads(const Config& cfg) {
  int threads = static_cast<int>(cfg.get_int("Global.num_threads"));
  if (threads == 0) {
    // Processes sharing this machine (LOCAL_WORLD_SIZE, set by torchrun and by self-launch) split its cores.
    const char* local_world = std::getenv("LOCAL_WORLD_SIZE");
    const int sharing = local_world ? std::max(1, std::atoi(local_world)) : 1;
    threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / sharing);
  }
  at::set_num_threads(threads);
  install_caching_cpu_allocator();
  // Loader threads decode in parallel already; OpenCV's own pool would only oversubscribe the cores.
  cv::setNumThreads(0);
}

void run_mode(const Config& cfg, const std::vector<std::string>& args) {
  const std::string mode = cfg.get_string("Global.mode");
  const DistEnv dist_env = read_dist_env();
  const std::string output = cfg.get_string("Global.output");
  const std::string result_path = (fs::path(output) / (mode + "_result.json")).string();
  const bool had_good_result = is_good_result(result_path);
  bool check_failure_written = false;
  try {
    configure_threads(cfg);
    auto task = task_for_model(cfg.get_string("Global.model"), cfg.origin("Global.model"));
    const DeviceSpec device = parse_device(cfg.get_string("Global.device"));
    check_device_available(device);
    ensure_writable_dir(output);
    nlohmann::json result;
    if (mode == "check_dataset") {
      result = task->check_dataset(cfg);
      const bool pass = result.value("check_pass", false);
      result["done_flag"] = pass;
      // A failed check never replaces the result of an earlier good check.
      write_json_atomic(pass || !had_good_result ? result_path : failed_path(result_path), result);
      if (!pass) {
        check_failure_written = true;
        std::string text;
        for (const auto& p : result["problems"]) text += p.get<std::string>() + "\n";
        const size_t count = result["problem_count"].get<size_t>();
        if (count > result["problems"].size())
          text += "... and " + std::to_string(count - result["problems"].size()) + " more (see " + result_path + ")\n";
        throw RunError("dataset check failed with " + std::to_string(count) + " problem(s):\n" + text);
      }
      const auto& a = result["attributes"];
      Log::info("Dataset check passed (" + result.value("dataset_type", std::string("?")) + "): " +
                a.value("train_samples", nlohmann::json(0)).dump() + " train and " +
                a.value("val_samples", nlohmann::json(0)).dump() + " val samples; details in " + result_path);
      return;
    }
    if (mode == "train") {
      install_stop_handlers();  // Ctrl-C / SIGTERM: checkpoint, then exit
      const std::chrono::seconds timeout(cfg.get_int("Global.dist_timeout"));
      if (!dist_env.distributed() && device.ids.size() > 1) {
        // The ranks write every result; this process only launches and waits for them.
        launch_local_ranks(args, static_cast<int>(device.ids.size()), output, timeout);
        return;
      }
      std::unique_ptr<DistContext> dist;
      if (dist_env.distributed())
        dist = std::make_unique<DistContext>(dist_env, timeout, device.torch_device(dist_env.local_rank));
      Trainer(cfg, *task, dist.get()).train();
      return;  // train_result.json is written by the trainer as checkpoints appear
    }
    if (mode == "evaluate") {
      result = Trainer(cfg, *task).evaluate();
    } else if (mode == "export") {
      result = {{"save_dir", export_model(cfg, *task)}};
    } else if (mode == "predict") {
      result = run_predict(cfg, *task, device.torch_device());
    }
    result["done_flag"] = true;
    write_json_atomic(result_path, result);
  } catch (const ConfigError& e) {
    if (dist_env.rank == 0) record_failure(result_path, had_good_result, "ConfigError", e.what());
    throw;
  } catch (const RunError& e) {
    if (dist_env.rank == 0 && !check_failure_written) record_failure(result_path, had_good_result, "RunError", e.what());
    throw;
  } catch (const std::exception& e) {
    if (dist_env.rank == 0) record_failure(result_path, had_good_result, "InternalError", e.what());
    throw;
  }
}

}  // namespace paddlex
