// ONNX emission for the network building blocks. Each block describes its own eval-mode computation as ONNX
// nodes (OnnxExportable::to_onnx); a network composes its blocks and names its inputs and outputs. The graph is
// built with the ONNX protobuf classes of libonnx and validated by onnx::checker (export/ writes the file).
//
// Emission keeps to what OpenCV 4.6's dnn importer runs (predict's run_mode onnx and deploy/ use it): opset 14,
// Conv carries kernel_shape, LayerNorm is written as 1x1 convolutions on an [N, C, L, 1] layout, and no
// constant is broadcast over the batch dimension (OpenCV 4.6 fails on that for a dynamic batch > 1).
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace paddlex::nn {

class OnnxGraph;

// A block that can describe its eval-mode forward (BatchNorm folded) as ONNX nodes.
class OnnxExportable {
 public:
  virtual ~OnnxExportable() = default;
  // Appends the nodes that compute this block's output from the graph value `input`; returns the output's name.
  virtual std::string to_onnx(OnnxGraph& g, const std::string& input) const = 0;
};

// One dimension of a graph input or output: a size, a symbolic name (dynamic), or unknown.
struct OnnxDim {
  OnnxDim() = default;
  OnnxDim(int64_t size) : size(size) {}  // NOLINT(google-explicit-constructor): {"batch", 3} reads naturally
  OnnxDim(const char* name) : name(name) {}  // NOLINT(google-explicit-constructor)
  int64_t size = -1;
  std::string name;
};

using OnnxAttributeValue = std::variant<int64_t, float, std::vector<int64_t>>;
struct OnnxAttribute {
  std::string name;
  OnnxAttributeValue value;
};

// The model being built. Value and initializer names follow the module path (`blocks2.0.dw_conv.conv.weight`),
// kept by scope() as emission descends into children.
class OnnxGraph {
 public:
  static constexpr int64_t kOpset = 14;

  explicit OnnxGraph(const std::string& graph_name);
  ~OnnxGraph();
  OnnxGraph(const OnnxGraph&) = delete;
  OnnxGraph& operator=(const OnnxGraph&) = delete;

  void add_input(const std::string& name, const std::vector<OnnxDim>& dims);
  // Makes the node value `value` the graph output `name`.
  void add_output(const std::string& name, const std::string& value, const std::vector<OnnxDim>& dims);

  // A node of `op` with one output, named after the current scope; returns the output's name.
  std::string node(const std::string& op, const std::vector<std::string>& inputs,
                   const std::vector<OnnxAttribute>& attributes = {});
  // A float32 (or int64) initializer holding `values` (copied, contiguous, on the CPU); returns its name.
  std::string constant(const torch::Tensor& values, const std::string& name);
  std::string int64s(const std::vector<int64_t>& values, const std::string& name);

  // Emits a child module: a block that is OnnxExportable, a Conv2d, or a Sequential of such. Anything else fails
  // the export with a message naming the module path and type.
  std::string emit(const torch::nn::Module& module, const std::string& child_name, const std::string& input);
  std::string conv(const torch::nn::Conv2dImpl& conv, const std::string& input);
  // x [N, in] -> Gemm; the layer's weight is used as stored ([out, in], transB).
  std::string gemm(const torch::nn::LinearImpl& linear, const std::string& input);
  // A 1x1 convolution from a weight [out, in / groups] and a bias [out] (undefined: none), e.g. a Linear layer
  // applied to every position of an [N, C, L, 1] layout.
  std::string conv1x1(const std::string& input, const torch::Tensor& weight, const torch::Tensor& bias,
                      int64_t groups = 1);
  // LayerNorm over the channels of x [N, C, L, 1], built from 1x1 convolutions (centering, mean of squares plus
  // eps, per-channel affine), which OpenCV 4.6 runs at any batch.
  std::string layer_norm_channels(const torch::nn::LayerNormImpl& norm, const std::string& input);

  // While the returned guard lives, names get `component.` appended to the current path.
  class Scope {
   public:
    Scope(OnnxGraph& g, const std::string& component);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    OnnxGraph& g_;
  };
  Scope scope(const std::string& component) { return Scope(*this, component); }
  // The current module path, e.g. "blocks2.0.dw_conv" ("" at the top).
  std::string path() const;

  // Validates the model with onnx::checker (and ONNX shape inference); throws std::runtime_error with its
  // message.
  void check() const;
  // The serialized ModelProto.
  std::string serialize() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Thrown when a model holds a layer without an ONNX description; the export reports it with the layer's path.
class OnnxUnsupported : public std::runtime_error {
 public:
  explicit OnnxUnsupported(const std::string& msg) : std::runtime_error(msg) {}
};

}  // namespace paddlex::nn
