// PP-OCRv4 text detectors (PaddleOCR's DB: backbone -> neck -> DBHead). Input {"image": [N, 3, H, W]} (RGB,
// ImageNet-normalized, H and W multiples of 32); eval output {"maps": [N, 1, H, W]} (the shrink-map probability);
// training output {"maps": [N, 3, H, W]}: shrink probability, threshold map and approximate binary map.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "paddlex/nn/network.h"

namespace paddlex::ocr {

// Throws ConfigError for an unknown name.
std::shared_ptr<Network> create_text_detector(const std::string& name);
const std::vector<std::string>& text_detector_names();

}  // namespace paddlex::ocr
