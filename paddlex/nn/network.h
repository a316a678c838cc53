// The base of every task's model: named tensors in, named tensors out. The names are the contract with the
// task's data and loss, and become the exported model's input and output names.
#pragma once
#include <torch/torch.h>

#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "paddlex/core/tensor_map.h"
#include "paddlex/nn/onnx_graph.h"

namespace paddlex {

// How one parameter trains where its reference implementation sets it apart (PaddlePaddle's ParamAttr): a
// multiple of the learning rate and its own weight decay.
struct ParameterTraining {
  double lr_scale = 1.0;
  std::optional<double> weight_decay;  // none: Train.optimizer.weight_decay
  bool operator<(const ParameterTraining& o) const {
    return std::tie(lr_scale, weight_decay) < std::tie(o.lr_scale, o.weight_decay);
  }
};

class Network : public torch::nn::Module {
 public:
  ~Network() override = default;
  // The batch tensors the network reads, e.g. {"image"}.
  virtual std::vector<std::string> input_names() const = 0;
  // The tensors forward returns, e.g. {"logits"}.
  virtual std::vector<std::string> output_names() const = 0;
  virtual TensorMap forward(const TensorMap& inputs) = 0;
  // Folds every BatchNorm into the conv before it and removes the BN submodules (deployment form).
  virtual void fold_batchnorm() = 0;
  // Describes the eval-mode network (BatchNorm folded) as an ONNX graph: inputs and outputs named as
  // input_names()/output_names(), dynamic batch. Throws nn::OnnxUnsupported naming a layer it cannot describe.
  virtual void to_onnx(nn::OnnxGraph& g) const {
    throw nn::OnnxUnsupported("the model (" + name() + ") has no ONNX description");
  }
  // PaddlePaddle parameter-name prefixes and ours, for a model whose names differ from its reference
  // implementation's (io/paddle_layout.h converts the rest: BatchNorm statistics, Linear layouts).
  virtual std::vector<std::pair<std::string, std::string>> paddle_name_prefixes() const { return {}; }
  // Why a weight file may lack `missing` tensors of this model (e.g. a layer an engine version added); "" when
  // nothing particular is known.
  virtual std::string explain_missing(const std::vector<std::string>& /*missing*/) const { return ""; }
  // How the parameter `name` (a named_parameters() key) trains; the default is as configured.
  virtual ParameterTraining parameter_training(const std::string& /*name*/) const { return {}; }
};

}  // namespace paddlex
