// The one table of image operations, under PaddleX/PaddleClas op names. The same op lists serve training
// augmentation, model.yml `Transforms` and inference.yml `PreProcess.transform_ops`, so the three can never
// disagree. Geometric ops move whatever the image carries with it: a label mask (nearest neighbour), boxes and
// polygons; randomness comes only from the SampleRng passed in, so a sample's augmentation is a pure function
// of its seed.
#pragma once
#include <opencv2/core.hpp>
#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>
#include <vector>

#include "paddlex/core/random.h"

namespace paddlex {

// An image and its targets, as the ops transform them.
struct ImageSample {
  cv::Mat image;                                   // HxWx3 RGB: 8-bit until NormalizeImage, float32 after
  cv::Mat mask;                                    // optional HxW 8-bit label map (segmentation)
  std::vector<cv::Vec4f> boxes;                    // optional x1, y1, x2, y2 in pixels (detection)
  std::vector<std::vector<cv::Point2f>> polygons;  // optional, in pixels (text detection)
  torch::Tensor chw;                               // float [3,H,W], set by ToCHWImage (NormalizeImage then
                                                   // ToCHWImage run as one pass and leave `image` empty)
};

class ImageOp {
 public:
  virtual ~ImageOp() = default;
  virtual void apply(ImageSample& sample, SampleRng& rng) const = 0;
  // {OpName: {args}} as written in op lists.
  virtual YAML::Node to_yaml() const = 0;
};

// The op list entry {OpName: {args}} parsed through the table. Throws RunError naming `source` (file:line where
// the YAML has marks), the op and the bad argument; unknown names list the known ones.
std::unique_ptr<ImageOp> parse_image_op(const YAML::Node& entry, const std::string& source);
// The names the table knows, in documentation order.
const std::vector<std::string>& image_op_names();

// {name: args}: one op list entry, for code that builds op lists.
YAML::Node image_op_entry(const std::string& name, const YAML::Node& args = YAML::Node(YAML::NodeType::Map));

class ImagePipeline {
 public:
  ImagePipeline() = default;
  // An op list (sequence of {OpName: {args}}); throws RunError as parse_image_op.
  static ImagePipeline parse(const YAML::Node& ops, const std::string& source);
  YAML::Node to_yaml() const;
  void apply(ImageSample& sample, SampleRng& rng) const;
  // An RGB image through the ops to a float [3,H,W] tensor (ToCHWImage is implied at the end).
  torch::Tensor image_tensor(cv::Mat rgb, SampleRng& rng) const;

 private:
  std::vector<std::shared_ptr<const ImageOp>> ops_;
};

// Float [3,H,W] from an HxWx3 image (8-bit values are taken as they are, float32 copied).
torch::Tensor to_chw_tensor(const cv::Mat& image);

}  // namespace paddlex
