// PaddleOCR's PPLCNetV3 (ppocr/modeling/backbones/rec_lcnetv3.py), the backbone of PP-OCRv4's mobile text
// recognizer (scale 0.95, rec layout) and text detector (scale 0.75, det layout). Parameter names are
// PaddleOCR's (conv1, blocks2..blocks6, dw_conv/pw_conv, conv_kxk.N, conv_1x1, identity, lab, act.lab,
// layer_list), so its .pdparams load one to one.
//
// Each convolution is a LearnableRepLayer: four kxk conv+BN branches, a 1x1 conv+BN branch and a BN identity,
// summed and scaled by a learnable scalar affine (LAB); trained in that multi-branch form and fused into one
// convolution for deployment (fold_batchnorm), as PaddleOCR's export does with rep().
#pragma once
#include <torch/torch.h>

#include <array>
#include <string>
#include <vector>

#include "paddlex/nn/network.h"
#include "paddlex/nn/onnx_graph.h"

namespace paddlex::nn {

// (height, width) of a kernel, stride or padding.
using Pair2 = std::array<int64_t, 2>;

// Conv2d without bias followed by a BatchNorm (eps 1e-5) named `norm_name`; after fold() the conv carries the
// BN and has a bias. Kernel, stride and padding are (height, width).
class ConvNormImpl : public torch::nn::Module, public OnnxExportable {
 public:
  ConvNormImpl(int64_t in, int64_t out, Pair2 kernel, Pair2 stride, Pair2 padding, int64_t groups,
               std::string norm_name = "bn");
  torch::Tensor forward(const torch::Tensor& x);
  void fold();
  std::string to_onnx(OnnxGraph& g, const std::string& x) const override;

  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d norm{nullptr};

 private:
  std::string norm_name_;
};
TORCH_MODULE(ConvNorm);

// y = scale * x + bias with two learnable scalars (PaddleOCR trains them at a tenth of the learning rate).
class LearnableAffineImpl : public torch::nn::Module {
 public:
  LearnableAffineImpl();
  torch::Tensor forward(const torch::Tensor& x) const { return x * scale + bias; }
  torch::Tensor scale, bias;
};
TORCH_MODULE(LearnableAffine);

class LearnableRepLayerImpl;
class PPLCNetV3Impl : public torch::nn::Module, public OnnxExportable {
 public:
  enum class Layout {
    kRec,  // text recognition: (2,1)/(1,2) strides keep the width, one [N, C, 1, W/8] feature map out
    kDet,  // text detection: stride-2 stages, four feature maps (1/4 .. 1/32) through 1x1 adapters
  };
  PPLCNetV3Impl(double scale, Layout layout);
  // Rec: [N,3,H,W] -> {[N, C, 1, T]}: average-pooled to one row (train: adaptive to [1, W'/2]; eval: a [3, 2]
  // window, so H must be 48 as in PaddleOCR). Det: the four adapted feature maps.
  std::vector<torch::Tensor> forward(torch::Tensor x);
  // Fuses every rep layer's branches (BN and LAB folded) into one biased convolution.
  void fold_batchnorm();
  // Rec only (one output); det graphs are composed by the detector from stage outputs.
  std::string to_onnx(OnnxGraph& g, const std::string& x) const override;
  std::vector<int64_t> out_channels() const { return out_channels_; }
  // How PaddleOCR trains the parameter `name` (relative to the backbone): the LAB scalars at a tenth of the
  // learning rate (ParamAttr lab_lr 0.1), the BatchNorms of the ConvBNLayer branches without weight decay.
  static ParameterTraining parameter_training(const std::string& name);

 private:
  Layout layout_;
  ConvNorm conv1{nullptr};
  std::vector<torch::nn::Sequential> stages_;
  std::vector<torch::nn::Conv2d> layer_list_;
  std::vector<int64_t> out_channels_;
};
TORCH_MODULE(PPLCNetV3);

}  // namespace paddlex::nn
