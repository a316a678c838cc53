// ML-Decoder (Ridnik et al. 2023) as PaddleClas's ppcls/arch/gears/ml_decoder.py builds it for its *_ML models:
// a 1x1 conv projecting the feature map to 768 channels (ReLU), a frozen learned query per group, one post-norm
// transformer decoder layer with the self-attention removed (t = norm1(q + dropout(q)), 8-head cross-attention
// into the feature map, a 2048-wide ReLU feed-forward; LayerNorm eps 1e-5, dropout 0.1), and "GroupFC": a
// grouped 1x1 conv giving ceil(classes/queries) logits per query, truncated to the class count. No positional
// encoding of the image tokens. Parameter names as PaddleClas's (input_proj, query_pos_embed,
// decoder.layers.0.{cross_attn.{q,k,v,out}_proj,linear1,linear2,norm1..3}, group_conv).
#pragma once
#include <torch/torch.h>

#include <string>

#include "paddlex/nn/onnx_graph.h"

namespace paddlex::nn {

struct MLDecoderOptions {
  int64_t in_channels = 2048;
  int64_t num_classes = 80;
  int64_t query_num = 80;  // clamped to [1, num_classes]
  int64_t embed_dim = 768;
  int64_t num_heads = 8;
  int64_t mlp_hidden_dim = 2048;
  double dropout = 0.1;
};

class MLDecoderImpl : public torch::nn::Module {
 public:
  explicit MLDecoderImpl(const MLDecoderOptions& options);
  // Features [N, in_channels, H, W] -> logits [N, num_classes].
  torch::Tensor forward(const torch::Tensor& features);
  // PaddlePaddle's default initialisation of these layers (conv: normal with std sqrt(2/fan_in); linear and the
  // query embedding: Xavier uniform; group_conv: Xavier normal; biases zero; LayerNorm 1/0). Models call it after
  // initialising their backbone, which would otherwise overwrite it.
  void reset_parameters();
  // Eval-mode ONNX nodes for features [N, in_channels, H, W] scaled by `input_scale` (an eval-mode dropout before
  // the head) -> logits [N, num_classes]. The query path does not depend on the image and is computed here; the
  // attention runs on an [N, C, Q, 1] layout of 1x1 convolutions (see onnx_graph.h for why).
  std::string to_onnx(OnnxGraph& g, const std::string& features, double input_scale) const;

 private:
  struct DecoderLayer;
  MLDecoderOptions options_;
  int64_t group_factor_;
  torch::nn::Conv2d input_proj{nullptr};
  torch::nn::Embedding query_pos_embed{nullptr};
  std::shared_ptr<DecoderLayer> layer_;
  torch::nn::Conv2d group_conv{nullptr};
};
TORCH_MODULE(MLDecoder);

// PaddlePaddle's Dropout(mode="downscale_in_infer") of PaddleClas heads: in training x * mask with no rescaling,
// in eval x * (1 - p).
torch::Tensor downscale_dropout(const torch::Tensor& x, double p, bool training);

}  // namespace paddlex::nn
