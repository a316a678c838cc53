#include "paddlex/core/config_schema.h"

#include <sstream>

namespace paddlex {

KeySpec key(std::string k, ValueType t, std::string def, std::string doc) {
  KeySpec s;
  s.key = std::move(k);
  s.type = t;
  s.default_yaml = std::move(def);
  s.nullable = s.default_yaml == "null";
  s.doc = std::move(doc);
  return s;
}
KeySpec range(KeySpec s, std::optional<double> lo, std::optional<double> hi) {
  s.min = lo;
  s.max = hi;
  return s;
}
KeySpec oneof(KeySpec s, std::vector<std::string> choices) {
  s.choices = std::move(choices);
  return s;
}
KeySpec nullable(KeySpec s) {
  s.nullable = true;
  return s;
}

namespace {

using T = ValueType;

KeyGroup build_core_keys() {
  return {"Engine", {
      // ---- Global
      nullable(key("Global.model", T::String, "null", "Model name, e.g. ResNet18, PP-LCNet_x1_0 (required)")),
      oneof(key("Global.mode", T::String, "check_dataset", "What to run"),
            {"check_dataset", "train", "evaluate", "export", "predict"}),
      key("Global.dataset_dir", T::String, "null", "Dataset root in the PaddleX layout of the task"),
      key("Global.device", T::String, "cpu",
          "cpu, gpu, gpu:0,1,2,3 (one training process per id), or cpu:0,1 (N CPU processes on Gloo); a CPU "
          "build refuses gpu"),
      key("Global.output", T::String, "output", "Directory for results, logs and checkpoints"),
      range(key("Global.seed", T::Int, "42", "Seed of weight init, data order and augmentation"), 0, {}),
      range(key("Global.num_threads", T::Int, "0",
                "Intra-op compute threads per process; 0 = all cores (split between self-launched CPU ranks)"),
            0, 1024),
      range(key("Global.dist_timeout", T::Int, "1800",
                "Distributed: seconds a rendezvous or collective may wait for a peer before the rank fails"),
            1, {}),
      // ---- CheckDataset
      key("CheckDataset.convert.enable", T::Bool, "False", "Convert the dataset from another format first"),
      key("CheckDataset.convert.src_dataset_type", T::String, "null",
          "Source format for convert (the task's formats: COCO for multi-label classification)"),
      key("CheckDataset.split.enable", T::Bool, "False",
          "Re-split train+val by the percentages below (originals kept as *.bak)"),
      range(key("CheckDataset.split.train_percent", T::Int, "null", "Percent of samples for train"), 1, 99),
      range(key("CheckDataset.split.val_percent", T::Int, "null", "Percent of samples for val"), 1, 99),
      // ---- Train: the engine
      range(key("Train.epochs_iters", T::Int, "20",
                "Training length, in epochs or iterations (Train.schedule_unit)"), 1, {}),
      oneof(key("Train.schedule_unit", T::String, "null",
                "What epochs_iters, eval/save_interval, warmup_steps and Piecewise milestones count: epochs or "
                "iters (optimizer steps); null = the task's unit (epochs for classification)"),
            {"epochs", "iters"}),
      range(key("Train.batch_size", T::Int, "64", "Batch size per device"), 1, {}),
      range(key("Train.learning_rate", T::Float, "0.1", "Base learning rate (after warmup)"), 0, {}),
      key("Train.pretrain_weight_path", T::String, "null",
          "Initial weights: our model.pt, a checkpoint dir, or a PyTorch state_dict file; mismatched "
          "tensors are skipped and listed"),
      range(key("Train.warmup_steps", T::Int, "5", "Linear warmup length, in Train.schedule_unit units"), 0, {}),
      key("Train.resume_path", T::String, "null",
          "Checkpoint dir to resume exactly from, or 'auto' for <output>/last_checkpoint; wins over "
          "pretrain_weight_path"),
      key("Train.resume_any_world_size", T::Bool, "False",
          "Allow resuming with another number of processes (training continues, but not exactly)"),
      range(key("Train.log_interval", T::Int, "10", "Log a line (and a metrics.jsonl record) every N iterations"), 1, {}),
      range(key("Train.eval_interval", T::Int, "1", "Evaluate on val every N epochs or iterations (and at the end)"), 1, {}),
      range(key("Train.save_interval", T::Int, "1", "Keep an epoch_N / iter_N checkpoint every N epochs or iterations"), 1, {}),
      oneof(key("Train.optimizer.type", T::String, "Momentum",
                "Optimizer: SGD with momentum, Adam (L2 decay added to the gradient, as PaddlePaddle's L2Decay), or "
                "AdamW (decoupled decay)"),
            {"Momentum", "Adam", "AdamW"}),
      range(key("Train.optimizer.momentum", T::Float, "0.9", "Momentum of Momentum"), 0, 1),
      range(key("Train.optimizer.weight_decay", T::Float, "0.0001",
                "L2 weight decay (Momentum, Adam) or decoupled decay (AdamW)"),
            0, {}),
      key("Train.optimizer.one_dim_param_no_weight_decay", T::Bool, "False",
          "No weight decay for one-dimensional parameters (biases, norm scales), as PaddleClas's option"),
      range(key("Train.optimizer.beta1", T::Float, "0.9", "Adam/AdamW beta1"), 0, 1),
      range(key("Train.optimizer.beta2", T::Float, "0.999", "Adam/AdamW beta2"), 0, 1),
      range(key("Train.optimizer.epsilon", T::Float, "1e-08", "Adam/AdamW epsilon"), 0, {}),
      oneof(key("Train.lr_scheduler.type", T::String, "Cosine",
                "LR decay after warmup: Cosine to eta_min, Piecewise at milestones, or Constant"),
            {"Cosine", "Piecewise", "Constant"}),
      range(key("Train.lr_scheduler.milestones", T::IntList, "[30, 60, 90]",
                "Piecewise: epochs (or iterations) at which the LR is multiplied by gamma"),
            1, {}),
      range(key("Train.lr_scheduler.gamma", T::Float, "0.1", "Piecewise: decay factor"), 0, 1),
      oneof(key("Train.lr_scheduler.cosine_span", T::String, "after_warmup",
                "Cosine: the steps the cosine spans: after_warmup (PaddleClas) or total (PaddleOCR: the warmup "
                "counts too, so the rate ends above eta_min)"),
            {"after_warmup", "total"}),
      range(key("Train.lr_scheduler.eta_min", T::Float, "0.0", "Cosine: final learning rate"), 0, {}),
      range(key("Train.lr_scheduler.warmup_start_lr", T::Float, "0.0", "Learning rate at step 0 of warmup"),
            0, {}),
      key("Train.eval_before_train", T::Bool, "False",
          "Evaluate the starting model (e.g. Train.pretrain_weight_path) before the first step: logged and "
          "written to metrics.jsonl at step 0, never a best_model candidate"),
      key("Train.ema", T::Bool, "False",
          "Keep an exponential moving average of the weights (PaddleDetection's ModelEMA); evaluation, "
          "best_model, export and predict then use it"),
      range(key("Train.ema_decay", T::Float, "0.9998", "EMA decay (the weight of the old average), below 1"), 0,
            0.999999),
      oneof(key("Train.ema_decay_type", T::String, "threshold",
                "EMA decay warm-up: threshold = min(decay, (1+n)/(10+n)), exponential = decay*(1-exp(-(n+1)/2000)), "
                "normal = constant; n = updates so far"),
            {"threshold", "exponential", "normal"}),
      oneof(key("Train.amp", T::String, "OFF",
                "Mixed precision (PaddleX OFF | O1 | O2); only OFF is implemented, others stop with an error"),
            {"OFF", "O1", "O2"}),
      range(key("Train.num_workers", T::Int, "2", "Data loader threads (decode + augment); 0 = main thread"),
            0, 64),
      key("Train.channels_last", T::Bool, "True", "Run convolutions in NHWC memory format (faster on CPU)"),
      // ---- Evaluate
      key("Evaluate.weight_path", T::String, "null",
          "Checkpoint dir or its model.pt; null = <output>/best_model"),
      range(key("Evaluate.batch_size", T::Int, "null", "Eval batch size; null = Train.batch_size"), 1, {}),
      range(key("Evaluate.log_interval", T::Int, "10", "Log progress every N batches"), 1, {}),
      // ---- Export
      key("Export.weight_path", T::String, "null", "Checkpoint dir or its model.pt; null = <output>/best_model"),
      key("Export.save_dir", T::String, "null", "Deployment dir; null = <checkpoint dir>/inference"),
      // ---- Predict
      range(key("Predict.batch_size", T::Int, "1", "Inputs per forward pass"), 1, {}),
      key("Predict.model_dir", T::String, "null",
          "Exported dir (inference.yml) or checkpoint dir; null = <output>/best_model/inference"),
      key("Predict.input", T::String, "null", "An image file, a directory of images, or a .txt list of paths"),
      oneof(key("Predict.kernel_option.run_mode", T::String, "paddle",
                "For exported dirs on the CPU, mkldnn: inference.onnx on oneDNN, onnx: inference.onnx in OpenCV "
                "dnn; libtorch: the network in LibTorch (any dir, any device); paddle (PaddleX's default): mkldnn "
                "for an exported dir on the CPU, libtorch otherwise"),
            {"paddle", "mkldnn", "onnx", "libtorch"}),
  }};
}

}  // namespace

const KeyGroup& core_config_keys() {
  static const KeyGroup group = build_core_keys();
  return group;
}

const KeySpec* Schema::find(const std::string& k) const {
  for (const KeyGroup* g : groups)
    for (const auto& s : g->keys)
      if (s.key == k) return &s;
  return nullptr;
}

bool Schema::has_keys_below(const std::string& prefix) const {
  for (const KeyGroup* g : groups)
    for (const auto& s : g->keys)
      if (s.key.rfind(prefix + ".", 0) == 0) return true;
  return false;
}

const std::vector<std::string>& accepted_paddlex_keys() {
  static const std::vector<std::string> keys = {
      "Global.export_with_pir",  "Train.dy2st",           "Train.uniform_output_enabled",
      "Train.basic_config_path", "Evaluate.basic_config_path",
      "Benchmark",
  };
  return keys;
}

std::string type_name(ValueType type) {
  switch (type) {
    case ValueType::Int: return "int";
    case ValueType::Float: return "float";
    case ValueType::Bool: return "bool";
    case ValueType::String: return "string";
    case ValueType::IntList: return "list of int";
    case ValueType::FloatList: return "list of float";
  }
  return "?";
}

namespace {
std::string allowed_text(const KeySpec& s) {
  std::ostringstream os;
  if (!s.choices.empty()) {
    for (size_t i = 0; i < s.choices.size(); ++i) os << (i ? " | " : "") << s.choices[i];
    if (s.nullable) os << " | null";
    return os.str();
  } else if (s.min || s.max) {
    os << (s.min ? std::to_string(*s.min) : std::string("-inf")) << " .. "
       << (s.max ? std::to_string(*s.max) : std::string("inf"));
    std::string r = os.str();
    // Trim "1.000000" to "1".
    std::string out;
    for (size_t i = 0; i < r.size(); ++i) {
      if (r[i] == '.' && r.compare(i, 7, ".000000") == 0) {
        i += 6;
        continue;
      }
      out += r[i];
    }
    return out;
  }
  if (s.nullable) os << (os.tellp() > 0 ? ", " : "") << "null";
  return os.str();
}
}  // namespace

namespace {
// A Markdown table cell: a literal '|' would end it.
std::string table_cell(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string tasks_text(const DocGroup& g) {
  if (g.tasks.empty()) return "every task";
  std::string out;
  for (const auto& t : g.tasks) out += (out.empty() ? "" : ", ") + t;
  return out;
}
}  // namespace

std::string config_markdown(const std::vector<DocGroup>& groups) {
  std::ostringstream os;
  os << "# Configuration keys\n\n"
        "Generated from the config schema (`paddlex/core/config_schema.cpp` and each task's keys under\n"
        "`paddlex/modules/<task>/`) by `build/main --config-doc`; a test keeps this file equal to that output.\n"
        "Every key can be set in the YAML file or with `-o Section.key=value` (later `-o` wins over earlier ones and\n"
        "over the file; list elements: `-o Train.mean.0=0.5`). A config is checked against the keys of all tasks\n"
        "plus those of the task of its `Global.model`; unknown keys, keys of another task, wrong types and\n"
        "out-of-range values stop with exit code 2.\n\n"
        "PaddleX keys accepted with a warning and otherwise ignored: ";
  const auto& acc = accepted_paddlex_keys();
  for (size_t i = 0; i < acc.size(); ++i) os << (i ? ", " : "") << "`" << acc[i] << "`";
  os << ".\n";
  for (const auto& g : groups) {
    os << "\n## " << g.group->title << "\n\nUsed by: " << tasks_text(g) << ".\n";
    std::string section;
    for (const auto& s : g.group->keys) {
      std::string sec = s.key.substr(0, s.key.find('.'));
      if (sec != section) {
        section = sec;
        os << "\n### " << section << "\n\n| key | type | default | allowed | description |\n|---|---|---|---|---|\n";
      }
      os << "| `" << s.key << "` | " << type_name(s.type) << " | `" << s.default_yaml << "` | "
         << table_cell(allowed_text(s)) << " | " << table_cell(s.doc) << " |\n";
    }
  }
  return os.str();
}

std::string config_help_text(const std::vector<DocGroup>& groups) {
  std::ostringstream os;
  for (const auto& g : groups) {
    os << g.group->title << " (" << tasks_text(g) << "):\n";
    for (const auto& s : g.group->keys) {
      os << "  " << s.key << " (" << type_name(s.type) << ", default " << s.default_yaml;
      std::string allowed = allowed_text(s);
      if (!allowed.empty() && allowed != "null") os << "; " << allowed;
      os << ")\n      " << s.doc << "\n";
    }
  }
  return os.str();
}

}  // namespace paddlex
