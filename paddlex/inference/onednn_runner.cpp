#include "paddlex/inference/onednn_runner.h"

namespace paddlex {

OneDnnRunner::OneDnnRunner(const std::string& onnx_file, std::vector<std::string> input_names,
                           std::vector<std::string> output_names)
    : graph_(onnx_file, std::move(input_names), std::move(output_names)) {}

TensorMap OneDnnRunner::run(const TensorMap& inputs) {
  std::vector<torch::Tensor> keep;  // the graph reads these tensors' memory during run()
  std::vector<OneDnnGraph::Input> feed;
  for (const auto& name : graph_.input_names()) {
    keep.push_back(inputs.at(name).to(torch::kCPU, torch::kFloat).contiguous());
    feed.push_back({keep.back().sizes().vec(), keep.back().data_ptr<float>()});
  }
  auto outputs = graph_.run(feed);
  TensorMap out;
  for (size_t i = 0; i < outputs.size(); ++i)
    out[graph_.output_names()[i]] = torch::tensor(outputs[i].values).reshape(outputs[i].dims);
  return out;
}

}  // namespace paddlex
