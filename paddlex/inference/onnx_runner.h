// Runs an exported inference.onnx in OpenCV's dnn module: the deployment path of predict mode, independent of
// LibTorch's network code (the tests compare the two).
#pragma once
#include <opencv2/dnn.hpp>

#include <string>
#include <vector>

#include "paddlex/core/tensor_map.h"

namespace paddlex {

class OnnxRunner {
 public:
  // Throws RunError naming the file when OpenCV cannot read it.
  OnnxRunner(const std::string& onnx_file, std::vector<std::string> input_names,
             std::vector<std::string> output_names);
  // Float CPU tensors by input name -> outputs by name (CPU, float). Runs on OpenCV's CPU backend with
  // at::get_num_threads() threads.
  TensorMap run(const TensorMap& inputs);

 private:
  std::string file_;
  std::vector<std::string> input_names_, output_names_;
  cv::dnn::Net net_;
};

}  // namespace paddlex
