// The multi-label classifiers of PaddleX (PaddleClas *_ML configs): a classification backbone whose pooling and
// linear layer PaddleClas replaces by an ML-Decoder head (nn/ml_decoder.h) over the last feature map.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "paddlex/modules/image_classification/models/classifier.h"

namespace paddlex::mlcls {

// PP-LCNet_x1_0_ML (last_conv, hardswish and dropout kept before the head) and ResNet50_ML (on layer4).
// Throws ConfigError for an unknown name or num_classes < 1.
cls::Classifier create_ml_classifier(const std::string& name, int64_t num_classes);
const std::vector<std::string>& ml_classifier_names();

}  // namespace paddlex::mlcls
