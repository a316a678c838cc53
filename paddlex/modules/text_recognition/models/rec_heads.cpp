#include "paddlex/modules/text_recognition/models/rec_heads.h"

#include <cmath>

namespace paddlex::ocr {
namespace {

namespace F = torch::nn::functional;

constexpr double kDropout = 0.1;
constexpr int64_t kSvtrHeads = 8;
constexpr double kSvtrMlpRatio = 2.0;
// NRTR as PP-OCRv4 configures it: nrtr_dim 384, 384 / 32 heads, 4 decoder layers, feed-forward 4x.
constexpr int64_t kNrtrDim = 384, kNrtrHeads = kNrtrDim / 32, kNrtrLayers = 4, kNrtrFeedForward = 4 * kNrtrDim;
constexpr int64_t kMaxPositions = 5000;

// Linear layers of the neck: truncated normal weights (std 0.02, redrawn beyond 2 std, Paddle's
// TruncatedNormal), zero biases, as PaddleOCR's SVTR _init_weights.
torch::nn::Linear svtr_linear(int64_t in, int64_t out) {
  constexpr double kStd = 0.02;
  torch::nn::Linear fc(in, out);
  torch::NoGradGuard no_grad;
  auto& w = fc->weight;
  w.normal_(0.0, kStd);
  for (auto outside = w.abs() > 2 * kStd; outside.any().item<bool>(); outside = w.abs() > 2 * kStd)
    w.masked_scatter_(outside, torch::randn({outside.sum().item<int64_t>()}) * kStd);
  fc->bias.zero_();
  return fc;
}

// NRTR's Linear layers: Xavier normal weights, zero biases.
torch::nn::Linear nrtr_linear(int64_t in, int64_t out, bool bias = true) {
  torch::nn::Linear fc(torch::nn::LinearOptions(in, out).bias(bias));
  torch::NoGradGuard no_grad;
  torch::nn::init::xavier_normal_(fc->weight);
  if (bias) fc->bias.zero_();
  return fc;
}

// [N, L, heads * d] -> [N, heads, L, d]
torch::Tensor split_heads(const torch::Tensor& x, int64_t heads) {
  return x.view({x.size(0), x.size(1), heads, -1}).transpose(1, 2);
}
// [N, heads, L, d] -> [N, L, heads * d]
torch::Tensor merge_heads(const torch::Tensor& x) { return x.transpose(1, 2).flatten(2); }

// softmax(q k^T * scale + mask) v with attention dropout `p` in training.
torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale,
                     const torch::Tensor& mask, double p, bool training) {
  auto scores = torch::matmul(q * scale, k.transpose(-2, -1));
  if (mask.defined()) scores = scores + mask;
  auto weights = torch::softmax(scores, -1);
  if (p > 0) weights = F::dropout(weights, F::DropoutFuncOptions().p(p).training(training));
  return torch::matmul(weights, v);
}

torch::Tensor dropout(const torch::Tensor& x, bool training) {
  return F::dropout(x, F::DropoutFuncOptions().p(kDropout).training(training));
}

}  // namespace

class SvtrBlockImpl : public torch::nn::Module {
 public:
  explicit SvtrBlockImpl(int64_t dim)
      : heads_(kSvtrHeads), scale_(std::pow(static_cast<double>(dim / kSvtrHeads), -0.5)) {
    norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5)));
    auto mixer = register_module("mixer", std::make_shared<torch::nn::Module>());
    qkv = mixer->register_module("qkv", svtr_linear(dim, 3 * dim));
    proj = mixer->register_module("proj", svtr_linear(dim, dim));
    norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5)));
    auto mlp = register_module("mlp", std::make_shared<torch::nn::Module>());
    const auto hidden = static_cast<int64_t>(static_cast<double>(dim) * kSvtrMlpRatio);
    fc1 = mlp->register_module("fc1", svtr_linear(dim, hidden));
    fc2 = mlp->register_module("fc2", svtr_linear(hidden, dim));
  }

  // x [N, L, dim]
  torch::Tensor forward(torch::Tensor x) {
    const bool training = is_training();
    auto parts = qkv(norm1(x)).chunk(3, -1);
    auto mixed = attend(split_heads(parts[0], heads_), split_heads(parts[1], heads_), split_heads(parts[2], heads_),
                        scale_, {}, kDropout, training);
    x = x + dropout(proj(merge_heads(mixed)), training);
    auto h = dropout(torch::silu(fc1(norm2(x))), training);
    return x + dropout(fc2(h), training);
  }

  std::string to_onnx(nn::OnnxGraph& g, const std::string& x) const {
    // x [N, dim, 1, T]. Attention runs on [N*, heads, T, d] matrices built by Reshape/Transpose.
    const int64_t dim = qkv->weight.size(1), d = dim / heads_;
    std::string attended;
    {
      auto s = g.scope("mixer");
      std::string packed;
      {
        auto q = g.scope("qkv");
        // The query's scale folded into its rows of the projection.
        auto row_scale = torch::ones({3 * dim, 1});
        row_scale.slice(0, 0, dim).fill_(scale_);
        packed = g.conv1x1(g.layer_norm_channels(*norm1, x), qkv->weight * row_scale,
                           qkv->bias * row_scale.squeeze(1));  // [N, 3*dim, 1, T]
      }
      // Reshape, Slice and Transpose only (OpenCV 4.6 reads no opset-13 Squeeze): [N, 3, heads, d, T], then each of
      // q, k, v as [N, heads, d, T]; k in that layout is already the transposed key.
      const auto split = g.node("Reshape", {packed, g.int64s({0, 3, heads_, d, -1}, "qkv_shape")});
      auto take = [&](int64_t i) {
        const auto part =
            g.node("Slice", {split, g.int64s({i}, "start"), g.int64s({i + 1}, "end"), g.int64s({1}, "axis")});
        return g.node("Reshape", {part, g.int64s({0, heads_, d, -1}, "head_shape")});
      };
      const std::vector<int64_t> swap_last = {0, 1, 3, 2};
      const auto q = g.node("Transpose", {take(0)}, {{"perm", swap_last}});
      const auto weights = g.node("Softmax", {g.node("MatMul", {q, take(1)})}, {{"axis", int64_t{-1}}});
      auto out = g.node("MatMul", {weights, g.node("Transpose", {take(2)}, {{"perm", swap_last}})});  // [N, h, T, d]
      out = g.node("Transpose", {out}, {{"perm", swap_last}});
      out = g.node("Reshape", {out, g.int64s({0, dim, 1, -1}, "merged_shape")});
      auto p = g.scope("proj");
      attended = g.conv1x1(out, proj->weight, proj->bias);
    }
    const auto y = g.node("Add", {x, attended});
    std::string h;
    {
      auto s = g.scope("mlp");
      {
        auto f = g.scope("fc1");
        h = g.conv1x1(g.layer_norm_channels(*norm2, y), fc1->weight, fc1->bias);
      }
      h = g.node("Mul", {h, g.node("Sigmoid", {h})});
      auto f = g.scope("fc2");
      h = g.conv1x1(h, fc2->weight, fc2->bias);
    }
    return g.node("Add", {y, h});
  }

 private:
  int64_t heads_;
  double scale_;
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Linear qkv{nullptr}, proj{nullptr}, fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(SvtrBlock);

namespace {
std::string silu_onnx(nn::OnnxGraph& g, const std::string& x) { return g.node("Mul", {x, g.node("Sigmoid", {x})}); }
}  // namespace

SvtrEncoderImpl::SvtrEncoderImpl(int64_t in_channels, int64_t dims, int64_t depth, int64_t hidden_dims) {
  const int64_t narrow = in_channels / 8;
  conv1 = register_module(
      "conv1", nn::ConvNorm(in_channels, narrow, nn::Pair2{1, 3}, nn::Pair2{1, 1}, nn::Pair2{0, 1}, 1, "norm"));
  conv2 = register_module(
      "conv2", nn::ConvNorm(narrow, hidden_dims, nn::Pair2{1, 1}, nn::Pair2{1, 1}, nn::Pair2{0, 0}, 1, "norm"));
  svtr_block = register_module("svtr_block", torch::nn::ModuleList());
  for (int64_t i = 0; i < depth; ++i) svtr_block->push_back(SvtrBlock(hidden_dims));
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden_dims}).eps(1e-6)));
  conv3 = register_module(
      "conv3", nn::ConvNorm(hidden_dims, in_channels, nn::Pair2{1, 1}, nn::Pair2{1, 1}, nn::Pair2{0, 0}, 1, "norm"));
  conv4 = register_module(
      "conv4", nn::ConvNorm(2 * in_channels, narrow, nn::Pair2{1, 3}, nn::Pair2{1, 1}, nn::Pair2{0, 1}, 1, "norm"));
  conv1x1 = register_module("conv1x1",
                            nn::ConvNorm(narrow, dims, nn::Pair2{1, 1}, nn::Pair2{1, 1}, nn::Pair2{0, 0}, 1, "norm"));
  // Paddle's KaimingUniform (fan_in) for the neck convs; BN and LayerNorm 1/0.
  torch::NoGradGuard no_grad;
  for (auto* conv : {&conv1, &conv2, &conv3, &conv4, &conv1x1})
    torch::nn::init::kaiming_uniform_((*conv)->conv->weight, 0.0, torch::kFanIn, torch::kLeakyReLU);
}

torch::Tensor SvtrEncoderImpl::forward(const torch::Tensor& x) {
  // use_guide: the CTC branch sends no gradient into the backbone.
  const auto guide = x.detach();
  auto z = torch::silu(conv2(torch::silu(conv1(guide))));
  const int64_t n = z.size(0), c = z.size(1), h = z.size(2), w = z.size(3);
  auto seq = z.flatten(2).transpose(1, 2);  // [N, H*W, C]
  for (const auto& block : *svtr_block) seq = block->as<SvtrBlockImpl>()->forward(seq);
  seq = norm(seq);
  z = seq.transpose(1, 2).reshape({n, c, h, w});
  z = torch::silu(conv3(z));
  z = torch::silu(conv4(torch::cat({guide, z}, 1)));
  z = torch::silu(conv1x1(z));
  TORCH_CHECK(z.size(2) == 1, "the recognition neck needs a feature map one row high, got ", z.size(2));
  return z.squeeze(2).transpose(1, 2);  // Im2Seq: [N, T, dims]
}

void SvtrEncoderImpl::fold_batchnorm() {
  for (auto* conv : {&conv1, &conv2, &conv3, &conv4, &conv1x1}) (*conv)->fold();
}

std::string SvtrEncoderImpl::to_onnx(nn::OnnxGraph& g, const std::string& x) const {
  auto z = silu_onnx(g, g.emit(*conv1, "conv1", x));
  z = silu_onnx(g, g.emit(*conv2, "conv2", z));
  for (size_t i = 0; i < svtr_block->size(); ++i) {
    auto s = g.scope("svtr_block." + std::to_string(i));
    z = svtr_block->ptr(i)->as<SvtrBlockImpl>()->to_onnx(g, z);
  }
  {
    auto s = g.scope("norm");
    z = g.layer_norm_channels(*norm, z);
  }
  z = silu_onnx(g, g.emit(*conv3, "conv3", z));
  z = silu_onnx(g, g.emit(*conv4, "conv4", g.node("Concat", {x, z}, {{"axis", int64_t{1}}})));
  return silu_onnx(g, g.emit(*conv1x1, "conv1x1", z));
}

struct NrtrDecoderImpl::Layer : torch::nn::Module {
  Layer(int64_t dim, int64_t heads, int64_t feedforward) : heads(heads), scale(std::pow(dim / heads, -0.5)) {
    auto self_attn = register_module("self_attn", std::make_shared<torch::nn::Module>());
    qkv = self_attn->register_module("qkv", nrtr_linear(dim, 3 * dim));
    self_out = self_attn->register_module("out_proj", nrtr_linear(dim, dim));
    norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5)));
    auto cross_attn = register_module("cross_attn", std::make_shared<torch::nn::Module>());
    q = cross_attn->register_module("q", nrtr_linear(dim, dim));
    kv = cross_attn->register_module("kv", nrtr_linear(dim, 2 * dim));
    cross_out = cross_attn->register_module("out_proj", nrtr_linear(dim, dim));
    norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5)));
    auto mlp = register_module("mlp", std::make_shared<torch::nn::Module>());
    fc1 = mlp->register_module("fc1", nrtr_linear(dim, feedforward));
    fc2 = mlp->register_module("fc2", nrtr_linear(feedforward, dim));
    norm3 = register_module("norm3", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5)));
  }

  torch::Tensor forward(torch::Tensor tgt, const torch::Tensor& memory, const torch::Tensor& causal_mask) {
    const bool training = is_training();
    // NRTR's attention dropout is 0; the residual dropout 0.1.
    auto parts = qkv(tgt).chunk(3, -1);
    auto self = attend(split_heads(parts[0], heads), split_heads(parts[1], heads), split_heads(parts[2], heads), scale,
                       causal_mask, 0.0, training);
    tgt = norm1(tgt + dropout(self_out(merge_heads(self)), training));
    auto memory_kv = kv(memory).chunk(2, -1);
    auto cross = attend(split_heads(q(tgt), heads), split_heads(memory_kv[0], heads), split_heads(memory_kv[1], heads),
                        scale, {}, 0.0, training);
    tgt = norm2(tgt + dropout(cross_out(merge_heads(cross)), training));
    auto h = dropout(torch::relu(fc1(tgt)), training);
    return norm3(tgt + dropout(fc2(h), training));
  }

  int64_t heads;
  double scale;
  torch::nn::Linear qkv{nullptr}, self_out{nullptr}, q{nullptr}, kv{nullptr}, cross_out{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr}, norm3{nullptr};
};

NrtrDecoderImpl::NrtrDecoderImpl(int64_t vocab, int64_t d_model, int64_t layers, int64_t heads, int64_t feedforward)
    : d_model_(d_model) {
  auto embeddings = register_module("embedding", std::make_shared<torch::nn::Module>());
  embedding = embeddings->register_module("embedding", torch::nn::Embedding(vocab, d_model));
  {
    torch::NoGradGuard no_grad;
    torch::nn::init::normal_(embedding->weight, 0.0, std::pow(static_cast<double>(d_model), -0.5));
  }
  // Sinusoidal positions, a buffer PaddleOCR saves with the weights ([max_len, 1, d_model]).
  auto position = torch::arange(kMaxPositions, torch::kFloat).unsqueeze(1);
  auto div = torch::exp(torch::arange(0, d_model, 2, torch::kFloat) * (-std::log(10000.0) / d_model));
  auto table = torch::zeros({kMaxPositions, d_model});
  table.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 2)},
                   torch::sin(position * div));
  table.index_put_({torch::indexing::Slice(), torch::indexing::Slice(1, torch::indexing::None, 2)},
                   torch::cos(position * div));
  auto positional = register_module("positional_encoding", std::make_shared<torch::nn::Module>());
  pe = positional->register_buffer("pe", table.unsqueeze(1));
  decoder = register_module("decoder", torch::nn::ModuleList());
  for (int64_t i = 0; i < layers; ++i) decoder->push_back(std::make_shared<Layer>(d_model, heads, feedforward));
  tgt_word_prj = register_module("tgt_word_prj", nrtr_linear(d_model, vocab, false));
}

torch::Tensor NrtrDecoderImpl::forward(const torch::Tensor& memory, const torch::Tensor& target) {
  const bool training = is_training();
  const int64_t steps = target.size(1);
  // Paddle's Embedding yields zeros at padding_idx 0.
  auto x = embedding(target) * (target != NrtrTokens::kPad).unsqueeze(-1).to(memory.dtype());
  x = x * std::sqrt(static_cast<double>(d_model_));
  x = dropout(x + pe.slice(0, 0, steps).squeeze(1).unsqueeze(0), training);
  const auto causal = torch::full({steps, steps}, -std::numeric_limits<float>::infinity(), memory.options()).triu(1);
  for (const auto& layer : *decoder) x = layer->as<Layer>()->forward(x, memory, causal);
  return tgt_word_prj(x);
}

MultiHeadImpl::MultiHeadImpl(int64_t in_channels, int64_t num_classes) {
  constexpr int64_t kDims = 120, kDepth = 2, kHidden = 120;
  auto encoder_holder = register_module("ctc_encoder", std::make_shared<torch::nn::Module>());
  ctc_encoder_ = encoder_holder->register_module("encoder", SvtrEncoder(in_channels, kDims, kDepth, kHidden));
  auto ctc_head = register_module("ctc_head", std::make_shared<torch::nn::Module>());
  ctc_fc_ = ctc_head->register_module("fc", torch::nn::Linear(kDims, num_classes));
  {
    // Paddle's default for the CTC fc: U(+-1/sqrt(in)) for weight and bias.
    torch::NoGradGuard no_grad;
    const double bound = 1.0 / std::sqrt(static_cast<double>(kDims));
    ctc_fc_->weight.uniform_(-bound, bound);
    ctc_fc_->bias.uniform_(-bound, bound);
  }
  auto before_gtc = register_module("before_gtc", std::make_shared<torch::nn::Module>());
  auto transpose = before_gtc->register_module("1", std::make_shared<torch::nn::Module>());
  before_gtc_fc_ = transpose->register_module("fc", nrtr_linear(in_channels, kNrtrDim, false));
  // NRTR's vocabulary: blank, <unk>, <s>, </s>, the characters, and one index PaddleOCR never uses.
  const int64_t vocab = num_classes + NrtrTokens::kCharOffset + 1;
  gtc_head_ = register_module("gtc_head", NrtrDecoder(vocab, kNrtrDim, kNrtrLayers, kNrtrHeads, kNrtrFeedForward));
}

torch::Tensor MultiHeadImpl::ctc(const torch::Tensor& features) {
  auto logits = ctc_fc_(ctc_encoder_(features));
  return is_training() ? logits : torch::softmax(logits, 2);
}

torch::Tensor MultiHeadImpl::nrtr(const torch::Tensor& features, const torch::Tensor& label_gtc,
                                  const torch::Tensor& length) {
  const auto memory = before_gtc_fc_(features.flatten(2).transpose(1, 2));  // [N, H*W, 384]
  const int64_t longest = length.max().item<int64_t>();
  // <s> + characters (+ </s> of the longest): the decoder input is that without its last position.
  const auto target = label_gtc.slice(1, 0, 2 + longest).slice(1, 0, -1);
  return gtc_head_(memory, target);
}

std::string MultiHeadImpl::to_onnx(nn::OnnxGraph& g, const std::string& features) const {
  std::string seq;
  {
    auto s = g.scope("ctc_encoder.encoder");
    seq = ctc_encoder_->to_onnx(g, features);  // [N, dims, 1, T]
  }
  std::string logits;
  {
    auto s = g.scope("ctc_head.fc");
    logits = g.conv1x1(seq, ctc_fc_->weight, ctc_fc_->bias);  // [N, C, 1, T]
  }
  const auto probs = g.node("Softmax", {logits}, {{"axis", int64_t{1}}});
  // [N, C, 1, T] -> [N, T, C]
  const int64_t classes = ctc_fc_->weight.size(0);
  return g.node("Transpose", {g.node("Reshape", {probs, g.int64s({0, classes, -1}, "sequence_shape")})},
                {{"perm", std::vector<int64_t>{0, 2, 1}}});
}

}  // namespace paddlex::ocr
