// An exported inference.onnx planned onto oneDNN (Debian's libdnnl, the CPU kernel library behind PaddlePaddle's
// run_mode mkldnn): predict's fast CPU deployment path, through OneDnnRunner (onednn_runner.h).
//
// The graph is planned once per input shape: every node becomes oneDNN primitives, convolutions pick their
// blocked layouts (format any) and absorb the element-wise nodes after them (activation, residual Add) as
// post-ops, and weights are reordered once. It implements the operators our export emits; a file that uses any
// other is refused when it is loaded, naming the node.
//
// This file and its .cpp include no LibTorch header: they are compiled apart from the engine (CMakeLists.txt)
// so that oneDNN's headers come from the system, matching the libdnnl they link. A CUDA LibTorch ships the
// headers of its own, newer and incompatible, oneDNN.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace paddlex {

class OneDnnGraph {
 public:
  struct Input {
    std::vector<int64_t> dims;
    const float* data;  // dense, row-major
  };
  struct Output {
    std::vector<int64_t> dims;
    std::vector<float> values;  // dense, row-major
  };

  // Throws RunError naming the file (and node) when it cannot be read or uses an operator not implemented here.
  OneDnnGraph(const std::string& onnx_file, std::vector<std::string> input_names,
              std::vector<std::string> output_names);
  ~OneDnnGraph();
  OneDnnGraph(const OneDnnGraph&) = delete;
  OneDnnGraph& operator=(const OneDnnGraph&) = delete;

  // Inputs in the order of input_names -> outputs in the order of output_names, with the OpenMP thread count of
  // the calling thread. Not reentrant: a plan's buffers serve one call at a time.
  std::vector<Output> run(const std::vector<Input>& inputs);
  const std::vector<std::string>& input_names() const;
  const std::vector<std::string>& output_names() const;

 private:
  struct Model;
  struct Plan;
  class Planner;
  Plan& plan_for(const std::vector<std::vector<int64_t>>& input_dims);

  std::unique_ptr<Model> model_;
  std::map<std::vector<std::vector<int64_t>>, std::unique_ptr<Plan>> plans_;
};

}  // namespace paddlex
