#include "paddlex/modules/text_recognition/ctc.h"

namespace paddlex::ocr {

std::vector<DecodedText> ctc_greedy_decode(const torch::Tensor& probs, const CharacterDict& dict) {
  TORCH_CHECK(probs.dim() == 3 && probs.size(2) == dict.num_classes(), "ctc_greedy_decode: probs ",
              probs.sizes(), " do not have ", dict.num_classes(), " classes");
  const auto [best, index] = probs.detach().to(torch::kCPU, torch::kFloat).max(2);
  const auto p = best.accessor<float, 2>();
  const auto k = index.accessor<int64_t, 2>();
  std::vector<DecodedText> out(static_cast<size_t>(probs.size(0)));
  for (int64_t b = 0; b < probs.size(0); ++b) {
    double sum = 0;
    for (int64_t t = 0; t < probs.size(1); ++t) {
      if (k[b][t] == 0 || (t > 0 && k[b][t] == k[b][t - 1])) continue;
      out[b].text += dict.character(k[b][t]);
      sum += p[b][t];
    }
    if (!out[b].text.empty()) out[b].score = sum / static_cast<double>(out[b].text.size());
  }
  return out;
}

}  // namespace paddlex::ocr
