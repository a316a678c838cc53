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
#include "paddlex/io/tensor_file.h"
#include "paddlex/trainers/distributed.h"
#include "paddlex/trainers/ema.h"
#include "paddlex/trainers/evaluation.h"
#include "paddlex/trainers/metrics_log.h"
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

void log_load_report(const LoadReport& r, const std::string& source) {
  Log::info("Pretrained weights '" + source + "': " + std::to_string(r.loaded.size()) + " tensors loaded, " +
            std::to_string(r.skipped.size()) + " skipped, " + std::to_string(r.missing.size()) +
            " left at their initial values");
  for (const auto& s : r.skipped) Log::info("  skipped " + s);
  for (const auto& m : r.missing) Log::info("  not in file: " + m);
}

ScheduleUnit schedule_unit(const Config& cfg, const Task& task) {
  if (cfg.is_null("Train.schedule_unit")) return task.default_schedule_unit();
  return cfg.get_string("Train.schedule_unit") == "iters" ? ScheduleUnit::kIters : ScheduleUnit::kEpochs;
}

EvalOptions eval_options(const Config& cfg, const torch::Device& device, bool channels_last) {
  EvalOptions o;
  o.batch_size = static_cast<size_t>(cfg.get_int_or("Evaluate.batch_size", cfg.get_int("Train.batch_size")));
  o.num_workers = static_cast<int>(cfg.get_int("Train.num_workers"));
  o.seed = static_cast<uint64_t>(cfg.get_int("Global.seed"));
  o.device = device;
  o.channels_last = channels_last;
  return o;
}

}  // namespace

Trainer::Trainer(const Config& cfg, const Task& task, DistContext* dist)
    : cfg_(cfg),
      task_(task),
      dist_(dist),
      is_main_(!dist || dist->rank() == 0),
      output_(cfg.get_string("Global.output")),
      device_(parse_device(cfg.get_string("Global.device")).torch_device(dist ? dist->local_rank() : 0)),
      channels_last_(cfg.get_bool("Train.channels_last")) {}

Trainer::~Trainer() = default;

std::string Trainer::unit_name() const { return unit_ == ScheduleUnit::kEpochs ? "epoch" : "iteration"; }

std::string Trainer::position() const {
  return "epoch " + std::to_string(state_.completed_epochs + 1) + ", iteration " +
         std::to_string(state_.epoch_batches_done + 1) + " (step " + std::to_string(state_.global_step + 1) + ")";
}

Network& Trainer::eval_network() { return ema_ ? ema_->averaged() : *model_; }

void Trainer::save_checkpoint(const std::string& name, const Metrics* metrics) {
  const fs::path staged = fs::path(output_) / ("." + name + ".staging");
  fs::remove_all(staged);
  fs::create_directories(staged);
  save_tensor_dict(state_dict(*model_), (staged / "model.pt").string());
  for (const StatefulComponent* c : components_) c->save(staged.string());
  write_json_atomic((staged / "state.json").string(), state_.to_json());
  const std::map<std::string, double> values = metrics ? metrics->values : std::map<std::string, double>{};
  write_file_atomic((staged / "model.yml").string(),
                    yaml_text(model_yml(model_info_, "Normal", state_.completed_epochs, values)));
  replace_dir_atomic(staged.string(), (fs::path(output_) / name).string());
  last_checkpoint_ = (fs::path(output_) / name).string();
}

void Trainer::write_train_result(bool done) {
  nlohmann::json r = {{"model_name", cfg_.get_string("Global.model")},
                      {"done_flag", done},
                      {"train_log", "train.log"},
                      {"metrics_log", "metrics.jsonl"},
                      {"train_curves", "train_curves.png"},
                      {"config", "config.yaml"},
                      {"models", result_models_}};
  r.update(data_.result_fields);
  write_json_atomic((fs::path(output_) / "train_result.json").string(), r);
}

void Trainer::load_pretrained() {
  std::string path = cfg_.get_string("Train.pretrain_weight_path");
  const std::string paddle = paddle_weights_at(path, "Train.pretrain_weight_path");
  if (!paddle.empty())
    path = paddle;
  else if (fs::is_directory(path))
    path = (fs::path(path) / read_model_yml((fs::path(path) / "model.yml").string()).eval_weights).string();
  TensorDict tensors = read_weights_for(*model_, path);
  for (const auto& entry : tensors)
    if (entry.first == kFoldedMarker)
      throw RunError("Train.pretrain_weight_path: '" + path + "' holds exported deployment weights with "
                     "BatchNorm folded into the convolutions; they cannot be trained from. Use the model.pt "
                     "of a training checkpoint (e.g. output/best_model/model.pt)");
  const LoadReport report = load_matching(*model_, tensors);
  const std::string why = model_->explain_missing(report.missing);
  if (!why.empty()) Log::warn("Train.pretrain_weight_path: " + why);
  if (report.loaded.empty())
    throw RunError("Train.pretrain_weight_path: no tensor of '" + path + "' fits " + model_info_.model_name +
                   " (weights of another model?):" + mismatch_list(report, 10));
  log_load_report(report, path);
}

void Trainer::restore_checkpoint(const std::string& dir) {
  TrainState saved = TrainState::from_json(read_json_file(dir + "/state.json"), dir + "/state.json");
  const ModelInfo saved_info = read_model_yml(dir + "/model.yml");
  if (saved_info.model_name != model_info_.model_name || !same_attributes(saved_info.attributes, model_info_.attributes))
    throw RunError("Train.resume_path: '" + dir + "' holds " + saved_info.model_name + " (" + task_.describe(saved_info) +
                   "), but this run trains " + model_info_.model_name + " (" + task_.describe(model_info_) + ")");
  if (saved.world_size != state_.world_size) {
    const std::string what = "the checkpoint was trained with " + std::to_string(saved.world_size) +
                             " processes, this run has " + std::to_string(state_.world_size);
    if (!cfg_.get_bool("Train.resume_any_world_size"))
      throw RunError("Train.resume_path: " + what + "; set Train.resume_any_world_size=True to continue anyway "
                     "(not exactly: the data order and batch composition change)");
    Log::warn("resuming although " + what + ": training continues, but not exactly");
  }
  if (saved.num_threads != state_.num_threads)
    Log::warn("resuming with " + count(state_.num_threads, "thread") + " instead of " +
              std::to_string(saved.num_threads) + ": training continues, but not bit-exactly");
  load_network_weights(*model_, load_tensor_dict(dir + "/model.pt"), dir + "/model.pt");
  for (StatefulComponent* c : components_) {
    if (c == ema_.get() && !fs::exists(dir + "/ema_state.pt")) {
      Log::warn("Train.ema is on but '" + dir + "' was trained without it: the weight average starts afresh");
      continue;
    }
    c->load(dir);
  }
  if (!ema_ && fs::exists(dir + "/ema_state.pt"))
    Log::warn("'" + dir + "' holds a weight average (Train.ema) that this run, with Train.ema=False, drops");
  restore_cpu_rng_state(saved.cpu_rng_state);
  state_.completed_epochs = saved.completed_epochs;
  state_.epoch_batches_done = saved.epoch_batches_done;
  state_.global_step = saved.global_step;
  if (saved.steps_per_epoch > 0 && saved.steps_per_epoch != steps_per_epoch_) {
    // Another batch size or process count: epochs keep their meaning, so the position is recounted in this
    // run's steps (a checkpoint past this run's epoch length continues with the next epoch).
    Log::warn("the checkpoint's epochs had " + count(saved.steps_per_epoch, "step") + ", this run's have " +
              std::to_string(steps_per_epoch_) + ": training continues from the same epoch, but not exactly");
    if (state_.epoch_batches_done >= steps_per_epoch_) {
      ++state_.completed_epochs;
      state_.epoch_batches_done = 0;
    }
    if (unit_ == ScheduleUnit::kEpochs)
      state_.global_step = state_.completed_epochs * steps_per_epoch_ + state_.epoch_batches_done;
  }
  state_.best_metric = saved.best_metric;
  state_.best_at = saved.best_at;
  last_checkpoint_ = dir;
  const fs::path result = fs::path(output_) / "train_result.json";
  if (fs::exists(result)) {
    auto previous = read_json_file(result.string());
    if (previous.contains("models")) result_models_ = previous["models"];
    for (int k = 1; k <= 5; ++k)
      if (result_models_.contains("last_" + std::to_string(k)))
        recent_checkpoints_.push_back(result_models_["last_" + std::to_string(k)]);
  }
  Log::info("Resumed from '" + dir + "' after epoch " + std::to_string(state_.completed_epochs) +
            (state_.epoch_batches_done ? " and " + std::to_string(state_.epoch_batches_done) + " iterations of the next"
                                       : std::string()) +
            " (global step " + std::to_string(state_.global_step) + ")");
}

void Trainer::setup_run() {
  data_ = task_.load_data(cfg_, nullptr);
  model_info_ = data_.model;
  const bool use_ema = cfg_.get_bool("Train.ema");
  model_info_.eval_weights = use_ema ? "ema.pt" : "model.pt";
  if (is_main_)
    for (const auto& [name, content] : data_.files) write_file_atomic((fs::path(output_) / name).string(), content);
  model_ = task_.build_model(model_info_);

  // Resume wins over pretrain: a resumed run continues exactly, so initial weights are irrelevant.
  std::string resume_dir;
  if (!cfg_.is_null("Train.resume_path")) {
    resume_dir = resolve_resume_dir(cfg_);
    if (!cfg_.is_null("Train.pretrain_weight_path"))
      Log::warn("Train.resume_path is set, so Train.pretrain_weight_path is ignored");
  } else if (!cfg_.is_null("Train.pretrain_weight_path")) {
    load_pretrained();
  }
  prepare_model_for_compute(*model_, device_, channels_last_);
  model_->train();
  optimizer_ = make_optimizer(cfg_, *model_);
  optimizer_state_ = std::make_unique<OptimizerState>(*optimizer_.torch);
  components_ = {optimizer_state_.get()};
  if (use_ema) {
    auto averaged = task_.build_model(model_info_);
    prepare_model_for_compute(*averaged, device_, channels_last_);
    averaged->eval();
    for (auto& p : averaged->parameters()) p.set_requires_grad(false);
    ema_ = std::make_unique<ModelEma>(cfg_.get_float("Train.ema_decay"),
                                      parse_ema_decay_type(cfg_.get_string("Train.ema_decay_type")), *model_,
                                      std::move(averaged));
    components_.push_back(ema_.get());
  }
  evaluator_ = task_.make_evaluator(cfg_, model_info_);
  step_ = std::make_unique<TrainStep>(*model_, task_.make_criterion(cfg_, model_info_), optimizer_, device_,
                                      channels_last_, dist_);

  const int64_t batch_size = cfg_.get_int("Train.batch_size");
  LoaderOptions opts;
  opts.batch_size = static_cast<size_t>(batch_size);
  opts.shuffle = true;
  opts.drop_last = data_.train->size() >= static_cast<size_t>(batch_size);
  opts.seed = static_cast<uint64_t>(cfg_.get_int("Global.seed"));
  opts.num_workers = static_cast<int>(cfg_.get_int("Train.num_workers"));
  if (dist_) {  // each rank reads its shard of every epoch's order
    opts.rank = dist_->rank();
    opts.world_size = dist_->world_size();
  }
  loader_ = std::make_unique<DataLoader>(data_.train, opts);
  steps_per_epoch_ = static_cast<int64_t>(loader_->batches_per_epoch());
  if (steps_per_epoch_ == 0) throw RunError("the training set yields no batch");

  unit_ = schedule_unit(cfg_, task_);
  const int64_t units = cfg_.get_int("Train.epochs_iters");
  lr_spec_.type = cfg_.get_string("Train.lr_scheduler.type");
  lr_spec_.base_lr = cfg_.get_float("Train.learning_rate");
  lr_spec_.steps_per_unit = unit_ == ScheduleUnit::kEpochs ? steps_per_epoch_ : 1;
  lr_spec_.total_units = units;
  lr_spec_.warmup_units = std::min(cfg_.get_int("Train.warmup_steps"), units);
  lr_spec_.warmup_start_lr = cfg_.get_float("Train.lr_scheduler.warmup_start_lr");
  lr_spec_.eta_min = cfg_.get_float("Train.lr_scheduler.eta_min");
  lr_spec_.cosine_spans_warmup = cfg_.get_string("Train.lr_scheduler.cosine_span") == "total";
  lr_spec_.milestones = cfg_.get_int_list("Train.lr_scheduler.milestones");
  lr_spec_.gamma = cfg_.get_float("Train.lr_scheduler.gamma");
  total_steps_ = units * lr_spec_.steps_per_unit;

  state_.num_threads = at::get_num_threads();
  state_.steps_per_epoch = steps_per_epoch_;
  state_.config_hash = cfg_.hash();
  state_.world_size = dist_ ? dist_->world_size() : 1;
  if (!resume_dir.empty()) restore_checkpoint(resume_dir);
  if (dist_) {
    dist_->broadcast_module(*model_);  // every rank starts from rank 0's weights
    dist_->attach(*model_);
  }
  if (is_main_)
    metrics_log_ = std::make_unique<MetricsLog>(output_, resume_dir.empty() ? std::nullopt
                                                                            : std::optional<int64_t>(state_.global_step));
}

bool Trainer::train_one_batch(const Batch& batch) {
  const double lr = learning_rate_at(lr_spec_, state_.global_step);
  StepLosses losses;
  try {
    losses = step_->run(batch, lr, stop_requested());
  } catch (const NonFiniteLoss& e) {
    const std::string what = e.term.empty() ? "a loss term is not finite on another rank"
                                            : "loss term '" + e.term + "' is " + std::to_string(e.value);
    throw RunError("training diverged at " + position() + ": " + what + "; nothing after the last good checkpoint " +
                   (last_checkpoint_.empty() ? std::string("(none was written yet)") : "'" + last_checkpoint_ + "'") +
                   " was written. Lower Train.learning_rate or check the data, then resume from that checkpoint");
  } catch (const RunError& e) {
    throw RunError(std::string(e.what()) + " (" + position() + ")");
  }
  if (ema_) ema_->update();
  ++state_.global_step;
  ++state_.epoch_batches_done;

  if (window_.terms.empty())
    for (const auto& term : losses.terms) window_.terms.emplace_back(term.first, 0.0);
  for (size_t i = 0; i < losses.terms.size() && i < window_.terms.size(); ++i)
    window_.terms[i].second += losses.terms[i].second;
  window_.total += losses.total;
  window_.samples += batch.size();
  ++window_.steps;
  const int64_t iter = state_.epoch_batches_done;
  const int64_t counted = unit_ == ScheduleUnit::kEpochs ? iter : state_.global_step;
  // In a distributed run all ranks stop at the same step, whichever of them got the signal.
  const bool stop = dist_ ? losses.stop : stop_requested();
  if (counted % cfg_.get_int("Train.log_interval") != 0 && iter != steps_per_epoch_) return stop;

  const auto now = std::chrono::steady_clock::now();
  const double window_s = std::max(std::chrono::duration<double>(now - window_.start).count(), 1e-9);
  const double run_s = std::chrono::duration<double>(now - run_start_).count();
  const double per_step = run_s / static_cast<double>(std::max<int64_t>(1, state_.global_step - first_step_));
  const std::string rate_key = plural(task_.sample_unit()) + "/s";
  const double rate = static_cast<double>(window_.samples) / window_s;
  const double n = static_cast<double>(window_.steps);
  std::string terms_text;
  nlohmann::json record = {{"type", "train"}, {"step", state_.global_step}, {"epoch", state_.completed_epochs + 1},
                           {"iter", iter}, {"lr", lr}, {"loss", window_.total / n}};
  for (const auto& [name, sum] : window_.terms) {
    terms_text += (terms_text.empty() ? "" : ", ") + name + " " + fixed(sum / n, 5);
    record[name] = sum / n;
  }
  record[rate_key] = rate;
  const std::string where = unit_ == ScheduleUnit::kEpochs
                                ? "epoch " + std::to_string(state_.completed_epochs + 1) + "/" +
                                      std::to_string(lr_spec_.total_units) + " iter " + std::to_string(iter) + "/" +
                                      std::to_string(steps_per_epoch_)
                                : "iter " + std::to_string(state_.global_step) + "/" + std::to_string(total_steps_) +
                                      " (epoch " + std::to_string(state_.completed_epochs + 1) + ")";
  Log::info("[Train] " + where + " loss " + fixed(window_.total / n, 5) + " (" + terms_text + ") lr " + fixed(lr, 6) +
            " " + fixed(rate, 1) + " " + rate_key + " eta " + format_duration(per_step * static_cast<double>(total_steps_ - state_.global_step)));
  if (metrics_log_) metrics_log_->train_record(record);
  window_ = Window();
  return stop;
}

void Trainer::finish_unit(int64_t unit) {
  const bool is_last = state_.global_step == total_steps_;
  const bool do_eval = unit % cfg_.get_int("Train.eval_interval") == 0 || is_last;
  const bool do_save = unit % cfg_.get_int("Train.save_interval") == 0;
  Metrics metrics;
  bool improved = false;
  if (do_eval) {
    const auto eval_start = std::chrono::steady_clock::now();
    // Throughput counts training only: the evaluation's time moves the log window's start along.
    struct ShiftWindow {
      Window& w;
      std::chrono::steady_clock::time_point from;
      ~ShiftWindow() { w.start += std::chrono::steady_clock::now() - from; }
    } shift{window_, eval_start};
    Network& network = eval_network();
    // Every rank evaluates rank 0's model, the one it saves: BatchNorm statistics are updated from each rank's
    // own shard and differ between ranks (the weights do not).
    if (dist_) dist_->broadcast_buffers(network);
    metrics = run_evaluation(network, data_.val, *evaluator_, eval_options(cfg_, device_, channels_last_), dist_);
    const double score = metrics.primary_value();
    if (!state_.best_metric || metrics.improves(score, *state_.best_metric)) {
      improved = true;
      state_.best_metric = score;
      state_.best_at = unit;
    }
    Log::info("[Eval] " + unit_name() + " " + std::to_string(unit) + " " + metrics_text(metrics.values) + " (best " +
              metrics.primary + " " + fixed(*state_.best_metric, 4) + " at " + unit_name() + " " +
              std::to_string(state_.best_at) + (ema_ ? ", weight average" : "") + ")");
    if (metrics_log_) metrics_log_->eval_record(state_.global_step, state_.completed_epochs, metrics);
  }
  state_.cpu_rng_state = capture_cpu_rng_state();
  if (!is_main_) return;
  auto entry = [&](const std::string& dir) {
    nlohmann::json e = {{"score", do_eval ? nlohmann::json(metrics.primary_value()) : nlohmann::json(nullptr)},
                        {"weights", dir + "/model.pt"},
                        {"optimizer", dir + "/optimizer.pt"},
                        {"state", dir + "/state.json"},
                        {"model_yml", dir + "/model.yml"}};
    if (ema_) e["ema"] = dir + "/ema.pt";
    return e;
  };
  const Metrics* saved_metrics = do_eval ? &metrics : nullptr;
  if (do_save) {
    const std::string name = (unit_ == ScheduleUnit::kEpochs ? "epoch_" : "iter_") + std::to_string(unit);
    save_checkpoint(name, saved_metrics);
    // PaddleX keeps the five newest periodic checkpoints as last_1 (newest) .. last_5.
    recent_checkpoints_.insert(recent_checkpoints_.begin(), entry(name));
    if (recent_checkpoints_.size() > 5) recent_checkpoints_.resize(5);
    for (size_t k = 0; k < recent_checkpoints_.size(); ++k)
      result_models_["last_" + std::to_string(k + 1)] = recent_checkpoints_[k];
  }
  if (improved) {
    save_checkpoint("best_model", saved_metrics);
    result_models_["best"] = entry("best_model");
  }
  // Epochs are long: latest follows each; iterations are short: latest follows evaluations and saves.
  if (unit_ == ScheduleUnit::kEpochs || do_eval || do_save) {
    save_checkpoint("latest", saved_metrics);
    write_file_atomic((fs::path(output_) / "last_checkpoint").string(), "latest\n");
    write_train_result(is_last);
  }
}

void Trainer::train() {
  if (is_main_) {
    ensure_writable_dir(output_);
    Log::attach_file((fs::path(output_) / "train.log").string());
    write_file_atomic((fs::path(output_) / "config.yaml").string(), cfg_.to_yaml());
  }
  torch::manual_seed(static_cast<uint64_t>(cfg_.get_int("Global.seed")));
  setup_run();

  const std::string length = unit_ == ScheduleUnit::kEpochs ? count(lr_spec_.total_units, "epoch")
                                                            : count(lr_spec_.total_units, "iteration") + " in all";
  Log::info("Training " + model_info_.model_name + " (" + task_.describe(model_info_) + ") on " +
            count(static_cast<int64_t>(data_.train->size()), task_.sample_unit()) +
            ", " + count(steps_per_epoch_, "iteration") + " per epoch, " + length + ", device " + device_.str() + ", " +
            count(at::get_num_threads(), "thread") + (dist_ ? " per process, " + count(dist_->world_size(), "process") : "") +
            (ema_ ? ", weight average (EMA) on" : ""));
  if (cfg_.get_bool("Train.eval_before_train") && state_.global_step == 0) {
    // The loaded weights themselves: a weight average has seen no step yet.
    const Metrics metrics =
        run_evaluation(*model_, data_.val, *evaluator_, eval_options(cfg_, device_, channels_last_), dist_);
    Log::info("[Eval] before training " + metrics_text(metrics.values));
    if (metrics_log_) metrics_log_->eval_record(0, 0, metrics);
  }
  run_start_ = std::chrono::steady_clock::now();
  first_step_ = state_.global_step;
  window_ = Window();
  bool start_epoch = true;
  while (state_.global_step < total_steps_) {
    // A checkpoint taken mid-epoch continues at its batch: the epoch's order is a function of (seed, epoch).
    if (start_epoch) loader_->start_epoch(state_.completed_epochs, static_cast<size_t>(state_.epoch_batches_done));
    start_epoch = false;
    Batch batch;
    if (!loader_->next(batch)) throw RunError("internal: the data loader ended an epoch early (" + position() + ")");
    const bool stop = train_one_batch(batch);
    const bool epoch_end = state_.epoch_batches_done == steps_per_epoch_;
    if (epoch_end) {
      ++state_.completed_epochs;
      state_.epoch_batches_done = 0;
      start_epoch = true;
    }
    if (unit_ == ScheduleUnit::kIters) finish_unit(state_.global_step);
    else if (epoch_end) finish_unit(state_.completed_epochs);
    // A stop at the last step changes nothing: the final checkpoint is written already.
    if (stop && state_.global_step < total_steps_) {
      state_.cpu_rng_state = capture_cpu_rng_state();
      if (is_main_) {
        save_checkpoint("latest", nullptr);
        write_file_atomic((fs::path(output_) / "last_checkpoint").string(), "latest\n");
        write_train_result(false);
      }
      const std::string at = state_.epoch_batches_done
                                 ? "epoch " + std::to_string(state_.completed_epochs + 1) + ", iteration " +
                                       std::to_string(state_.epoch_batches_done)
                                 : "the end of epoch " + std::to_string(state_.completed_epochs);
      throw RunError("stopped by " + (stop_signal_number() ? "signal " + std::to_string(stop_signal_number())
                                                           : std::string("a stop signal on another rank")) +
                     " at " + at + "; checkpoint saved in '" + output_ + "/latest': continue with -o Train.resume_path=auto");
    }
  }
  Log::info("Training done" +
            (state_.best_metric ? ": best_model from " + unit_name() + " " + std::to_string(state_.best_at) + " (" +
                                      fixed(*state_.best_metric, 4) + ")"
                                : std::string()) +
            "; checkpoints in '" + output_ + "'");
  Log::detach_file();
}

nlohmann::json Trainer::evaluate() {
  const CheckpointRef checkpoint = open_trained_model(
      task_, cfg_, cfg_.get_string_or("Evaluate.weight_path", (fs::path(output_) / "best_model").string()),
      "Evaluate.weight_path");
  const std::string& dir = checkpoint.dir;
  const ModelInfo& info = checkpoint.info;
  if (info.task != task_.name())
    throw RunError("Evaluate.weight_path: '" + dir + "' holds a " + info.task + " model (" + info.model_name +
                   "), but Global.model " + cfg_.get_string("Global.model") + " is a " + task_.name() + " model");
  // The checkpoint's own preprocessing: the model was trained at its input size, whatever this config says.
  TaskData data = task_.load_data(cfg_, &info);
  auto network = load_model_network(task_, info, checkpoint.weights);
  prepare_model_for_compute(*network, device_, channels_last_);
  auto evaluator = task_.make_evaluator(cfg_, info);
  EvalOptions opts = eval_options(cfg_, device_, channels_last_);
  opts.log_interval = cfg_.get_int("Evaluate.log_interval");
  Log::info("Evaluating '" + dir + "' (" + info.model_name + ", " + info.eval_weights + ") on " +
            count(static_cast<int64_t>(data.val->size()), task_.sample_unit()) +
            " of the val split");
  const Metrics metrics = run_evaluation(*network, data.val, *evaluator, opts);
  Log::info("[Eval] " + metrics_text(metrics.values));
  return {{"metrics", metrics.values}, {"primary_metric", metrics.primary}, {"weight_path", dir}};
}

}  // namespace paddlex
