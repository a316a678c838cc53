#include "paddlex/inference/onnx_runner.h"

#include <ATen/Parallel.h>

#include "paddlex/core/errors.h"

namespace paddlex {

OnnxRunner::OnnxRunner(const std::string& onnx_file, std::vector<std::string> input_names,
                       std::vector<std::string> output_names)
    : file_(onnx_file), input_names_(std::move(input_names)), output_names_(std::move(output_names)) {
  try {
    net_ = cv::dnn::readNetFromONNX(onnx_file);
  } catch (const cv::Exception& e) {
    throw RunError(onnx_file + ": OpenCV dnn cannot read this ONNX model: " + e.what());
  }
  net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
}

TensorMap OnnxRunner::run(const TensorMap& inputs) {
  cv::setNumThreads(at::get_num_threads());
  std::vector<torch::Tensor> keep;  // the blobs below borrow these tensors' memory until forward returns
  for (const auto& name : input_names_) {
    keep.push_back(inputs.at(name).to(torch::kCPU, torch::kFloat).contiguous());
    const std::vector<int> sizes(keep.back().sizes().begin(), keep.back().sizes().end());
    net_.setInput(cv::Mat(static_cast<int>(sizes.size()), sizes.data(), CV_32F, keep.back().data_ptr()), name);
  }
  std::vector<cv::Mat> blobs;
  try {
    net_.forward(blobs, std::vector<cv::String>(output_names_.begin(), output_names_.end()));
  } catch (const cv::Exception& e) {
    throw RunError(file_ + ": OpenCV dnn failed to run the model: " + e.what());
  }
  TensorMap outputs;
  for (size_t i = 0; i < output_names_.size(); ++i) {
    cv::Mat& blob = blobs.at(i);
    std::vector<int64_t> sizes(blob.size.p, blob.size.p + blob.dims);
    outputs[output_names_[i]] = torch::from_blob(blob.ptr<float>(), sizes, torch::kFloat).clone();
  }
  return outputs;
}

}  // namespace paddlex
