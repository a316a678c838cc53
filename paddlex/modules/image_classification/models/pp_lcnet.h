// PP-LCNet as PaddleClas builds it (legendary_models/pp_lcnet.py); submodule names follow
// PaddleClas (conv1, blocks2..blocks6 with dw_conv/se/pw_conv, last_conv, fc).
#pragma once
#include <torch/torch.h>

#include <vector>

#include "paddlex/modules/image_classification/models/classifier.h"
#include "paddlex/nn/layers.h"

namespace paddlex::cls {

class PPLCNetImpl : public ClassifierImpl {
 public:
  // `scale` multiplies every channel count except the 1280-wide last_conv.
  PPLCNetImpl(double scale, int64_t num_classes, nn::ClassifierHead head = nn::ClassifierHead::kLinear);
  torch::Tensor logits(torch::Tensor x) override;
  std::string logits_onnx(nn::OnnxGraph& g, const std::string& image) const override;
  void fold_batchnorm() override;

 private:
  nn::ConvBNAct conv1{nullptr};
  std::vector<torch::nn::Sequential> stages_;  // blocks2..blocks6
  nn::ClassExpandHead head;
};

}  // namespace paddlex::cls
