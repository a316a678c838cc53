#include "paddlex/modules/image_multilabel_classification/models/ml_classifier.h"

#include "paddlex/core/errors.h"
#include "paddlex/modules/image_classification/models/pp_lcnet.h"
#include "paddlex/modules/image_classification/models/resnet.h"

namespace paddlex::mlcls {

const std::vector<std::string>& ml_classifier_names() {
  static const std::vector<std::string> names = {"PP-LCNet_x1_0_ML", "ResNet50_ML"};
  return names;
}

cls::Classifier create_ml_classifier(const std::string& name, int64_t num_classes) {
  if (num_classes < 1)
    throw ConfigError("model " + name + ": num_classes must be at least 1, got " + std::to_string(num_classes));
  if (name == "PP-LCNet_x1_0_ML")
    return std::make_shared<cls::PPLCNetImpl>(1.0, num_classes, nn::ClassifierHead::kMLDecoder);
  if (name == "ResNet50_ML")
    return std::make_shared<cls::ResNetImpl>(cls::ResNetBlock::kBottleneck, std::vector<int64_t>{3, 4, 6, 3},
                                             num_classes, nn::ClassifierHead::kMLDecoder);
  throw ConfigError("unknown multi-label model '" + name + "'; known models: PP-LCNet_x1_0_ML, ResNet50_ML");
}

}  // namespace paddlex::mlcls
