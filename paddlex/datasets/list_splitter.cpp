#include "paddlex/datasets/list_splitter.h"

#include <filesystem>
#include <fstream>
#include <vector>

#include "paddlex/core/errors.h"
#include "paddlex/core/files.h"
#include "paddlex/core/random.h"

namespace fs = std::filesystem;

namespace paddlex {

std::string split_train_val(const std::string& dir, int64_t train_percent, uint64_t seed) {
  std::vector<std::string> lines;
  for (const char* name : {"train.txt", "val.txt"}) {
    const fs::path path = fs::path(dir) / name;
    std::ifstream in(path);
    if (!in) throw RunError("CheckDataset.split: '" + path.string() + "' not found");
    std::string line;
    while (std::getline(in, line))
      if (line.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(line);
  }
  SampleRng rng(mix_seed(seed, 0x5B117));
  for (size_t i = lines.size(); i > 1; --i) std::swap(lines[i - 1], lines[rng.below(i)]);
  const size_t n_train = lines.size() * static_cast<size_t>(train_percent) / 100;
  if (n_train == 0 || n_train == lines.size())
    throw RunError("CheckDataset.split: " + std::to_string(lines.size()) + " samples at " +
                   std::to_string(train_percent) + "% leave train or val empty");
  std::string train, val;
  for (size_t i = 0; i < lines.size(); ++i) (i < n_train ? train : val) += lines[i] + "\n";
  for (const char* name : {"train.txt", "val.txt"}) {
    const fs::path path = fs::path(dir) / name, bak = fs::path(dir) / (std::string(name) + ".bak");
    if (!fs::exists(bak)) fs::copy_file(path, bak);
  }
  write_file_atomic((fs::path(dir) / "train.txt").string(), train);
  write_file_atomic((fs::path(dir) / "val.txt").string(), val);
  return "re-split " + std::to_string(lines.size()) + " samples: " + std::to_string(n_train) + " train, " +
         std::to_string(lines.size() - n_train) + " val (originals kept as *.bak)";
}

}  // namespace paddlex
