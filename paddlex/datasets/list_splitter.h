// CheckDataset.split: re-split the lines of train+val list files by percentage.
#pragma once
#include <cstdint>
#include <string>

namespace paddlex {

// Merges the non-empty lines of <dir>/train.txt and <dir>/val.txt, shuffles them with `seed`, and writes
// train_percent% to train.txt and the rest to val.txt. The first originals are kept as train.txt.bak and
// val.txt.bak (a later split does not overwrite them). Returns a one-line summary.
std::string split_train_val(const std::string& dir, int64_t train_percent, uint64_t seed);

}  // namespace paddlex
