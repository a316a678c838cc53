#include "paddlex/modules/image_classification/models/resnet.h"

#include <algorithm>
#include <string>

#include "paddlex/nn/bn_folding.h"
#include "paddlex/nn/layers.h"

namespace paddlex::cls {
namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                               .stride(stride)
                               .padding((kernel - 1) / 2)
                               .bias(false));
}

torch::nn::BatchNorm2d batch_norm(int64_t channels) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).eps(1e-5).momentum(0.1));
}

// Residual block: the `conv<i>`/`bn<i>` pairs of the main path plus, with `projection`, a `downsample` shortcut
// (Sequential of 1x1 conv and BN, hence torchvision's "downsample.0"/"downsample.1" names).
class BlockImpl : public torch::nn::Module, public nn::OnnxExportable {
 public:
  BlockImpl(ResNetBlock kind, int64_t inplanes, int64_t planes, int64_t stride, bool projection) {
    // Basic: 3x3 (stride) -> 3x3. Bottleneck: 1x1 -> 3x3 (stride) -> 1x1 to 4*planes.
    struct Spec {
      int64_t in, out, kernel, stride;
    };
    const std::vector<Spec> specs =
        kind == ResNetBlock::kBasic
            ? std::vector<Spec>{{inplanes, planes, 3, stride}, {planes, planes, 3, 1}}
            : std::vector<Spec>{{inplanes, planes, 1, 1}, {planes, planes, 3, stride}, {planes, planes * 4, 1, 1}};
    for (size_t i = 0; i < specs.size(); ++i) {
      const auto& s = specs[i];
      const std::string suffix = std::to_string(i + 1);
      convs_.push_back(register_module("conv" + suffix, conv(s.in, s.out, s.kernel, s.stride)));
      bns_.push_back(register_module("bn" + suffix, batch_norm(s.out)));
    }
    const int64_t out = specs.back().out;
    if (projection) {
      downsample_ = register_module(
          "downsample", torch::nn::Sequential(conv(inplanes, out, 1, stride), batch_norm(out)));
    }
  }

  torch::Tensor forward(torch::Tensor x) {
    auto y = x;
    for (size_t i = 0; i < convs_.size(); ++i) {
      y = convs_[i](y);
      if (bns_[i]) y = bns_[i](y);
      // The last activation comes after the residual sum.
      if (i + 1 < convs_.size()) y = y.relu_();  // in place: BatchNorm backward does not need its output
    }
    auto identity = downsample_ ? downsample_->forward(x) : x;
    return (y + identity).relu_();
  }

  std::string to_onnx(nn::OnnxGraph& g, const std::string& x) const override {
    std::string y = x;
    for (size_t i = 0; i < convs_.size(); ++i) {
      nn::require_folded(g, bns_[i]);
      y = g.emit(*convs_[i], "conv" + std::to_string(i + 1), y);
      if (i + 1 < convs_.size()) y = g.node("Relu", {y});
    }
    const auto identity = downsample_ ? g.emit(*downsample_, "downsample", x) : x;
    return g.node("Relu", {g.node("Add", {y, identity})});
  }

  void fold_batchnorm() {
    for (size_t i = 0; i < convs_.size(); ++i) {
      const std::string suffix = std::to_string(i + 1);
      nn::fold_and_drop_bn(*this, "conv" + suffix, convs_[i], "bn" + suffix, bns_[i]);
    }
    if (downsample_ && downsample_->size() == 2) {
      // Sequential::ptr<T> cannot look up BatchNorm2d (its forward lives in a base class).
      auto ds_conv =
          nn::with_zero_bias(std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(downsample_->ptr(0)));
      fold_conv_bn(*ds_conv, *downsample_->ptr(1)->as<torch::nn::BatchNorm2d>());
      // Sequential cannot drop an element; a conv-only Sequential keeps the "downsample.0" names.
      downsample_ = replace_module("downsample", torch::nn::Sequential(ds_conv));
    }
  }

 private:
  std::vector<torch::nn::Conv2d> convs_;
  std::vector<torch::nn::BatchNorm2d> bns_;
  torch::nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(Block);

}  // namespace

ResNetImpl::ResNetImpl(ResNetBlock block, const std::vector<int64_t>& depths, int64_t num_classes,
                       nn::ClassifierHead head) {
  conv1 = register_module("conv1", conv(3, 64, 7, 2));
  bn1 = register_module("bn1", batch_norm(64));
  paddle_prefixes_ = {{"stem.0.conv.", "conv1."}, {"stem.0.bn.", "bn1."}};
  const int64_t planes[] = {64, 128, 256, 512};
  for (size_t i = 0; i < 4; ++i) {
    layers_.push_back(register_module("layer" + std::to_string(i + 1), make_layer(block, static_cast<int64_t>(i) + 1,
                                                                              planes[i], depths.at(i), i == 0 ? 1 : 2)));
  }
  if (head == nn::ClassifierHead::kMLDecoder) {
    nn::MLDecoderOptions o;
    o.in_channels = inplanes_;
    o.num_classes = num_classes;
    o.query_num = num_classes;
    ml_decoder = register_module("fc", nn::MLDecoder(o));
  } else {
    fc = register_module("fc", torch::nn::Linear(inplanes_, num_classes));
  }
  nn::init_conv_bn(*this);
  if (ml_decoder) ml_decoder->reset_parameters();  // its own initialisation, not the backbone's
}

torch::nn::Sequential ResNetImpl::make_layer(ResNetBlock block, int64_t stage, int64_t planes, int64_t depth,
                                             int64_t stride) {
  torch::nn::Sequential layer;
  const int64_t out = block == ResNetBlock::kBasic ? planes : planes * 4;
  const int64_t main_convs = block == ResNetBlock::kBasic ? 2 : 3;
  for (int64_t i = 0; i < depth; ++i) {
    layer->push_back(Block(block, inplanes_, planes, i == 0 ? stride : 1, /*projection=*/i == 0));
    inplanes_ = out;
    const std::string paddle = "blocks." + std::to_string(blocks_made_++) + ".";
    const std::string ours = "layer" + std::to_string(stage) + "." + std::to_string(i) + ".";
    for (int64_t c = 0; c < main_convs; ++c) {
      paddle_prefixes_.push_back({paddle + "conv" + std::to_string(c) + ".conv.", ours + "conv" + std::to_string(c + 1) + "."});
      paddle_prefixes_.push_back({paddle + "conv" + std::to_string(c) + ".bn.", ours + "bn" + std::to_string(c + 1) + "."});
    }
    if (i == 0) {
      paddle_prefixes_.push_back({paddle + "short.conv.", ours + "downsample.0."});
      paddle_prefixes_.push_back({paddle + "short.bn.", ours + "downsample.1."});
    }
  }
  return layer;
}

torch::Tensor ResNetImpl::logits(torch::Tensor x) {
  x = conv1(x);
  if (bn1) x = bn1(x);
  x = torch::max_pool2d(x.relu_(), 3, 2, 1);
  for (auto& layer : layers_) x = layer->forward(x);
  if (ml_decoder) return ml_decoder(x);  // PaddleClas drops the pool and attends over every position
  x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  return fc(x);
}

std::string ResNetImpl::logits_onnx(nn::OnnxGraph& g, const std::string& image) const {
  nn::require_folded(g, bn1);
  auto x = g.node("Relu", {g.emit(*conv1, "conv1", image)});
  x = g.node("MaxPool", {x}, {{"kernel_shape", std::vector<int64_t>{3, 3}}, {"strides", std::vector<int64_t>{2, 2}},
                              {"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  for (size_t i = 0; i < layers_.size(); ++i) x = g.emit(*layers_[i], "layer" + std::to_string(i + 1), x);
  auto s = g.scope("fc");
  if (ml_decoder) return ml_decoder->to_onnx(g, x, 1.0);
  return g.gemm(*fc, g.node("Flatten", {g.node("GlobalAveragePool", {x})}, {{"axis", int64_t{1}}}));
}

std::string ResNetImpl::explain_missing(const std::vector<std::string>& missing) const {
  const std::string shortcut = "layer1.0.downsample.";
  if (missing.empty() || std::any_of(missing.begin(), missing.end(),
                                     [&](const std::string& m) { return m.rfind(shortcut, 0) != 0; }))
    return "";
  return "the file lacks only layer1.0.downsample, the projection shortcut PaddleClas's ResNet18/34 have on their "
         "first block: it holds torchvision's architecture or was written before this engine followed PaddleClas "
         "there. Retrain, or start from it with Train.pretrain_weight_path (the shortcut starts untrained)";
}

void ResNetImpl::fold_batchnorm() {
  nn::fold_and_drop_bn(*this, "conv1", conv1, "bn1", bn1);
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto block = std::dynamic_pointer_cast<BlockImpl>(module)) block->fold_batchnorm();
  }
}

}  // namespace paddlex::cls
