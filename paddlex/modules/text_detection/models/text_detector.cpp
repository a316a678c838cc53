#include "paddlex/modules/text_detection/models/text_detector.h"

#include <cmath>

#include "paddlex/core/errors.h"
#include "paddlex/nn/bn_folding.h"
#include "paddlex/nn/layers.h"
#include "paddlex/nn/pp_lcnet_v3.h"

namespace paddlex::ocr {
namespace {

namespace F = torch::nn::functional;

constexpr double kMobileScale = 0.75;
constexpr int64_t kNeckChannels = 96;
constexpr double kBinarizeSharpness = 50;  // DBHead's k
// PaddleOCR's det SEModule gate: hardsigmoid with slope 0.2 (not torch's 1/6).
constexpr double kNeckSeSlope = 0.2;

torch::Tensor upsample(const torch::Tensor& x, double factor) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .scale_factor(std::vector<double>{factor, factor})
                               .mode(torch::kNearest)
                               .recompute_scale_factor(false));
}

// RSELayer (necks/db_fpn.py): a bias-free conv, then x + SE(x) (shortcut) .
class RSELayerImpl : public torch::nn::Module {
 public:
  RSELayerImpl(int64_t in, int64_t out, int64_t kernel) {
    in_conv = register_module(
        "in_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).padding(kernel / 2).bias(false)));
    se_block = register_module("se_block", nn::SEModule(out, kNeckSeSlope));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const auto y = in_conv(x);
    return y + se_block(y);
  }
  torch::nn::Conv2d in_conv{nullptr};
  nn::SEModule se_block{nullptr};
};
TORCH_MODULE(RSELayer);

// RSEFPN(out 96, shortcut): lateral RSE layers to 96 channels, top-down sums with nearest 2x upsampling, output RSE
// layers to 24 channels, all four brought to 1/4 scale and concatenated.
class RSEFPNImpl : public torch::nn::Module {
 public:
  RSEFPNImpl(const std::vector<int64_t>& in_channels, int64_t out) {
    ins_conv = register_module("ins_conv", torch::nn::ModuleList());
    inp_conv = register_module("inp_conv", torch::nn::ModuleList());
    for (int64_t c : in_channels) {
      ins_conv->push_back(RSELayer(c, out, 1));
      inp_conv->push_back(RSELayer(out, out / 4, 3));
    }
  }
  torch::Tensor forward(const std::vector<torch::Tensor>& features) {
    auto lateral = [&](size_t i) { return ins_conv->ptr(i)->as<RSELayerImpl>()->forward(features[i]); };
    auto output = [&](size_t i, const torch::Tensor& x) { return inp_conv->ptr(i)->as<RSELayerImpl>()->forward(x); };
    const auto in5 = lateral(3);
    const auto out4 = lateral(2) + upsample(in5, 2);
    const auto out3 = lateral(1) + upsample(out4, 2);
    const auto out2 = lateral(0) + upsample(out3, 2);
    return torch::cat(
        {upsample(output(3, in5), 8), upsample(output(2, out4), 4), upsample(output(1, out3), 2), output(0, out2)}, 1);
  }
  torch::nn::ModuleList ins_conv{nullptr}, inp_conv{nullptr};
};
TORCH_MODULE(RSEFPN);

// DBHead's Head: conv 3x3 + BN + ReLU, two 2x transposed convs (BN + ReLU between), sigmoid: [N, C, H/4, W/4] ->
// [N, 1, H, W].
class DBBranchImpl : public torch::nn::Module {
 public:
  explicit DBBranchImpl(int64_t in) {
    const int64_t mid = in / 4;
    conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, mid, 3).padding(1).bias(false)));
    conv_bn1 = register_module("conv_bn1", torch::nn::BatchNorm2d(mid));
    conv2 =
        register_module("conv2", torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(mid, mid, 2).stride(2)));
    conv_bn2 = register_module("conv_bn2", torch::nn::BatchNorm2d(mid));
    conv3 =
        register_module("conv3", torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(mid, 1, 2).stride(2)));
    // PaddleOCR's initialisation: BN weight 1, bias 1e-4; the transposed convs Kaiming-uniform.
    torch::NoGradGuard no_grad;
    for (auto* bn : {&conv_bn1, &conv_bn2}) {
      (*bn)->weight.fill_(1.0);
      (*bn)->bias.fill_(1e-4);
    }
    for (auto* deconv : {&conv2, &conv3}) torch::nn::init::kaiming_uniform_((*deconv)->weight, std::sqrt(5.0));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = conv1(x);
    if (conv_bn1) y = conv_bn1(y);
    y = conv2(torch::relu(y));
    if (conv_bn2) y = conv_bn2(y);
    return torch::sigmoid(conv3(torch::relu(y)));
  }
  // BN into the conv before it; for the transposed conv, whose weight is [in, out, k, k], along dimension 1.
  void fold_batchnorm() {
    if (!conv_bn1) return;
    nn::fold_and_drop_bn(*this, "conv1", conv1, "conv_bn1", conv_bn1);
    torch::NoGradGuard no_grad;
    const auto& bn = *conv_bn2;
    const auto scale = bn.weight.to(torch::kDouble) / torch::sqrt(bn.running_var.to(torch::kDouble) + bn.options.eps());
    const auto dtype = conv2->weight.scalar_type();
    conv2->weight.set_data((conv2->weight.to(torch::kDouble) * scale.reshape({1, -1, 1, 1})).to(dtype).contiguous());
    conv2->bias.set_data(
        ((conv2->bias.to(torch::kDouble) - bn.running_mean.to(torch::kDouble)) * scale + bn.bias.to(torch::kDouble))
            .to(dtype));
    unregister_module("conv_bn2");
    conv_bn2 = nullptr;
  }
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d conv_bn1{nullptr}, conv_bn2{nullptr};
  torch::nn::ConvTranspose2d conv2{nullptr}, conv3{nullptr};
};
TORCH_MODULE(DBBranch);

class MobileDetector : public Network {
 public:
  MobileDetector() {
    backbone_ = register_module("backbone", nn::PPLCNetV3(kMobileScale, nn::PPLCNetV3Impl::Layout::kDet));
    neck_ = register_module("neck", RSEFPN(backbone_->out_channels(), kNeckChannels));
    auto head = register_module("head", std::make_shared<torch::nn::Module>());
    binarize_ = head->register_module("binarize", DBBranch(kNeckChannels));
    thresh_ = head->register_module("thresh", DBBranch(kNeckChannels));
  }
  std::vector<std::string> input_names() const override { return {"image"}; }
  std::vector<std::string> output_names() const override { return {"maps"}; }
  TensorMap forward(const TensorMap& inputs) override {
    const auto fused = neck_(backbone_->forward(inputs.at("image")));
    const auto shrink = binarize_(fused);
    if (!is_training()) return {{"maps", shrink}};
    const auto threshold = thresh_(fused);
    const auto binary = torch::sigmoid(kBinarizeSharpness * (shrink - threshold));
    return {{"maps", torch::cat({shrink, threshold, binary}, 1)}};
  }
  void fold_batchnorm() override {
    backbone_->fold_batchnorm();
    binarize_->fold_batchnorm();
    thresh_->fold_batchnorm();
  }
  ParameterTraining parameter_training(const std::string& name) const override {
    if (name.rfind("backbone.", 0) == 0) return nn::PPLCNetV3Impl::parameter_training(name.substr(9));
    return {};
  }

 private:
  nn::PPLCNetV3 backbone_{nullptr};
  RSEFPN neck_{nullptr};
  DBBranch binarize_{nullptr}, thresh_{nullptr};
};

}  // namespace

const std::vector<std::string>& text_detector_names() {
  static const std::vector<std::string> names = {"PP-OCRv4_mobile_det"};
  return names;
}

std::shared_ptr<Network> create_text_detector(const std::string& name) {
  if (name == "PP-OCRv4_mobile_det") return std::make_shared<MobileDetector>();
  std::string known;
  for (const auto& n : text_detector_names()) known += (known.empty() ? "" : ", ") + n;
  throw ConfigError("unknown text detection model '" + name + "'; known: " + known);
}

}  // namespace paddlex::ocr
