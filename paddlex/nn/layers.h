// Building blocks shared by the classification backbones: PaddleClas semantics, PyTorch names.
#pragma once
#include <torch/torch.h>

#include <string>

#include "paddlex/nn/ml_decoder.h"
#include "paddlex/nn/onnx_graph.h"

namespace paddlex::nn {

// PaddleClas' make_divisible: `v` rounded to a multiple of `divisor`, at least `divisor`, and never
// more than 10% below `v`.
int64_t make_divisible(double v, int64_t divisor = 8);

enum class Activation { kNone, kReLU, kHardswish };

// ReLU runs in place: `x` must be a temporary whose value nothing else needs (e.g. a BatchNorm output).
torch::Tensor activate(torch::Tensor x, Activation act);
std::string activate_onnx(OnnxGraph& g, const std::string& x, Activation act);

// Paddle's hardsigmoid: clamp(slope * x + offset, 0, 1). MobileNetV3's SE uses slope 0.2,
// PP-LCNet's the standard 1/6 (= torch::hardsigmoid).
torch::Tensor hardsigmoid(const torch::Tensor& x, double slope, double offset = 0.5);

// A copy of `conv` (same device, dtype and mode) with a zero bias. LibTorch registers the "bias" of
// a bias-free conv as an undefined tensor, so fold_conv_bn cannot give it one in place.
torch::nn::Conv2d with_zero_bias(const torch::nn::Conv2d& conv);

// Folds `bn` into `conv`, first replacing a bias-free `conv` (registered as `conv_name` in `owner`)
// by with_zero_bias(conv); then removes `bn` (registered as `bn_name`) and nulls its holder. A null
// `bn` means it was folded already and nothing happens.
void fold_and_drop_bn(torch::nn::Module& owner, const std::string& conv_name,
                      torch::nn::Conv2d& conv, const std::string& bn_name,
                      torch::nn::BatchNorm2d& bn);

// conv (bias-free, "same" padding) -> BatchNorm -> activation; children are named `conv` and `bn`.
class ConvBNActImpl : public torch::nn::Module, public OnnxExportable {
 public:
  ConvBNActImpl(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride,
                int64_t groups, Activation act);
  torch::Tensor forward(torch::Tensor x);
  void fold_batchnorm();
  std::string to_onnx(OnnxGraph& g, const std::string& x) const override;

  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};

 private:
  Activation act_;
};
TORCH_MODULE(ConvBNAct);

// Squeeze-and-excitation: x * hardsigmoid(conv2(relu(conv1(avgpool(x))))), with channels/4 hidden.
class SEModuleImpl : public torch::nn::Module, public OnnxExportable {
 public:
  SEModuleImpl(int64_t channels, double hardsigmoid_slope);
  torch::Tensor forward(torch::Tensor x);
  std::string to_onnx(OnnxGraph& g, const std::string& x) const override;

  torch::nn::Conv2d conv1{nullptr};
  torch::nn::Conv2d conv2{nullptr};

 private:
  double hardsigmoid_slope_;
};
TORCH_MODULE(SEModule);

// What produces a classifier's logits from its backbone's feature map.
enum class ClassifierHead {
  kLinear,     // global average pool + linear layer (single-label classification)
  kMLDecoder,  // ML-Decoder over every position of the map (PaddleClas's *_ML multi-label models)
};

// PaddleClas' "class expand" head of MobileNetV3 and PP-LCNet: global average pool, 1x1 conv to 1280 channels
// without bias, hardswish, dropout 0.2 (PaddlePaddle's downscale_in_infer mode), linear classifier. With the
// ML-Decoder (PaddleClas removes only the pool) the conv, hardswish and dropout act on every position and the
// ML-Decoder replaces the linear layer. Modules are registered directly on the owning network as `last_conv`
// and `fc`, the PaddleClas parameter names.
struct ClassExpandHead {
  static constexpr int64_t kChannels = 1280;
  static constexpr double kDropout = 0.2;
  torch::nn::Conv2d last_conv{nullptr};
  torch::nn::Linear fc{nullptr};
  MLDecoder ml_decoder{nullptr};

  void register_on(torch::nn::Module& owner, int64_t in_channels, int64_t num_classes, ClassifierHead head);
  // Features [N,C,H,W] -> logits [N,num_classes].
  torch::Tensor forward(const torch::Tensor& features, bool training);
  std::string to_onnx(OnnxGraph& g, const std::string& features) const;
};

// Refuses to describe a BatchNorm that was not folded (the export folds before it emits).
void require_folded(const OnnxGraph& g, const torch::nn::BatchNorm2d& bn);

// Folds the BN of every ConvBNAct below `root`.
void fold_all_conv_bn_act(torch::nn::Module& root);

// Below `root` (so constructors may call it): Kaiming-normal (fan_out, relu) conv weights, zero
// conv biases, BN weight 1 and bias 0; Linear layers keep their initialisation.
void init_conv_bn(torch::nn::Module& root);

}  // namespace paddlex::nn
