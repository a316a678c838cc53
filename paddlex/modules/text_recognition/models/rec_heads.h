// The PP-OCRv4 recognition head (PaddleOCR's MultiHead): the SVTR sequence encoder and CTC head that read the
// text, and the NRTR transformer decoder that only guides training. Parameter names are PaddleOCR's
// (head.ctc_encoder.encoder.*, head.ctc_head.fc, head.before_gtc.1.fc, head.gtc_head.*).
#pragma once
#include <torch/torch.h>

#include <string>

#include "paddlex/nn/onnx_graph.h"
#include "paddlex/nn/pp_lcnet_v3.h"

namespace paddlex::ocr {

// SVTR's global-attention block as EncoderWithSVTR uses it: pre-norm (LayerNorm eps 1e-5), 8-head attention,
// a SiLU MLP (ratio 2), dropout 0.1.
class SvtrBlockImpl;

// EncoderWithSVTR (necks/rnn.py), use_guide: the backbone map [N, C, 1, T] -> [N, T, dims]. Its input is
// detached, so the CTC loss trains only the neck and the CTC head.
class SvtrEncoderImpl : public torch::nn::Module {
 public:
  SvtrEncoderImpl(int64_t in_channels, int64_t dims, int64_t depth, int64_t hidden_dims);
  torch::Tensor forward(const torch::Tensor& x);
  void fold_batchnorm();
  // [N, C, 1, T] -> [N, dims, 1, T] (the sequence kept in the channels-first layout ONNX emission works on).
  std::string to_onnx(nn::OnnxGraph& g, const std::string& x) const;

 private:
  nn::ConvNorm conv1{nullptr}, conv2{nullptr}, conv3{nullptr}, conv4{nullptr}, conv1x1{nullptr};
  torch::nn::ModuleList svtr_block{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(SvtrEncoder);

// NRTR's transformer decoder (heads/rec_nrtr_head.py Transformer with no encoder): 4 post-norm layers of
// causal self-attention, cross-attention into the backbone sequence and a ReLU MLP; d_model 384, 12 heads.
class NrtrDecoderImpl : public torch::nn::Module {
 public:
  NrtrDecoderImpl(int64_t vocab, int64_t d_model, int64_t layers, int64_t heads, int64_t feedforward);
  // memory [N, L, d_model], target ids [N, S] (starting with <s>) -> logits [N, S, vocab].
  torch::Tensor forward(const torch::Tensor& memory, const torch::Tensor& target);

 private:
  struct Layer;
  int64_t d_model_;
  torch::nn::Embedding embedding{nullptr};
  torch::Tensor pe;
  torch::nn::ModuleList decoder{nullptr};
  torch::nn::Linear tgt_word_prj{nullptr};
};
TORCH_MODULE(NrtrDecoder);

// The token ids of NRTR: CTC class c (1-based characters) is NRTR token c + 3.
struct NrtrTokens {
  static constexpr int64_t kPad = 0, kStart = 2, kEnd = 3, kCharOffset = 3;
};

class MultiHeadImpl : public torch::nn::Module {
 public:
  // `num_classes`: CTC classes (blank + characters); `in_channels`: the backbone's width.
  MultiHeadImpl(int64_t in_channels, int64_t num_classes);
  // Eval: CTC probabilities [N, T, C]. Training: CTC logits.
  torch::Tensor ctc(const torch::Tensor& features);
  // Training only: NRTR logits [N, S, num_classes + 4] for `label_gtc` [N, 25] cut to the longest label.
  torch::Tensor nrtr(const torch::Tensor& features, const torch::Tensor& label_gtc, const torch::Tensor& length);
  void fold_batchnorm() { ctc_encoder_->fold_batchnorm(); }
  // features [N, C, 1, T] -> CTC probabilities [N, T, C].
  std::string to_onnx(nn::OnnxGraph& g, const std::string& features) const;
  // Paddle's fc_decay: the CTC fc has its own L2 factor.
  static constexpr double kCtcFcWeightDecay = 1e-5;

 private:
  SvtrEncoder ctc_encoder_{nullptr};
  torch::nn::Linear ctc_fc_{nullptr};
  torch::nn::Linear before_gtc_fc_{nullptr};
  NrtrDecoder gtc_head_{nullptr};
};
TORCH_MODULE(MultiHead);

}  // namespace paddlex::ocr
