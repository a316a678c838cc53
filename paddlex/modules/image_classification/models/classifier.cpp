#include "paddlex/modules/image_classification/models/classifier.h"

#include <functional>
#include <utility>

#include "paddlex/core/errors.h"
#include "paddlex/core/text.h"
#include "paddlex/modules/image_classification/models/mobilenet_v3.h"
#include "paddlex/modules/image_classification/models/pp_lcnet.h"
#include "paddlex/modules/image_classification/models/resnet.h"

namespace paddlex::cls {
namespace {

using Factory = std::function<Classifier(int64_t num_classes)>;

Factory resnet(ResNetBlock block, std::vector<int64_t> depths) {
  return [=](int64_t n) -> Classifier { return std::make_shared<ResNetImpl>(block, depths, n); };
}

Factory mobilenet_v3(MobileNetV3Size size) {
  return [=](int64_t n) -> Classifier { return std::make_shared<MobileNetV3Impl>(size, 1.0, n); };
}

Factory pp_lcnet(double scale) {
  return [=](int64_t n) -> Classifier { return std::make_shared<PPLCNetImpl>(scale, n); };
}

const std::vector<std::pair<std::string, Factory>>& registry() {
  static const std::vector<std::pair<std::string, Factory>> models = {
      {"ResNet18", resnet(ResNetBlock::kBasic, {2, 2, 2, 2})},
      {"ResNet34", resnet(ResNetBlock::kBasic, {3, 4, 6, 3})},
      {"ResNet50", resnet(ResNetBlock::kBottleneck, {3, 4, 6, 3})},
      {"MobileNetV3_small_x1_0", mobilenet_v3(MobileNetV3Size::kSmall)},
      {"MobileNetV3_large_x1_0", mobilenet_v3(MobileNetV3Size::kLarge)},
      {"PP-LCNet_x0_25", pp_lcnet(0.25)},
      {"PP-LCNet_x0_5", pp_lcnet(0.5)},
      {"PP-LCNet_x1_0", pp_lcnet(1.0)},
  };
  return models;
}

}  // namespace

Classifier create_classifier(const std::string& name, int64_t num_classes) {
  for (const auto& [known, factory] : registry()) {
    if (known != name) continue;
    if (num_classes < 1) {
      throw ConfigError("model " + name + ": num_classes must be at least 1, got " +
                        std::to_string(num_classes));
    }
    return factory(num_classes);
  }
  std::string known_list;
  for (const auto& known : classifier_names())
    known_list += (known_list.empty() ? "" : ", ") + known;
  throw ConfigError("unknown model '" + name + "'; known models: " + known_list);
}

const std::vector<std::string>& classifier_names() {
  static const std::vector<std::string> names = table_names(registry());
  return names;
}

}  // namespace paddlex::cls
