// ResNet18/34/50 as PaddleClas builds them (its "vb" ResNet: stride on the 3x3 of a bottleneck, and a projection
// shortcut on the first block of every stage, the first stage of ResNet18/34 included, where torchvision has
// none), with torchvision's parameter names so its state_dict files load by name; paddle_name_prefixes maps
// PaddleClas's names (stem, blocks.<i>.conv<j>, short) to these.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "paddlex/modules/image_classification/models/classifier.h"
#include "paddlex/nn/layers.h"

namespace paddlex::cls {

enum class ResNetBlock { kBasic, kBottleneck };

class ResNetImpl : public ClassifierImpl {
 public:
  // `depths`: number of blocks in layer1..layer4.
  ResNetImpl(ResNetBlock block, const std::vector<int64_t>& depths, int64_t num_classes,
             nn::ClassifierHead head = nn::ClassifierHead::kLinear);
  torch::Tensor logits(torch::Tensor x) override;
  std::string logits_onnx(nn::OnnxGraph& g, const std::string& image) const override;
  void fold_batchnorm() override;
  std::vector<std::pair<std::string, std::string>> paddle_name_prefixes() const override { return paddle_prefixes_; }
  std::string explain_missing(const std::vector<std::string>& missing) const override;

 private:
  torch::nn::Sequential make_layer(ResNetBlock block, int64_t stage, int64_t planes, int64_t depth, int64_t stride);

  int64_t inplanes_ = 64;
  int64_t blocks_made_ = 0;  // PaddleClas numbers the blocks of all stages in one sequence
  std::vector<std::pair<std::string, std::string>> paddle_prefixes_;
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  std::vector<torch::nn::Sequential> layers_;
  torch::nn::Linear fc{nullptr};
  nn::MLDecoder ml_decoder{nullptr};  // registered as "fc" in place of the linear layer (ClassifierHead::kMLDecoder)
};

}  // namespace paddlex::cls
