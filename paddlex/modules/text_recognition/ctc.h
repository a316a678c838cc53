// Greedy CTC decoding, shared by evaluate and predict (PaddleOCR's CTCLabelDecode).
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "paddlex/modules/text_recognition/character_dict.h"

namespace paddlex::ocr {

struct DecodedText {
  std::u32string text;
  double score = 0;  // mean probability of the kept steps; 0 when none is kept
};

// probs [B, T, C] (softmax over C, C = dict.num_classes()) -> one text per row: the argmax class per step,
// repeats merged first and then blanks (class 0) dropped, so "a blank a" reads "aa".
std::vector<DecodedText> ctc_greedy_decode(const torch::Tensor& probs, const CharacterDict& dict);

}  // namespace paddlex::ocr
