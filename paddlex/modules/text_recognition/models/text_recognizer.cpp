#include "paddlex/modules/text_recognition/models/text_recognizer.h"

#include "paddlex/core/errors.h"
#include "paddlex/modules/text_recognition/models/rec_heads.h"
#include "paddlex/nn/pp_lcnet_v3.h"

namespace paddlex::ocr {
namespace {

constexpr double kMobileScale = 0.95;

class MobileRecognizer : public Network {
 public:
  explicit MobileRecognizer(int64_t num_classes) {
    backbone_ = register_module("backbone", nn::PPLCNetV3(kMobileScale, nn::PPLCNetV3Impl::Layout::kRec));
    head_ = register_module("head", MultiHead(backbone_->out_channels().front(), num_classes));
  }
  std::vector<std::string> input_names() const override {
    if (is_training()) return {"image", "label_gtc", "length"};
    return {"image"};
  }
  std::vector<std::string> output_names() const override { return {"probs"}; }
  TensorMap forward(const TensorMap& inputs) override {
    const auto features = backbone_->forward(inputs.at("image")).front();
    if (!is_training()) return {{"probs", head_->ctc(features)}};
    return {{"ctc_logits", head_->ctc(features)},
            {"nrtr_logits", head_->nrtr(features, inputs.at("label_gtc"), inputs.at("length"))}};
  }
  void fold_batchnorm() override {
    backbone_->fold_batchnorm();
    head_->fold_batchnorm();
  }
  void to_onnx(nn::OnnxGraph& g) const override {
    g.add_input("image", {"batch", 3, 48, "width"});
    std::string features;
    {
      auto s = g.scope("backbone");
      features = backbone_->to_onnx(g, "image");
    }
    auto s = g.scope("head");
    g.add_output("probs", head_->to_onnx(g, features), {"batch", "steps", nn::OnnxDim()});
  }
  ParameterTraining parameter_training(const std::string& name) const override {
    if (name.rfind("backbone.", 0) == 0) return nn::PPLCNetV3Impl::parameter_training(name.substr(9));
    ParameterTraining t;
    if (name.rfind("head.ctc_head.fc.", 0) == 0) t.weight_decay = MultiHeadImpl::kCtcFcWeightDecay;
    return t;
  }

 private:
  nn::PPLCNetV3 backbone_{nullptr};
  MultiHead head_{nullptr};
};

}  // namespace

const std::vector<std::string>& text_recognizer_names() {
  static const std::vector<std::string> names = {"PP-OCRv4_mobile_rec"};
  return names;
}

std::shared_ptr<Network> create_text_recognizer(const std::string& name, int64_t num_classes) {
  if (num_classes < 2) throw ConfigError(name + ": a recognizer needs at least one character besides the blank");
  if (name == "PP-OCRv4_mobile_rec") return std::make_shared<MobileRecognizer>(num_classes);
  std::string known;
  for (const auto& n : text_recognizer_names()) known += (known.empty() ? "" : ", ") + n;
  throw ConfigError("unknown text recognition model '" + name + "'; known: " + known);
}

}  // namespace paddlex::ocr
