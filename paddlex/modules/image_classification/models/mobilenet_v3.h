// MobileNetV3 small/large as PaddleClas builds it (legendary_models/mobilenet_v3.py); submodule
// names follow PaddleClas (conv, blocks.<i>.expand_conv, ..., last_second_conv, last_conv, fc).
#pragma once
#include <torch/torch.h>

#include "paddlex/modules/image_classification/models/classifier.h"
#include "paddlex/nn/layers.h"

namespace paddlex::cls {

enum class MobileNetV3Size { kSmall, kLarge };

class MobileNetV3Impl : public ClassifierImpl {
 public:
  // `scale` multiplies every channel count except the 1280-wide last_conv (PaddleClas
  // x0_35..x1_25).
  MobileNetV3Impl(MobileNetV3Size size, double scale, int64_t num_classes);
  torch::Tensor logits(torch::Tensor x) override;
  std::string logits_onnx(nn::OnnxGraph& g, const std::string& image) const override;
  void fold_batchnorm() override;

 private:
  nn::ConvBNAct conv{nullptr};
  torch::nn::Sequential blocks{nullptr};
  nn::ConvBNAct last_second_conv{nullptr};
  nn::ClassExpandHead head;
};

}  // namespace paddlex::cls
