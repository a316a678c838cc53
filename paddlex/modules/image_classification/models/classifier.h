// Image classification networks: the common interface and the by-name factory.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "paddlex/nn/network.h"

namespace paddlex::cls {

// Image classifiers: {"image": [N,3,H,W] float} -> {"logits": [N,num_classes]}.
class ClassifierImpl : public Network {
 public:
  std::vector<std::string> input_names() const override { return {"image"}; }
  std::vector<std::string> output_names() const override { return {"logits"}; }
  TensorMap forward(const TensorMap& inputs) override { return {{"logits", logits(inputs.at("image"))}}; }
  // [N,3,H,W] float -> logits [N,num_classes]; any H,W >= 32.
  virtual torch::Tensor logits(torch::Tensor x) = 0;
  // The ONNX graph of logits(): input "image" [batch, 3, height, width] (all three dynamic), output "logits".
  void to_onnx(nn::OnnxGraph& g) const override {
    g.add_input("image", {"batch", 3, "height", "width"});
    g.add_output("logits", logits_onnx(g, "image"), {"batch", nn::OnnxDim()});
  }
  // The nodes of logits() on graph value `image`; returns the logits' value name.
  virtual std::string logits_onnx(nn::OnnxGraph& g, const std::string& image) const = 0;
  // Folds every BatchNorm into the conv before it and removes the BN submodules (deployment form):
  // afterwards state_dict has no BN keys, convs that had BN have a "bias", eval-mode outputs equal
  // (within 1e-4 relative) those of the unfolded model in eval mode.
  void fold_batchnorm() override = 0;
};
using Classifier = std::shared_ptr<ClassifierImpl>;

// Throws paddlex::ConfigError for an unknown name (listing the known names) or num_classes < 1.
Classifier create_classifier(const std::string& name, int64_t num_classes);
// Every name create_classifier accepts, in a fixed order.
const std::vector<std::string>& classifier_names();

}  // namespace paddlex::cls
