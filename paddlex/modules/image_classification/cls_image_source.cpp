#include "paddlex/modules/image_classification/cls_image_source.h"

#include "paddlex/datasets/image_io.h"

namespace paddlex::cls {

ClsImageSource::ClsImageSource(std::vector<ClsSample> samples, ClsPreprocess eval)
    : samples_(std::move(samples)), train_(false), eval_(eval) {}

ClsImageSource::ClsImageSource(std::vector<ClsSample> samples, TrainAugment train)
    : samples_(std::move(samples)), train_(true), augment_(train) {}

Batch ClsImageSource::allocate(size_t n) const {
  const int64_t size = train_ ? augment_.size : eval_.crop_size;
  Batch b;
  b.input = torch::empty({static_cast<int64_t>(n), 3, size, size}, torch::kFloat32);
  b.target = torch::empty({static_cast<int64_t>(n)}, torch::kInt64);
  return b;
}

void ClsImageSource::load(size_t index, uint64_t seed, Batch& batch, size_t slot) const {
  const ClsSample& s = samples_.at(index);
  cv::Mat rgb = read_image_rgb(s.abs_path);
  float* dst = batch.input[static_cast<int64_t>(slot)].data_ptr<float>();
  if (train_) {
    SampleRng rng(seed);
    cv::Mat crop = random_resized_crop(rgb, augment_.size, augment_.scale_lo, augment_.scale_hi, rng);
    if (augment_.flip && rng.uniform() < 0.5) horizontal_flip_inplace(crop);
    normalize_to_chw(crop, augment_.norm, dst);
  } else {
    eval_.apply(rgb, dst);
  }
  batch.target.data_ptr<int64_t>()[slot] = s.label;
}

}  // namespace paddlex::cls
