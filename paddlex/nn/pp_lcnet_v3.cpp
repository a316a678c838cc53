#include "paddlex/nn/pp_lcnet_v3.h"

#include "paddlex/nn/bn_folding.h"
#include "paddlex/nn/layers.h"

namespace paddlex::nn {
namespace {

struct BlockSpec {
  int64_t kernel, in, out;
  Pair2 stride;
  bool se;
};

// NET_CONFIG_rec and NET_CONFIG_det of rec_lcnetv3.py, channels before scaling, for blocks2..blocks6.
const std::vector<std::vector<BlockSpec>> kRecStages = {
    {{3, 16, 32, {1, 1}, false}},
    {{3, 32, 64, {1, 1}, false}, {3, 64, 64, {1, 1}, false}},
    {{3, 64, 128, {2, 1}, false}, {3, 128, 128, {1, 1}, false}},
    {{3, 128, 256, {1, 2}, false},
     {5, 256, 256, {1, 1}, false},
     {5, 256, 256, {1, 1}, false},
     {5, 256, 256, {1, 1}, false},
     {5, 256, 256, {1, 1}, false}},
    {{5, 256, 512, {2, 1}, true},
     {5, 512, 512, {1, 1}, true},
     {5, 512, 512, {2, 1}, false},
     {5, 512, 512, {1, 1}, false}},
};
const std::vector<std::vector<BlockSpec>> kDetStages = {
    {{3, 16, 32, {1, 1}, false}},
    {{3, 32, 64, {2, 2}, false}, {3, 64, 64, {1, 1}, false}},
    {{3, 64, 128, {2, 2}, false}, {3, 128, 128, {1, 1}, false}},
    {{3, 128, 256, {2, 2}, false},
     {5, 256, 256, {1, 1}, false},
     {5, 256, 256, {1, 1}, false},
     {5, 256, 256, {1, 1}, false},
     {5, 256, 256, {1, 1}, false}},
    {{5, 256, 512, {2, 2}, true},
     {5, 512, 512, {1, 1}, true},
     {5, 512, 512, {1, 1}, false},
     {5, 512, 512, {1, 1}, false}},
};
constexpr int64_t kRepBranches = 4;
constexpr int64_t kStemChannels = 16;
// The det adapters' widths are int(c * scale) of these (PaddleOCR's mv_c).
const std::vector<int64_t> kDetAdapterBase = {16, 24, 56, 480};

torch::Tensor hardswish_affine(const torch::Tensor& x, const LearnableAffine& lab) {
  return lab->forward(torch::hardswish(x));
}

// `lab`'s y = s * x + b on `channels` channels, as a depthwise 1x1 convolution (no constant broadcast over the
// batch, which OpenCV 4.6 cannot run at a dynamic batch).
std::string affine_onnx(OnnxGraph& g, const std::string& x, const LearnableAffineImpl& lab, int64_t channels) {
  auto s = g.scope("lab");
  return g.conv1x1(x, lab.scale.detach().expand({channels, 1}), lab.bias.detach().expand({channels}), channels);
}

}  // namespace

ConvNormImpl::ConvNormImpl(int64_t in, int64_t out, Pair2 kernel, Pair2 stride, Pair2 padding, int64_t groups,
                           std::string norm_name)
    : norm_name_(std::move(norm_name)) {
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, {kernel[0], kernel[1]})
                                                       .stride({stride[0], stride[1]})
                                                       .padding({padding[0], padding[1]})
                                                       .groups(groups)
                                                       .bias(false)));
  norm =
      register_module(norm_name_, torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(out).eps(1e-5).momentum(0.1)));
}

torch::Tensor ConvNormImpl::forward(const torch::Tensor& x) { return norm ? norm(conv(x)) : conv(x); }

void ConvNormImpl::fold() { fold_and_drop_bn(*this, "conv", conv, norm_name_, norm); }

std::string ConvNormImpl::to_onnx(OnnxGraph& g, const std::string& x) const {
  require_folded(g, norm);
  return g.emit(*conv, "conv", x);
}

LearnableAffineImpl::LearnableAffineImpl() {
  scale = register_parameter("scale", torch::ones({1}));
  bias = register_parameter("bias", torch::zeros({1}));
}

// Act of rec_lcnetv3.py: hardswish then a LAB, registered as `act.lab`.
class AffineHardswishImpl : public torch::nn::Module {
 public:
  AffineHardswishImpl() { lab = register_module("lab", LearnableAffine()); }
  LearnableAffine lab{nullptr};
};
TORCH_MODULE(AffineHardswish);

class LearnableRepLayerImpl : public torch::nn::Module, public OnnxExportable {
 public:
  LearnableRepLayerImpl(int64_t in, int64_t out, int64_t kernel, Pair2 stride, int64_t groups, bool activate)
      : kernel_(kernel), stride_(stride), groups_(groups), activate_(activate) {
    const int64_t pad = (kernel - 1) / 2;
    // Paddle compares the stride with the integer 1, so only a plain stride 1 gets the identity branch.
    if (in == out && stride == Pair2{1, 1})
      identity = register_module("identity", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(in).eps(1e-5)));
    conv_kxk = register_module("conv_kxk", torch::nn::ModuleList());
    for (int64_t i = 0; i < kRepBranches; ++i)
      conv_kxk->push_back(ConvNorm(in, out, Pair2{kernel, kernel}, stride, Pair2{pad, pad}, groups));
    if (kernel > 1) conv_1x1 = register_module("conv_1x1", ConvNorm(in, out, Pair2{1, 1}, stride, Pair2{0, 0}, groups));
    lab = register_module("lab", LearnableAffine());
    act = register_module("act", AffineHardswish());
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor out;
    if (reparam_conv) {
      out = reparam_conv(x);
    } else {
      out = identity ? identity(x) : torch::Tensor();
      if (conv_1x1) out = out.defined() ? out + conv_1x1(x) : conv_1x1(x);
      for (const auto& branch : *conv_kxk) {
        auto y = branch->as<ConvNormImpl>()->forward(x);
        out = out.defined() ? out + y : y;
      }
      out = lab(out);
    }
    return activate_ ? hardswish_affine(out, act->lab) : out;
  }

  // PaddleOCR's rep(): every branch as a kxk kernel with bias (1x1 zero-padded, the identity a centred one-hot
  // kernel), summed, then the LAB folded in, into one convolution named reparam_conv.
  void fuse() {
    if (reparam_conv) return;
    torch::NoGradGuard no_grad;
    const auto& first = conv_kxk[0]->as<ConvNormImpl>()->conv;
    const int64_t out = first->options.out_channels(), in_per_group = first->weight.size(1);
    auto weight = torch::zeros({out, in_per_group, kernel_, kernel_}, torch::kDouble);
    auto bias = torch::zeros({out}, torch::kDouble);
    auto add_branch = [&](const torch::Tensor& w, const torch::nn::BatchNorm2dImpl& bn) {
      const auto inv_std = 1.0 / torch::sqrt(bn.running_var.to(torch::kDouble) + bn.options.eps());
      const auto gamma = bn.weight.to(torch::kDouble), beta = bn.bias.to(torch::kDouble);
      const int64_t pad = (kernel_ - w.size(2)) / 2;
      auto padded = torch::constant_pad_nd(w.to(torch::kDouble), {pad, pad, pad, pad});
      weight += padded * (gamma * inv_std).reshape({-1, 1, 1, 1});
      bias += beta - bn.running_mean.to(torch::kDouble) * gamma * inv_std;
    };
    for (const auto& branch : *conv_kxk) {
      auto* cn = branch->as<ConvNormImpl>();
      add_branch(cn->conv->weight, *cn->norm);
    }
    if (conv_1x1) add_branch(conv_1x1->conv->weight, *conv_1x1->norm);
    if (identity) {
      auto one_hot = torch::zeros({out, in_per_group, 1, 1}, torch::kDouble);
      for (int64_t c = 0; c < out; ++c) one_hot[c][c % in_per_group][0][0] = 1.0;
      add_branch(one_hot, *identity);
    }
    const double s = lab->scale.item<double>(), b = lab->bias.item<double>();
    const int64_t pad = (kernel_ - 1) / 2;
    torch::nn::Conv2d fused(torch::nn::Conv2dOptions(first->options.in_channels(), out, kernel_)
                                .stride({stride_[0], stride_[1]})
                                .padding(pad)
                                .groups(groups_)
                                .bias(true));
    const auto dtype = first->weight.scalar_type();
    fused->weight.set_data((weight * s).to(dtype).contiguous());
    fused->bias.set_data((bias * s + b).to(dtype));
    fused->to(first->weight.device());
    unregister_module("conv_kxk");
    conv_kxk = nullptr;
    if (conv_1x1) unregister_module("conv_1x1");
    conv_1x1 = nullptr;
    if (identity) unregister_module("identity");
    identity = nullptr;
    unregister_module("lab");
    lab = nullptr;
    reparam_conv = register_module("reparam_conv", fused);
  }

  std::string to_onnx(OnnxGraph& g, const std::string& x) const override {
    if (!reparam_conv) throw OnnxUnsupported("layer '" + g.path() + "': the rep layer must be fused before export");
    auto y = g.emit(*reparam_conv, "reparam_conv", x);
    if (!activate_) return y;
    auto s = g.scope("act");
    return affine_onnx(g, g.node("HardSwish", {y}), *act->lab, reparam_conv->options.out_channels());
  }

  torch::nn::BatchNorm2d identity{nullptr};
  torch::nn::ModuleList conv_kxk{nullptr};
  ConvNorm conv_1x1{nullptr};
  LearnableAffine lab{nullptr};
  AffineHardswish act{nullptr};
  torch::nn::Conv2d reparam_conv{nullptr};

 private:
  int64_t kernel_;
  Pair2 stride_;
  int64_t groups_;
  bool activate_;
};
TORCH_MODULE(LearnableRepLayer);

// Depthwise rep layer -> optional SE -> pointwise rep layer.
class LCNetV3BlockImpl : public torch::nn::Module, public OnnxExportable {
 public:
  LCNetV3BlockImpl(int64_t in, int64_t out, const BlockSpec& spec, PPLCNetV3Impl::Layout layout) {
    // Paddle's `stride != 2` test: rec layers (tuple strides) always activate, det stride-2 layers do not.
    const bool dw_activates = layout == PPLCNetV3Impl::Layout::kRec || spec.stride != Pair2{2, 2};
    dw_conv = register_module("dw_conv", LearnableRepLayer(in, in, spec.kernel, spec.stride, in, dw_activates));
    if (spec.se) se = register_module("se", SEModule(in, 1.0 / 6.0));
    pw_conv = register_module("pw_conv", LearnableRepLayer(in, out, 1, Pair2{1, 1}, 1, true));
  }
  torch::Tensor forward(torch::Tensor x) {
    x = dw_conv(x);
    if (se) x = se(x);
    return pw_conv(x);
  }
  std::string to_onnx(OnnxGraph& g, const std::string& x) const override {
    auto y = g.emit(*dw_conv, "dw_conv", x);
    if (se) y = g.emit(*se, "se", y);
    return g.emit(*pw_conv, "pw_conv", y);
  }
  LearnableRepLayer dw_conv{nullptr}, pw_conv{nullptr};
  SEModule se{nullptr};
};
TORCH_MODULE(LCNetV3Block);

PPLCNetV3Impl::PPLCNetV3Impl(double scale, Layout layout) : layout_(layout) {
  auto width = [scale](int64_t c) { return make_divisible(static_cast<double>(c) * scale, 16); };
  conv1 = register_module("conv1", ConvNorm(3, width(kStemChannels), Pair2{3, 3}, Pair2{2, 2}, Pair2{1, 1}, 1));
  const auto& stages = layout == Layout::kRec ? kRecStages : kDetStages;
  for (size_t i = 0; i < stages.size(); ++i) {
    torch::nn::Sequential stage;
    for (const auto& spec : stages[i]) stage->push_back(LCNetV3Block(width(spec.in), width(spec.out), spec, layout));
    stages_.push_back(register_module("blocks" + std::to_string(i + 2), stage));
  }
  if (layout == Layout::kRec) {
    out_channels_ = {width(stages.back().back().out)};
  } else {
    for (size_t i = 0; i < kDetAdapterBase.size(); ++i) {
      const int64_t in = width(stages[i + 1].back().out);
      const auto out = static_cast<int64_t>(static_cast<double>(kDetAdapterBase[i]) * scale);
      layer_list_.push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1)));
      out_channels_.push_back(out);
    }
    auto list = register_module("layer_list", torch::nn::ModuleList());
    for (auto& conv : layer_list_) list->push_back(conv);
  }
  // Paddle's KaimingNormal (fan_in) for the backbone convs; BN 1/0; LAB 1/0.
  torch::NoGradGuard no_grad;
  for (const auto& module : modules(/*include_self=*/false))
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanIn, torch::kReLU);
      if (conv->bias.defined()) conv->bias.zero_();
    }
}

std::vector<torch::Tensor> PPLCNetV3Impl::forward(torch::Tensor x) {
  x = conv1(x);
  std::vector<torch::Tensor> features;
  for (size_t i = 0; i < stages_.size(); ++i) {
    x = stages_[i]->forward(x);
    if (layout_ == Layout::kDet && i > 0) features.push_back(layer_list_[i - 1](x));
  }
  if (layout_ == Layout::kDet) return features;
  // PaddleOCR pools to [1, 40] in training (its train width is always 320, a 80-wide feature map): pairs of
  // columns, as the eval window does.
  if (is_training()) return {torch::adaptive_avg_pool2d(x, {1, x.size(3) / 2})};
  return {torch::avg_pool2d(x, {3, 2})};
}

void PPLCNetV3Impl::fold_batchnorm() {
  conv1->fold();
  for (const auto& module : modules(/*include_self=*/false))
    if (auto* rep = module->as<LearnableRepLayerImpl>()) rep->fuse();
}

std::string PPLCNetV3Impl::to_onnx(OnnxGraph& g, const std::string& x) const {
  if (layout_ != Layout::kRec) throw OnnxUnsupported("the det PPLCNetV3 is emitted by its detector");
  auto y = g.emit(*conv1, "conv1", x);
  for (size_t i = 0; i < stages_.size(); ++i) y = g.emit(*stages_[i], "blocks" + std::to_string(i + 2), y);
  return g.node("AveragePool", {y},
                {{"kernel_shape", std::vector<int64_t>{3, 2}}, {"strides", std::vector<int64_t>{3, 2}}});
}

ParameterTraining PPLCNetV3Impl::parameter_training(const std::string& name) {
  constexpr double kLabLearningRateScale = 0.1;
  const auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  ParameterTraining t;
  if (ends_with(".lab.scale") || ends_with(".lab.bias")) t.lr_scale = kLabLearningRateScale;
  // ConvBNLayer's BN (conv1.bn, conv_kxk.N.bn, conv_1x1.bn) has L2Decay(0); the identity BN keeps the global decay.
  if (name.find(".bn.") != std::string::npos || name.rfind("conv1.bn.", 0) == 0) t.weight_decay = 0.0;
  return t;
}

}  // namespace paddlex::nn
