// Classification samples for the data loader: decode, augment (train) or resize+crop (eval), normalize.
#pragma once
#include "paddlex/datasets/cls_dataset.h"
#include "paddlex/datasets/data_loader.h"
#include "paddlex/modules/image_classification/cls_preprocess.h"

namespace paddlex::cls {

struct TrainAugment {
  int size = 224;
  double scale_lo = 0.08, scale_hi = 1.0;
  bool flip = true;
  NormalizeSpec norm;
};

class ClsImageSource : public SampleSource {
 public:
  // Eval form.
  ClsImageSource(std::vector<ClsSample> samples, ClsPreprocess eval);
  // Train form.
  ClsImageSource(std::vector<ClsSample> samples, TrainAugment train);

  size_t size() const override { return samples_.size(); }
  Batch allocate(size_t n) const override;
  void load(size_t index, uint64_t seed, Batch& batch, size_t slot) const override;
  const std::vector<ClsSample>& samples() const { return samples_; }

 private:
  std::vector<ClsSample> samples_;
  bool train_;
  ClsPreprocess eval_;
  TrainAugment augment_;
};

}  // namespace paddlex::cls
