// PP-OCRv4 text recognizers (PaddleOCR's SVTR_LCNet / SVTR_HGNet BaseModel: backbone + MultiHead). Inputs
// {"image": [N, 3, 48, W]} (BGR, (x/255 - 0.5) / 0.5); eval output {"probs": [N, W/8, num_classes]} (CTC softmax).
// In training the network also reads the NRTR targets {"label_gtc", "length"} and returns {"ctc_logits",
// "nrtr_logits"}.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "paddlex/nn/network.h"

namespace paddlex::ocr {

// The recognizer named `name` for `num_classes` CTC classes (blank + characters); throws ConfigError for an
// unknown name.
std::shared_ptr<Network> create_text_recognizer(const std::string& name, int64_t num_classes);
const std::vector<std::string>& text_recognizer_names();

}  // namespace paddlex::ocr
