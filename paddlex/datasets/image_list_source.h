// Samples of an image list: each image decoded, run through an op list (augmentation or eval preprocessing) and
// paired with its label tensor -> {"image": float [3,H,W], "label": ...}, meta {"image_path"}.
#pragma once
#include <string>
#include <vector>

#include "paddlex/datasets/data_loader.h"
#include "paddlex/datasets/image_ops.h"

namespace paddlex {

struct LabeledImage {
  std::string path;
  torch::Tensor label;  // e.g. a class id [] int64, or a multi-hot vector [C] float
};

class ImageListSource : public SampleSource {
 public:
  ImageListSource(std::vector<LabeledImage> images, ImagePipeline pipeline);
  size_t size() const override { return images_.size(); }
  Sample get(size_t index, uint64_t seed) const override;

 private:
  std::vector<LabeledImage> images_;
  ImagePipeline pipeline_;
};

}  // namespace paddlex
