// Runs an exported inference.onnx on oneDNN (Debian's libdnnl, the CPU kernel library behind PaddlePaddle's
// run_mode mkldnn): predict's fast CPU deployment path. OpenCV 4.6's dnn runs the same file but its convolutions
// reach a third of oneDNN's speed on AVX-512 machines (docs/BENCHMARKS.md).
//
// The graph is planned once per input shape: every node becomes oneDNN primitives, convolutions pick their
// blocked layouts (format any) and absorb the element-wise nodes after them (activation, residual Add) as
// post-ops, and weights are reordered once. It implements the operators our export emits; a file that uses any
// other is refused when it is loaded, naming the node.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "paddlex/core/tensor_map.h"

namespace paddlex {

class OneDnnRunner {
 public:
  // Throws RunError naming the file (and node) when it cannot be read or uses an operator not implemented here.
  OneDnnRunner(const std::string& onnx_file, std::vector<std::string> input_names,
               std::vector<std::string> output_names);
  ~OneDnnRunner();
  OneDnnRunner(const OneDnnRunner&) = delete;
  OneDnnRunner& operator=(const OneDnnRunner&) = delete;

  // Float CPU tensors by input name -> outputs by name (CPU, float), with at::get_num_threads() OpenMP threads.
  // Not reentrant: a plan's buffers serve one call at a time.
  TensorMap run(const TensorMap& inputs);

 private:
  struct Model;
  struct Plan;
  class Planner;
  Plan& plan_for(const std::vector<std::vector<int64_t>>& input_dims);

  std::unique_ptr<Model> model_;
  std::map<std::vector<std::vector<int64_t>>, std::unique_ptr<Plan>> plans_;
};

}  // namespace paddlex
