#include "paddlex/datasets/image_list_source.h"

#include "paddlex/datasets/image_io.h"

namespace paddlex {

ImageListSource::ImageListSource(std::vector<LabeledImage> images, ImagePipeline pipeline)
    : images_(std::move(images)), pipeline_(std::move(pipeline)) {}

Sample ImageListSource::get(size_t index, uint64_t seed) const {
  const LabeledImage& item = images_.at(index);
  SampleRng rng(seed);
  Sample s;
  s.tensors["image"] = pipeline_.image_tensor(read_image_rgb(item.path), rng);
  s.tensors["label"] = item.label;
  s.meta["image_path"] = item.path;
  return s;
}

}  // namespace paddlex
