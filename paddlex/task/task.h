// The one interface through which a task plugs into the generic engine. trainers/, export/ and inference/ talk
// to a task only through this header and never name one.
#pragma once
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "paddlex/core/config_schema.h"
#include "paddlex/datasets/data_loader.h"
#include "paddlex/io/model_dir.h"
#include "paddlex/io/tensor_file.h"
#include "paddlex/nn/network.h"

namespace paddlex {

class Config;

// The metrics of one evaluation and the one that selects best_model.
struct Metrics {
  std::map<std::string, double> values;  // names as in evaluate_result.json, e.g. "val.top1"
  std::string primary;                   // a key of values
  bool higher_is_better = true;
  double primary_value() const;
  // Whether `score` should replace `best` as the best so far: ties go to the newer model (PaddleClas's >=); a NaN
  // score never does, and anything finite replaces a NaN best.
  bool improves(double score, double best) const {
    if (std::isnan(score)) return false;
    if (std::isnan(best)) return true;
    return higher_is_better ? score >= best : score <= best;
  }
};

// Accumulates a model's outputs over an evaluation pass. In a data-parallel run every rank processes its shard,
// the ranks exchange state() and each merges the others' into its own, so evaluate() equals what one process
// that saw every batch computes (evaluators keep per-sample results keyed by dataset index, or exact sums).
class Evaluator {
 public:
  virtual ~Evaluator() = default;
  virtual void reset() = 0;
  virtual void process(const Batch& batch, const TensorMap& outputs) = 0;
  // What process() accumulated, as CPU tensors.
  virtual TensorMap state() const = 0;
  // Adds another evaluator's state() (another rank's shard).
  virtual void merge(const TensorMap& other) = 0;
  virtual Metrics evaluate() const = 0;
};

// The named loss terms of one batch (e.g. a detector's cls/iou/dfl); the trainer optimizes their sum and logs
// each term.
using LossTerms = std::vector<std::pair<std::string, torch::Tensor>>;
using Criterion = std::function<LossTerms(const TensorMap& outputs, const Batch& batch)>;

// The task's part of predict mode; the generic runner (inference/) batches, runs the model and writes
// <stem>.json and predict_result.json.
class Predictor {
 public:
  virtual ~Predictor() = default;
  // Predict.input -> the inputs to run, in order (throws RunError when there are none).
  virtual std::vector<std::string> collect_inputs(const std::string& input) const = 0;
  // One input, preprocessed as the model expects.
  virtual Sample read(const std::string& input) const = 0;
  virtual Batch collate(std::vector<Sample> samples) const { return stack_samples(std::move(samples)); }
  // One result per batch row, fields in the order PaddleX writes them; the runner puts input_path first.
  virtual std::vector<nlohmann::ordered_json> postprocess(const Batch& batch, const TensorMap& outputs) const = 0;
  // Draws `result` for `input` into `<output_stem>.<ext>`.
  virtual void visualize(const std::string& input, const nlohmann::json& result,
                         const std::string& output_stem) const = 0;
};

enum class ScheduleUnit { kEpochs, kIters };

// The data of a training or evaluation run.
struct TaskData {
  std::shared_ptr<const SampleSource> train;  // null in evaluate mode
  std::shared_ptr<const SampleSource> val;
  ModelInfo model;                            // train mode: the model this data trains
  std::map<std::string, std::string> files;   // train mode: written into Global.output (e.g. label_dict.txt)
  nlohmann::json result_fields = nlohmann::json::object();  // train mode: added to train_result.json
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  virtual std::vector<std::string> model_names() const = 0;
  // The keys this task adds to the core schema (groups may be shared between tasks).
  virtual std::vector<const KeyGroup*> config_keys() const = 0;
  // Cross-field checks of those keys; throws ConfigError naming the key's origin.
  virtual void check_config(const Config& cfg) const = 0;
  // What Train.epochs_iters counts when Train.schedule_unit is null.
  virtual ScheduleUnit default_schedule_unit() const { return ScheduleUnit::kEpochs; }
  // What one sample is, singular: "image" (throughput is reported as images/s).
  virtual std::string sample_unit() const = 0;
  // A few words on a model's attributes for the log, e.g. "4 classes".
  virtual std::string describe(const ModelInfo& model) const = 0;

  // check_dataset mode: converts/splits when asked, checks every sample, writes artefacts under
  // <output>/check_dataset/ and returns the body of check_dataset_result.json.
  virtual nlohmann::json check_dataset(const Config& cfg) const = 0;
  // Train mode (`trained` null): the train and val sources and the ModelInfo of the model to train (name, the
  // task's attributes, eval transforms). Evaluate mode: the val source preprocessed as `*trained` says and
  // checked against its attributes. Throws RunError naming file:line for bad data.
  virtual TaskData load_data(const Config& cfg, const ModelInfo* trained) const = 0;
  // The model of PaddlePaddle weights that came without our model.yml (a .pdparams file, a PaddleX checkpoint
  // directory): Global.model with the task's attributes found for `weights` (e.g. the class list PaddleX wrote
  // next to them, or else the dataset's) and the configured eval transforms. Throws RunError saying what is
  // missing.
  virtual ModelInfo model_for_paddle_weights(const Config& cfg, const std::string& weights) const = 0;
  virtual std::shared_ptr<Network> build_model(const ModelInfo& model) const = 0;
  virtual Criterion make_criterion(const Config& cfg, const ModelInfo& model) const = 0;
  virtual std::unique_ptr<Evaluator> make_evaluator(const Config& cfg, const ModelInfo& model) const = 0;
  // inference.yml of an exported model (pre- and postprocessing).
  virtual YAML::Node inference_config(const ModelInfo& model) const = 0;
  virtual std::unique_ptr<Predictor> make_predictor(const Config& cfg, const ModelInfo& model,
                                                    const YAML::Node& inference_config) const = 0;
};

// Global.dataset_dir, which must name a directory (ConfigError when unset, RunError when not a directory).
std::string dataset_root(const Config& cfg);

// The model Global.model names, of task `task`, with the task's `attributes` and eval `transforms`: the ModelInfo
// of a model about to be trained, or of bare PaddlePaddle weights.
ModelInfo configured_model(const Config& cfg, const std::string& task, YAML::Node attributes, YAML::Node transforms);

// The file holding the attributes of PaddlePaddle weights `weights` (what `what` says, e.g. "the class list"):
// the label_dict.txt PaddleX writes into its output directory, next to the weights or one level above, else
// `dataset_file` in Global.dataset_dir. Throws RunError saying where it looked and what to do.
std::string paddle_weights_attribute_file(const Config& cfg, const std::string& weights, const std::string& what,
                                          const std::string& dataset_file);

// The weights in `path` in `network`'s names and layouts: our model.pt and PyTorch state_dicts as stored,
// PaddlePaddle files (.pdparams, .pdema) converted (io/paddle_layout.h). Throws RunError naming the file.
TensorDict read_weights_for(const Network& network, const std::string& path);

// The network `model` describes with the weights of file `weights`, every tensor of which must fit.
std::shared_ptr<Network> load_model_network(const Task& task, const ModelInfo& model, const std::string& weights);
// load_exact with the network's own explanation of missing tensors (Network::explain_missing).
void load_network_weights(Network& network, const TensorDict& tensors, const std::string& source);

// The trained model `path` names for `key` (Evaluate.weight_path, Export.weight_path): one of our checkpoints
// (directory or a weight file in it), or PaddlePaddle weights (a .pdparams file, a PaddleX checkpoint directory)
// described by Task::model_for_paddle_weights; `dir` is then the directory holding the file.
CheckpointRef open_trained_model(const Task& task, const Config& cfg, const std::string& path, const std::string& key);

// The tensors of `batch` a network reads, moved to `device` (4-D ones to NHWC when channels_last).
TensorMap network_inputs(const Network& network, const Batch& batch, const torch::Device& device, bool channels_last);

}  // namespace paddlex
