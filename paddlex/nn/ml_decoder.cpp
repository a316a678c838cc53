#include "paddlex/nn/ml_decoder.h"

#include <cmath>

namespace paddlex::nn {
namespace {

torch::nn::Linear linear(int64_t in, int64_t out) { return torch::nn::Linear(torch::nn::LinearOptions(in, out)); }

torch::nn::LayerNorm layer_norm(int64_t dim) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5));
}

// Xavier uniform with Paddle's fans for a weight of torch layout [out, in, ...]: fan_in = in * receptive field.
void xavier_uniform(torch::Tensor& w, int64_t fan_in, int64_t fan_out) {
  const double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  w.uniform_(-limit, limit);
}

}  // namespace

// The cross-attention of the decoder layer: standard multi-head attention without masks.
struct CrossAttentionImpl : torch::nn::Module {
  CrossAttentionImpl(int64_t dim, int64_t heads, double dropout) : heads(heads), dropout(dropout) {
    q_proj = register_module("q_proj", linear(dim, dim));
    k_proj = register_module("k_proj", linear(dim, dim));
    v_proj = register_module("v_proj", linear(dim, dim));
    out_proj = register_module("out_proj", linear(dim, dim));
  }
  torch::Tensor forward(const torch::Tensor& query, const torch::Tensor& memory) {
    const int64_t n = query.size(0), q_len = query.size(1), m_len = memory.size(1), dim = query.size(2);
    const int64_t head_dim = dim / heads;
    auto split = [&](const torch::Tensor& t, int64_t len) { return t.reshape({n, len, heads, head_dim}).transpose(1, 2); };
    auto q = split(q_proj(query), q_len) * (1.0 / std::sqrt(static_cast<double>(head_dim)));
    auto k = split(k_proj(memory), m_len);
    auto v = split(v_proj(memory), m_len);
    auto weights = torch::softmax(torch::matmul(q, k.transpose(-2, -1)), -1);
    weights = torch::dropout(weights, dropout, is_training());
    auto out = torch::matmul(weights, v).transpose(1, 2).reshape({n, q_len, dim});
    return out_proj(out);
  }
  int64_t heads;
  double dropout;
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, out_proj{nullptr};
};
TORCH_MODULE(CrossAttention);

struct MLDecoderImpl::DecoderLayer : torch::nn::Module {
  DecoderLayer(const MLDecoderOptions& o) : dropout(o.dropout) {
    cross_attn = register_module("cross_attn", CrossAttention(o.embed_dim, o.num_heads, o.dropout));
    linear1 = register_module("linear1", linear(o.embed_dim, o.mlp_hidden_dim));
    linear2 = register_module("linear2", linear(o.mlp_hidden_dim, o.embed_dim));
    norm1 = register_module("norm1", layer_norm(o.embed_dim));
    norm2 = register_module("norm2", layer_norm(o.embed_dim));
    norm3 = register_module("norm3", layer_norm(o.embed_dim));
  }
  torch::Tensor forward(const torch::Tensor& tgt, const torch::Tensor& memory) {
    const bool train = is_training();
    auto t = norm1(tgt + torch::dropout(tgt, dropout, train));  // the removed self-attention's residual path
    t = norm2(t + torch::dropout(cross_attn(t, memory), dropout, train));
    auto ff = linear2(torch::dropout(torch::relu(linear1(t)), dropout, train));
    return norm3(t + torch::dropout(ff, dropout, train));
  }
  double dropout;
  CrossAttention cross_attn{nullptr};
  torch::nn::Linear linear1{nullptr}, linear2{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr}, norm3{nullptr};
};

MLDecoderImpl::MLDecoderImpl(const MLDecoderOptions& options) : options_(options) {
  options_.query_num = std::min(std::max<int64_t>(options_.query_num, 1), options_.num_classes);
  group_factor_ = (options_.num_classes + options_.query_num - 1) / options_.query_num;
  const int64_t e = options_.embed_dim, q = options_.query_num;
  input_proj = register_module("input_proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(options_.in_channels, e, 1)));
  query_pos_embed = register_module("query_pos_embed", torch::nn::Embedding(q, e));
  query_pos_embed->weight.set_requires_grad(false);  // frozen, as PaddleClas's freeze_query_embed
  auto decoder = register_module("decoder", std::make_shared<torch::nn::Module>());
  auto layers = decoder->register_module("layers", torch::nn::ModuleList());
  layer_ = std::make_shared<DecoderLayer>(options_);
  layers->push_back(layer_);
  group_conv = register_module(
      "group_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(q * e, q * group_factor_, 1).groups(q)));
  reset_parameters();
}

void MLDecoderImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  const int64_t e = options_.embed_dim, q = options_.query_num;
  input_proj->weight.normal_(0.0, std::sqrt(2.0 / static_cast<double>(options_.in_channels)));
  input_proj->bias.zero_();
  xavier_uniform(query_pos_embed->weight, q, e);
  for (auto* l : {&layer_->cross_attn->q_proj, &layer_->cross_attn->k_proj, &layer_->cross_attn->v_proj,
                  &layer_->cross_attn->out_proj, &layer_->linear1, &layer_->linear2}) {
    xavier_uniform((*l)->weight, (*l)->options.in_features(), (*l)->options.out_features());
    (*l)->bias.zero_();
  }
  for (auto* norm : {&layer_->norm1, &layer_->norm2, &layer_->norm3}) {
    (*norm)->weight.fill_(1.0);
    (*norm)->bias.zero_();
  }
  group_conv->weight.normal_(0.0, std::sqrt(2.0 / static_cast<double>(e + q * group_factor_)));
  group_conv->bias.zero_();
}

torch::Tensor MLDecoderImpl::forward(const torch::Tensor& features) {
  const int64_t n = features.size(0);
  auto memory = torch::relu(input_proj(features)).flatten(2).transpose(1, 2);  // [N, HW, E]
  auto tgt = query_pos_embed->weight.unsqueeze(0).expand({n, -1, -1});        // [N, Q, E]
  auto h = layer_->forward(tgt, memory);                                         // [N, Q, E]
  auto logits = group_conv(h.reshape({n, -1, 1, 1})).flatten(1);                 // [N, Q * group factor]
  return logits.narrow(1, 0, options_.num_classes);
}

torch::Tensor downscale_dropout(const torch::Tensor& x, double p, bool training) {
  if (!training) return x * (1.0 - p);
  if (p == 0.0) return x;
  return x * torch::empty_like(x).bernoulli_(1.0 - p);
}

}  // namespace paddlex::nn
