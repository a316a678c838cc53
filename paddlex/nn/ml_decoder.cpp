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

std::string MLDecoderImpl::to_onnx(OnnxGraph& g, const std::string& features, double input_scale) const {
  torch::NoGradGuard no_grad;
  const auto& attn = layer_->cross_attn;
  const int64_t e = options_.embed_dim, q = options_.query_num, heads = options_.num_heads, head_dim = e / heads;
  const auto dbl = [](const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kDouble); };
  // The query side, constant: t1 = norm1(2 q) (eval dropout is the identity), scaled per-head projections.
  const auto norm = [&](const torch::nn::LayerNorm& n, const torch::Tensor& x) {
    return torch::layer_norm(x, {e}, dbl(n->weight), dbl(n->bias), n->options.eps());
  };
  const auto t1 = norm(layer_->norm1, 2 * dbl(query_pos_embed->weight));                               // [Q, E]
  const auto queries = (torch::matmul(t1, dbl(attn->q_proj->weight).t()) + dbl(attn->q_proj->bias)) /
                       std::sqrt(static_cast<double>(head_dim));                                      // [Q, E]
  const auto q_heads = queries.reshape({q, heads, head_dim}).transpose(0, 1);                        // [H, Q, d]
  // Score of head h, query j at a position: q_hj . (Wk_h m + bk_h), one 1x1 conv with H*Q outputs.
  const auto wk = dbl(attn->k_proj->weight).reshape({heads, head_dim, e});
  const auto score_weight = torch::matmul(q_heads, wk).reshape({heads * q, e});
  const auto score_bias = torch::matmul(q_heads, dbl(attn->k_proj->bias).reshape({heads, head_dim, 1})).reshape(-1);

  std::string memory;
  {
    auto s = g.scope("input_proj");
    memory = g.node("Relu", {g.conv1x1(features, dbl(input_proj->weight).flatten(1) * input_scale,
                                       dbl(input_proj->bias))});  // [N, E, H, W]
  }
  std::string t3;  // the decoder layer's output, [N, E, Q, 1]
  {
    auto s_layer = g.scope("decoder.layers.0");
    std::string scores;
    {
      auto s_attn = g.scope("cross_attn");
      scores = g.conv1x1(memory, score_weight, score_bias);  // [N, H*Q, H, W]
    }
    const auto weights = g.node("Softmax", {g.node("Reshape", {scores, g.int64s({0, heads * q, -1}, "shape")})},
                                {{"axis", int64_t{2}}});  // [N, H*Q, L]
    const auto positions = g.node("Transpose", {g.node("Reshape", {memory, g.int64s({0, e, -1}, "shape")})},
                                  {{"perm", std::vector<int64_t>{0, 2, 1}}});  // [N, L, E]
    // The attention-weighted memory per head and query, laid out [N, H*E, Q, 1] for the value projection.
    auto pooled = g.node("Reshape", {g.node("MatMul", {weights, positions}), g.int64s({0, heads, q, e}, "shape")});
    pooled = g.node("Reshape", {g.node("Transpose", {pooled}, {{"perm", std::vector<int64_t>{0, 1, 3, 2}}}),
                                g.int64s({0, heads * e, q, 1}, "shape")});
    std::string attended;
    {
      auto s_attn = g.scope("cross_attn");
      // Weights summing to 1 make sum_p a_p (Wv m_p + bv) = Wv (sum_p a_p m_p) + bv; head h's group is Wv_h.
      std::string values;
      {
        auto s_v = g.scope("v_proj");
        values = g.conv1x1(pooled, dbl(attn->v_proj->weight), dbl(attn->v_proj->bias), heads);  // [N, E, Q, 1]
      }
      auto s_o = g.scope("out_proj");
      attended = g.conv1x1(values, dbl(attn->out_proj->weight), dbl(attn->out_proj->bias));
    }
    // t1 + attended: t1 differs per query, so it is the bias of a per-element (depthwise) conv on [N, E*Q, 1, 1].
    std::string t2;
    {
      auto s_res = g.scope("norm1_residual");
      const auto flat = g.node("Reshape", {attended, g.int64s({0, e * q, 1, 1}, "shape")});
      const auto summed = g.conv1x1(flat, torch::ones({e * q, 1}, torch::kDouble), t1.t().reshape(-1), e * q);
      t2 = g.node("Reshape", {summed, g.int64s({0, e, q, 1}, "shape")});
    }
    {
      auto s_n = g.scope("norm2");
      t2 = g.layer_norm_channels(*layer_->norm2, t2);
    }
    std::string ff;
    {
      auto s_l = g.scope("linear1");
      ff = g.node("Relu", {g.conv1x1(t2, dbl(layer_->linear1->weight), dbl(layer_->linear1->bias))});
    }
    {
      auto s_l = g.scope("linear2");
      ff = g.conv1x1(ff, dbl(layer_->linear2->weight), dbl(layer_->linear2->bias));
    }
    {
      auto s_n = g.scope("norm3");
      t3 = g.layer_norm_channels(*layer_->norm3, g.node("Add", {t2, ff}));
    }
  }
  // GroupFC: query j's embedding -> its group of logits, a grouped conv on [N, Q*E, 1, 1].
  auto per_query = g.node("Transpose", {t3}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}});
  per_query = g.node("Reshape", {per_query, g.int64s({0, q * e, 1, 1}, "shape")});
  const auto logits = g.node("Flatten", {g.emit(*group_conv, "group_conv", per_query)}, {{"axis", int64_t{1}}});
  if (q * group_factor_ == options_.num_classes) return logits;
  return g.node("Slice", {logits, g.int64s({0}, "starts"), g.int64s({options_.num_classes}, "ends"),
                          g.int64s({1}, "axes")});
}

torch::Tensor downscale_dropout(const torch::Tensor& x, double p, bool training) {
  if (!training) return x * (1.0 - p);
  if (p == 0.0) return x;
  return x * torch::empty_like(x).bernoulli_(1.0 - p);
}

}  // namespace paddlex::nn
