// Runs an exported inference.onnx on oneDNN (onednn_graph.h): predict's run_mode mkldnn, the default for exported
// directories on the CPU. OpenCV 4.6's dnn runs the same file but its convolutions reach a third of oneDNN's
// speed on AVX-512 machines (docs/BENCHMARKS.md).
#pragma once
#include <string>
#include <vector>

#include "paddlex/core/tensor_map.h"
#include "paddlex/inference/onednn_graph.h"

namespace paddlex {

class OneDnnRunner {
 public:
  // Throws RunError naming the file (and node) when it cannot be read or uses an operator not implemented.
  OneDnnRunner(const std::string& onnx_file, std::vector<std::string> input_names,
               std::vector<std::string> output_names);
  // Float CPU tensors by input name -> outputs by name (CPU, float), with at::get_num_threads() OpenMP threads.
  TensorMap run(const TensorMap& inputs);

 private:
  OneDnnGraph graph_;
};

}  // namespace paddlex
