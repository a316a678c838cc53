#include "paddlex/trainers/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "paddlex/core/device.h"
#include "paddlex/core/errors.h"
#include "paddlex/core/files.h"
#include "paddlex/core/logging.h"
#include "paddlex/core/stop_signal.h"
#include "paddlex/core/text.h"
#include "paddlex/trainers/distributed.h"
#include "paddlex/trainers/lr_schedule.h"
#include "paddlex/trainers/optimizer.h"
#include "paddlex/trainers/train_step.h"

namespace fs = std::filesystem;

namespace paddlex {
namespace {

std::string fixed(double v, int digits) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

std::string metrics_text(const std::map<std::string, double>& metrics) {
  std::string out;
  for (const auto& [k, v] : metrics) out += (out.empty() ? "" : ", ") + k + ": " + fixed(v, 4);
  return out;
}

nlohmann::json checkpoint_entry(const std::string& dir, double score) {
  return {{"score", score},
          {"weights", dir + "/model.pt"},
          {"optimizer", dir + "/optimizer.pt"},
          {"state", dir + "/state.json"},
          {"model_yml", dir + "/model.yml"}};
}

void log_load_report(const LoadReport& r, const std::string& source) {
  Log::info("Pretrained weights '" + source + "': " + std::to_string(r.loaded.size()) + " tensors loaded, " +
            std::to_string(r.skipped.size()) + " skipped, " + std::to_string(r.missing.size()) +
            " left at their initial values");
  for (const auto& s : r.skipped) Log::info("  skipped " + s);
  for (const auto& m : r.missing) Log::info("  not in file: " + m);
}

}  // namespace

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
  return resolve_checkpoint_dir(path, "Train.resume_path");
}

Trainer::Trainer(const Config& cfg, Task& task, DistContext* dist)
    : cfg_(cfg),
      task_(task),
      dist_(dist),
      is_main_(!dist || dist->rank() == 0),
      output_(cfg.get_string("Global.output")),
      device_(parse_device(cfg.get_string("Global.device")).torch_device(dist ? dist->local_rank() : 0)),
      channels_last_(cfg.get_bool("Train.channels_last")),
      result_models_(nlohmann::json::object()) {}

std::map<std::string, double> Trainer::run_evaluation(Network& model, const SampleSource& source,
                                                      int64_t batch_size, bool log_progress) {
  LoaderOptions opts;
  opts.batch_size = static_cast<size_t>(batch_size);
  opts.num_workers = static_cast<int>(cfg_.get_int("Train.num_workers"));
  opts.seed = static_cast<uint64_t>(cfg_.get_int("Global.seed"));
  DataLoader loader(std::shared_ptr<const SampleSource>(&source, [](const SampleSource*) {}), opts);
  auto evaluator = task_.make_evaluator();
  torch::NoGradGuard no_grad;
  model.eval();
  loader.start_epoch(0);
  const size_t batches = loader.batches_per_epoch();
  const int64_t log_interval = cfg_.get_int("Evaluate.log_interval");
  Batch batch;
  for (size_t i = 1; loader.next(batch); ++i) {
    evaluator->update(model.forward(to_compute(batch.input, device_, channels_last_)).to(torch::kCPU), batch);
    if (log_progress && (i % static_cast<size_t>(log_interval) == 0 || i == batches))
      Log::info("[Eval] batch " + std::to_string(i) + "/" + std::to_string(batches));
  }
  model.train();
  return evaluator->compute();
}

std::map<std::string, double> Trainer::shared_evaluation(Network& model, const SampleSource& source,
                                                         int64_t batch_size) {
  std::map<std::string, double> metrics =
      is_main_ ? run_evaluation(model, source, batch_size, false) : task_.make_evaluator()->compute();
  if (!dist_) return metrics;
  std::vector<double> values;
  for (const auto& entry : metrics) values.push_back(entry.second);
  values = dist_->broadcast_values(values);
  size_t i = 0;
  for (auto& entry : metrics) entry.second = values[i++];
  return metrics;
}

void Trainer::save_checkpoint(const std::string& name, Network& model, torch::optim::Optimizer& optimizer,
                              const TrainState& state, const ModelDescription& description,
                              const std::map<std::string, double>& metrics) {
  const fs::path staged = fs::path(output_) / ("." + name + ".staging");
  fs::remove_all(staged);
  fs::create_directories(staged);
  save_tensor_dict(state_dict(model), (staged / "model.pt").string());
  write_bytes_atomic((staged / "optimizer.pt").string(), serialize_optimizer(optimizer));
  write_json_atomic((staged / "state.json").string(), state.to_json());
  YAML::Emitter e;
  e << model_yml(description, task_.name(), "Normal", state.completed_epochs, metrics);
  write_file_atomic((staged / "model.yml").string(), std::string(e.c_str()) + "\n");
  replace_dir_atomic(staged.string(), (fs::path(output_) / name).string());
}

void Trainer::write_train_result(bool done) {
  nlohmann::json r = {{"model_name", cfg_.get_string("Global.model")},
                      {"done_flag", done},
                      {"label_dict", "label_dict.txt"},
                      {"train_log", "train.log"},
                      {"config", "config.yaml"},
                      {"models", result_models_}};
  write_json_atomic((fs::path(output_) / "train_result.json").string(), r);
}

int64_t Trainer::resolve_num_classes(const TaskData& data) const {
  if (cfg_.is_null("Train.num_classes")) return data.num_classes;
  const int64_t requested = cfg_.get_int("Train.num_classes");
  if (requested < data.num_classes)
    throw ConfigError(cfg_.origin("Train.num_classes") + ": Train.num_classes=" + std::to_string(requested) +
                      " but the dataset has labels up to " + std::to_string(data.num_classes - 1));
  return requested;
}

void Trainer::load_pretrained(Network& model) const {
  std::string path = cfg_.get_string("Train.pretrain_weight_path");
  if (fs::is_directory(path)) path = (fs::path(path) / "model.pt").string();
  TensorDict tensors = load_tensor_dict(path);
  for (const auto& entry : tensors)
    if (entry.first == kFoldedMarker)
      throw RunError("Train.pretrain_weight_path: '" + path + "' holds exported deployment weights with "
                     "BatchNorm folded into the convolutions; they cannot be trained from. Use the model.pt "
                     "of a training checkpoint (e.g. output/best_model/model.pt)");
  log_load_report(load_matching(model, tensors), path);
}

void Trainer::restore_checkpoint(const std::string& dir, const ModelDescription& description, Network& model,
                                 torch::optim::Optimizer& optimizer, TrainState& state) {
  TrainState saved = TrainState::from_json(read_json_file(dir + "/state.json"), dir + "/state.json");
  ModelDescription saved_desc = read_model_yml(dir + "/model.yml");
  if (saved_desc.model_name != description.model_name || saved_desc.num_classes != description.num_classes)
    throw RunError("Train.resume_path: '" + dir + "' holds " + saved_desc.model_name + " with " +
                   std::to_string(saved_desc.num_classes) + " classes, but this run trains " +
                   description.model_name + " with " + std::to_string(description.num_classes));
  if (saved.world_size != state.world_size) {
    const std::string what = "the checkpoint was trained with " + std::to_string(saved.world_size) +
                             " processes, this run has " + std::to_string(state.world_size);
    if (!cfg_.get_bool("Train.resume_any_world_size"))
      throw RunError("Train.resume_path: " + what + "; set Train.resume_any_world_size=True to continue anyway "
                     "(not exactly: the data order and batch composition change)");
    Log::warn("resuming although " + what + ": training continues, but not exactly");
  }
  if (saved.num_threads != state.num_threads)
    Log::warn("resuming with " + count(state.num_threads, "thread") + " instead of " +
              std::to_string(saved.num_threads) + ": training continues, but not bit-exactly");
  load_exact(model, load_tensor_dict(dir + "/model.pt"), dir + "/model.pt");
  load_optimizer(optimizer, dir + "/optimizer.pt");
  restore_cpu_rng_state(saved.cpu_rng_state);
  state.completed_epochs = saved.completed_epochs;
  state.epoch_batches_done = saved.epoch_batches_done;
  state.global_step = saved.global_step;
  state.best_metric = saved.best_metric;
  state.best_epoch = saved.best_epoch;
  const fs::path result = fs::path(output_) / "train_result.json";
  if (fs::exists(result)) {
    auto previous = read_json_file(result.string());
    if (previous.contains("models")) result_models_ = previous["models"];
    for (int k = 1; k <= 5; ++k)
      if (result_models_.contains("last_" + std::to_string(k)))
        recent_checkpoints_.push_back(result_models_["last_" + std::to_string(k)]);
  }
  Log::info("Resumed from '" + dir + "' after epoch " + std::to_string(state.completed_epochs) +
            (state.epoch_batches_done ? " and " + std::to_string(state.epoch_batches_done) + " iterations of the next"
                                      : std::string()) +
            " (global step " + std::to_string(state.global_step) + ")");
}

LrScheduleSpec Trainer::lr_schedule(int64_t steps_per_epoch) const {
  LrScheduleSpec spec;
  spec.type = cfg_.get_string("Train.lr_scheduler.type");
  spec.base_lr = cfg_.get_float("Train.learning_rate");
  spec.steps_per_epoch = steps_per_epoch;
  spec.total_epochs = cfg_.get_int("Train.epochs_iters");
  spec.warmup_epochs = std::min(cfg_.get_int("Train.warmup_steps"), spec.total_epochs);
  spec.warmup_start_lr = cfg_.get_float("Train.lr_scheduler.warmup_start_lr");
  spec.eta_min = cfg_.get_float("Train.lr_scheduler.eta_min");
  spec.milestones = cfg_.get_int_list("Train.lr_scheduler.milestones");
  spec.gamma = cfg_.get_float("Train.lr_scheduler.gamma");
  return spec;
}

void Trainer::save_epoch(Network& model, torch::optim::Optimizer& optimizer, const TrainState& state,
                         const ModelDescription& description, const std::map<std::string, double>& metrics,
                         bool improved) {
  if (!is_main_) return;
  const std::string primary = task_.primary_metric();
  const double score = metrics.count(primary) ? metrics.at(primary) : -1.0;
  const int64_t epoch = state.completed_epochs;
  if (epoch % cfg_.get_int("Train.save_interval") == 0) {
    const std::string name = "epoch_" + std::to_string(epoch);
    save_checkpoint(name, model, optimizer, state, description, metrics);
    // PaddleX keeps the five newest periodic checkpoints as last_1 (newest) .. last_5.
    recent_checkpoints_.insert(recent_checkpoints_.begin(), checkpoint_entry(name, score));
    if (recent_checkpoints_.size() > 5) recent_checkpoints_.resize(5);
    for (size_t k = 0; k < recent_checkpoints_.size(); ++k)
      result_models_["last_" + std::to_string(k + 1)] = recent_checkpoints_[k];
  }
  if (improved) {
    save_checkpoint("best_model", model, optimizer, state, description, metrics);
    result_models_["best"] = checkpoint_entry("best_model", score);
  }
  save_checkpoint("latest", model, optimizer, state, description, metrics);
  write_file_atomic((fs::path(output_) / "last_checkpoint").string(), "latest\n");
  write_train_result(epoch == cfg_.get_int("Train.epochs_iters"));
}

void Trainer::train() {
  if (is_main_) {
    ensure_writable_dir(output_);
    Log::attach_file((fs::path(output_) / "train.log").string());
    write_file_atomic((fs::path(output_) / "config.yaml").string(), cfg_.to_yaml());
  }
  const int64_t seed = cfg_.get_int("Global.seed");
  torch::manual_seed(static_cast<uint64_t>(seed));

  TaskData data = task_.load_data(cfg_, true, task_.eval_transforms(cfg_));
  std::string label_dict;
  for (size_t i = 0; i < data.labels.size(); ++i) label_dict += std::to_string(i) + " " + data.labels[i] + "\n";
  if (is_main_) write_file_atomic((fs::path(output_) / "label_dict.txt").string(), label_dict);
  ModelDescription description{cfg_.get_string("Global.model"), resolve_num_classes(data), data.labels,
                               task_.eval_transforms(cfg_)};
  auto model = task_.build_model(description.model_name, description.num_classes);

  // Resume wins over pretrain: a resumed run continues exactly, so initial weights are irrelevant.
  std::string resume_dir;
  if (!cfg_.is_null("Train.resume_path")) {
    resume_dir = resolve_resume_dir(cfg_);
    if (!cfg_.is_null("Train.pretrain_weight_path"))
      Log::warn("Train.resume_path is set, so Train.pretrain_weight_path is ignored");
  } else if (!cfg_.is_null("Train.pretrain_weight_path")) {
    load_pretrained(*model);
  }
  prepare_model_for_compute(*model, device_, channels_last_);
  model->train();
  auto optimizer = make_optimizer(cfg_, model->parameters());
  TrainStep step(cfg_, task_, *model, *optimizer, device_, channels_last_, dist_);

  const int64_t batch_size = cfg_.get_int("Train.batch_size");
  LoaderOptions opts;
  opts.batch_size = static_cast<size_t>(batch_size);
  opts.shuffle = true;
  opts.drop_last = data.train->size() >= static_cast<size_t>(batch_size);
  opts.seed = static_cast<uint64_t>(seed);
  opts.num_workers = static_cast<int>(cfg_.get_int("Train.num_workers"));
  if (dist_) {  // each rank reads its shard of every epoch's order
    opts.rank = dist_->rank();
    opts.world_size = dist_->world_size();
  }
  DataLoader loader(data.train, opts);
  const int64_t steps_per_epoch = static_cast<int64_t>(loader.batches_per_epoch());
  const LrScheduleSpec lr_spec = lr_schedule(steps_per_epoch);

  TrainState state;
  state.num_threads = at::get_num_threads();
  state.config_hash = cfg_.hash();
  state.world_size = dist_ ? dist_->world_size() : 1;
  if (!resume_dir.empty()) restore_checkpoint(resume_dir, description, *model, *optimizer, state);
  if (dist_) {
    dist_->broadcast_module(*model);  // every rank starts from rank 0's weights
    dist_->attach(*model);
  }

  const int64_t epochs = cfg_.get_int("Train.epochs_iters");
  Log::info("Training " + description.model_name + " (" + count(description.num_classes, "class") + ") on " +
            count(static_cast<int64_t>(data.train->size()), "image") + ", " + count(steps_per_epoch, "iteration") +
            " per epoch, " + count(epochs, "epoch") + ", device " + device_.str() + ", " +
            count(at::get_num_threads(), "thread") +
            (dist_ ? " per process, " + count(dist_->world_size(), "process") : ""));
  const int64_t log_interval = cfg_.get_int("Train.log_interval");
  const int64_t eval_interval = cfg_.get_int("Train.eval_interval");
  const int64_t eval_batch = cfg_.get_int_or("Evaluate.batch_size", batch_size);
  const std::string primary = task_.primary_metric();
  const int64_t total_steps = epochs * steps_per_epoch;
  const auto run_start = std::chrono::steady_clock::now();
  const int64_t first_step = state.global_step;

  for (int64_t epoch = state.completed_epochs + 1; epoch <= epochs; ++epoch) {
    // A checkpoint taken mid-epoch continues at its batch: the epoch's order is a function of (seed, epoch).
    int64_t iter = state.epoch_batches_done;
    loader.start_epoch(epoch - 1, static_cast<size_t>(iter));
    Batch batch;
    int64_t window_images = 0, window_steps = 0;
    double window_loss = 0.0;
    auto window_start = std::chrono::steady_clock::now();
    while (loader.next(batch)) {
      ++iter;
      const double lr = learning_rate_at(lr_spec, state.global_step);
      double loss_value;
      try {
        loss_value = step.run(batch, lr);
      } catch (const RunError& e) {
        throw RunError(std::string(e.what()) + " (epoch " + std::to_string(epoch) + ", iteration " +
                       std::to_string(iter) + ")");
      }
      ++state.global_step;
      window_loss += loss_value;
      window_images += batch.input.size(0);
      ++window_steps;
      if (iter % log_interval == 0 || iter == steps_per_epoch) {
        auto now = std::chrono::steady_clock::now();
        double window_s = std::chrono::duration<double>(now - window_start).count();
        double run_s = std::chrono::duration<double>(now - run_start).count();
        double per_step = run_s / std::max<int64_t>(1, state.global_step - first_step);
        Log::info("[Train] epoch " + std::to_string(epoch) + "/" + std::to_string(epochs) + " iter " +
                  std::to_string(iter) + "/" + std::to_string(steps_per_epoch) + " loss " +
                  fixed(window_loss / window_steps, 5) + " lr " + fixed(lr, 6) + " " +
                  fixed(window_images / std::max(window_s, 1e-9), 1) + " img/s eta " +
                  format_duration(per_step * (total_steps - state.global_step)));
        window_loss = 0.0;
        window_images = window_steps = 0;
        window_start = now;
      }
      state.epoch_batches_done = iter;
      // In a distributed run all ranks stop at the same step, whichever of them got the signal.
      if (dist_ ? dist_->any(stop_requested()) : stop_requested()) {
        state.cpu_rng_state = capture_cpu_rng_state();
        if (is_main_) {
          save_checkpoint("latest", *model, *optimizer, state, description, {});
          write_file_atomic((fs::path(output_) / "last_checkpoint").string(), "latest\n");
          write_train_result(false);
        }
        throw RunError("stopped by " + (stop_signal_number() ? "signal " + std::to_string(stop_signal_number())
                                                             : std::string("a stop signal on another rank")) +
                       " at epoch " +
                       std::to_string(epoch) + ", iteration " + std::to_string(iter) + "; checkpoint saved in '" +
                       output_ + "/latest': continue with -o Train.resume_path=auto");
      }
    }
    state.epoch_batches_done = 0;
    state.completed_epochs = epoch;

    std::map<std::string, double> metrics;
    bool improved = false;
    if (epoch % eval_interval == 0 || epoch == epochs) {
      metrics = shared_evaluation(*model, *data.val, eval_batch);
      const double score = metrics.at(primary);
      // ">=" as PaddleClas: among equal scores the later epoch is kept.
      if (score >= state.best_metric) {
        improved = true;
        state.best_metric = score;
        state.best_epoch = epoch;
      }
      Log::info("[Eval] epoch " + std::to_string(epoch) + " " + metrics_text(metrics) + " (best " + primary + " " +
                fixed(state.best_metric, 4) + " at epoch " + std::to_string(state.best_epoch) + ")");
    }
    state.cpu_rng_state = capture_cpu_rng_state();
    save_epoch(*model, *optimizer, state, description, metrics, improved);
  }
  Log::info("Training done: best " + primary + " " + fixed(state.best_metric, 4) + " at epoch " +
            std::to_string(state.best_epoch) + "; checkpoints in '" + output_ + "'");
  Log::detach_file();
}

nlohmann::json Trainer::evaluate() {
  const std::string dir =
      resolve_checkpoint_dir(cfg_.get_string_or("Evaluate.weight_path", (fs::path(output_) / "best_model").string()),
                             "Evaluate.weight_path");
  ModelDescription desc = read_model_yml(dir + "/model.yml");
  // The checkpoint's own preprocessing: the model was trained at its input size, whatever this config says.
  TaskData data = task_.load_data(cfg_, false, desc.transforms);
  if (data.num_classes > desc.num_classes)
    throw RunError("the dataset has " + std::to_string(data.num_classes) + " classes but the model in '" + dir +
                   "' predicts " + std::to_string(desc.num_classes));
  auto model = load_checkpoint_network(task_, dir, desc);
  prepare_model_for_compute(*model, device_, channels_last_);
  const int64_t batch = cfg_.get_int_or("Evaluate.batch_size", cfg_.get_int("Train.batch_size"));
  Log::info("Evaluating '" + dir + "' (" + desc.model_name + ") on " + std::to_string(data.val->size()) +
            " validation images");
  auto metrics = run_evaluation(*model, *data.val, batch, true);
  Log::info("[Eval] " + metrics_text(metrics));
  return {{"metrics", metrics}, {"weight_path", dir}};
}

}  // namespace paddlex
