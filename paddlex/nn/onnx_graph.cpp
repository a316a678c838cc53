#include "paddlex/nn/onnx_graph.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <map>

namespace paddlex::nn {

struct OnnxGraph::Impl {
  onnx::ModelProto model;
  std::vector<std::string> path;
  std::map<std::string, int> used;  // name -> times used, to keep value names unique

  onnx::GraphProto& graph() { return *model.mutable_graph(); }

  // `base` under the current path, made unique.
  std::string name(const std::string& base) {
    std::string full;
    for (const auto& p : path) full += p + ".";
    full += base;
    const int n = used[full]++;
    return n == 0 ? full : full + "_" + std::to_string(n);
  }

  static void set_shape(onnx::ValueInfoProto& info, const std::vector<OnnxDim>& dims) {
    auto* tensor = info.mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(onnx::TensorProto::FLOAT);
    auto* shape = tensor->mutable_shape();
    for (const auto& d : dims) {
      auto* dim = shape->add_dim();
      if (d.size >= 0) dim->set_dim_value(d.size);
      else if (!d.name.empty()) dim->set_dim_param(d.name);
    }
  }
};

OnnxGraph::OnnxGraph(const std::string& graph_name) : impl_(std::make_unique<Impl>()) {
  auto& m = impl_->model;
  m.set_ir_version(onnx::IR_VERSION);
  m.set_producer_name("paddlex-cpp");
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpset);
  m.mutable_graph()->set_name(graph_name);
}

OnnxGraph::~OnnxGraph() = default;

void OnnxGraph::add_input(const std::string& name, const std::vector<OnnxDim>& dims) {
  auto* input = impl_->graph().add_input();
  input->set_name(name);
  Impl::set_shape(*input, dims);
  impl_->used[name]++;
}

void OnnxGraph::add_output(const std::string& name, const std::string& value, const std::vector<OnnxDim>& dims) {
  // The value is renamed rather than copied through an Identity node, which runtimes may fold away together with
  // the name (OpenCV finds outputs by the name of the node that produces them).
  auto& graph = impl_->graph();
  bool produced = false;
  for (auto& n : *graph.mutable_node()) {
    for (auto& input : *n.mutable_input())
      if (input == value) input = name;
    if (n.output_size() > 0 && n.output(0) == value) {
      n.set_output(0, name);
      n.set_name(name);
      produced = true;
    }
  }
  if (!produced) throw OnnxUnsupported("graph output '" + name + "': no node produces '" + value + "'");
  impl_->used[name]++;
  auto* output = graph.add_output();
  output->set_name(name);
  Impl::set_shape(*output, dims);
}

std::string OnnxGraph::node(const std::string& op, const std::vector<std::string>& inputs,
                            const std::vector<OnnxAttribute>& attributes) {
  auto* n = impl_->graph().add_node();
  n->set_op_type(op);
  const std::string output = impl_->name(op);
  n->set_name(output);
  for (const auto& input : inputs) n->add_input(input);
  n->add_output(output);
  for (const auto& a : attributes) {
    auto* attr = n->add_attribute();
    attr->set_name(a.name);
    if (const auto* i = std::get_if<int64_t>(&a.value)) {
      attr->set_type(onnx::AttributeProto::INT);
      attr->set_i(*i);
    } else if (const auto* f = std::get_if<float>(&a.value)) {
      attr->set_type(onnx::AttributeProto::FLOAT);
      attr->set_f(*f);
    } else {
      attr->set_type(onnx::AttributeProto::INTS);
      for (int64_t v : std::get<std::vector<int64_t>>(a.value)) attr->add_ints(v);
    }
  }
  return output;
}

std::string OnnxGraph::constant(const torch::Tensor& values, const std::string& name) {
  const bool integral = values.scalar_type() == torch::kLong;
  const torch::Tensor t = values.detach().to(torch::kCPU, integral ? torch::kLong : torch::kFloat).contiguous();
  auto* init = impl_->graph().add_initializer();
  const std::string full = impl_->name(name);
  init->set_name(full);
  init->set_data_type(integral ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT);
  for (int64_t d : t.sizes()) init->add_dims(d);
  init->set_raw_data(std::string(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size()));
  return full;
}

std::string OnnxGraph::int64s(const std::vector<int64_t>& values, const std::string& name) {
  return constant(torch::tensor(values, torch::kLong), name);
}

std::string OnnxGraph::emit(const torch::nn::Module& module, const std::string& child_name, const std::string& input) {
  auto s = scope(child_name);
  if (const auto* block = dynamic_cast<const OnnxExportable*>(&module)) return block->to_onnx(*this, input);
  if (const auto* c = dynamic_cast<const torch::nn::Conv2dImpl*>(&module)) return conv(*c, input);
  if (dynamic_cast<const torch::nn::SequentialImpl*>(&module)) {
    std::string x = input;
    for (const auto& child : module.named_children()) x = emit(*child.value(), child.key(), x);
    return x;
  }
  throw OnnxUnsupported("layer '" + path() + "' (" + module.name() + ") has no ONNX description");
}

std::string OnnxGraph::conv(const torch::nn::Conv2dImpl& conv, const std::string& input) {
  const auto& o = conv.options;
  if (o.padding_mode().index() != 0)  // kZeros is the first alternative
    throw OnnxUnsupported("layer '" + path() + "': only zero padding is exported");
  // Unqualified visit: LibTorch 1.13's options hold a c10::variant, later versions a std::variant.
  const std::vector<int64_t> pad = visit(
      [this](const auto& p) -> std::vector<int64_t> {
        if constexpr (std::is_same_v<std::decay_t<decltype(p)>, torch::ExpandingArray<2>>) return {p->at(0), p->at(1)};
        else if constexpr (std::is_same_v<std::decay_t<decltype(p)>, torch::enumtype::kValid>) return {0, 0};
        else throw OnnxUnsupported("layer '" + path() + "': padding 'same' is not exported");
      },
      o.padding());
  std::vector<std::string> inputs = {input, constant(conv.weight, "weight")};
  if (conv.bias.defined()) inputs.push_back(constant(conv.bias, "bias"));
  return node("Conv", inputs,
              {{"kernel_shape", std::vector<int64_t>{(*o.kernel_size())[0], (*o.kernel_size())[1]}},
               {"strides", std::vector<int64_t>{(*o.stride())[0], (*o.stride())[1]}},
               {"pads", std::vector<int64_t>{pad[0], pad[1], pad[0], pad[1]}},
               {"dilations", std::vector<int64_t>{(*o.dilation())[0], (*o.dilation())[1]}},
               {"group", o.groups()}});
}

std::string OnnxGraph::gemm(const torch::nn::LinearImpl& linear, const std::string& input) {
  std::vector<std::string> inputs = {input, constant(linear.weight, "weight")};
  if (linear.bias.defined()) inputs.push_back(constant(linear.bias, "bias"));
  return node("Gemm", inputs, {{"transB", int64_t{1}}});
}

std::string OnnxGraph::conv1x1(const std::string& input, const torch::Tensor& weight, const torch::Tensor& bias,
                               int64_t groups) {
  std::vector<std::string> inputs = {input, constant(weight.reshape({weight.size(0), weight.size(1), 1, 1}), "weight")};
  if (bias.defined()) inputs.push_back(constant(bias, "bias"));
  return node("Conv", inputs, {{"kernel_shape", std::vector<int64_t>{1, 1}}, {"group", groups}});
}

std::string OnnxGraph::layer_norm_channels(const torch::nn::LayerNormImpl& norm, const std::string& input) {
  const auto& shape = norm.options.normalized_shape();
  if (shape.size() != 1) throw OnnxUnsupported("layer '" + path() + "': LayerNorm over more than one dimension");
  const int64_t c = shape[0];
  torch::NoGradGuard no_grad;
  const auto mean_weights = torch::full({c, c}, 1.0 / static_cast<double>(c), torch::kDouble);
  const auto centered = conv1x1(input, torch::eye(c, torch::kDouble) - mean_weights, {});
  const auto squares = node("Mul", {centered, centered});
  // Every output channel holds the variance plus eps, so no tensor needs broadcasting.
  const auto variance = conv1x1(squares, mean_weights, torch::full({c}, norm.options.eps(), torch::kDouble));
  const auto normalized = node("Div", {centered, node("Sqrt", {variance})});
  const auto weight = norm.weight.defined() ? norm.weight : torch::ones({c});
  const auto bias = norm.bias.defined() ? norm.bias : torch::zeros({c});
  return conv1x1(normalized, weight.reshape({c, 1}), bias, c);
}

OnnxGraph::Scope::Scope(OnnxGraph& g, const std::string& component) : g_(g) { g_.impl_->path.push_back(component); }
OnnxGraph::Scope::~Scope() { g_.impl_->path.pop_back(); }

std::string OnnxGraph::path() const {
  std::string p;
  for (const auto& c : impl_->path) p += (p.empty() ? "" : ".") + c;
  return p;
}

void OnnxGraph::check() const {
  onnx::checker::check_model(impl_->model);
  onnx::ModelProto inferred = impl_->model;
  onnx::ShapeInferenceOptions options{/*check_type=*/true, /*error_mode=*/1};
  onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(), options);
}

std::string OnnxGraph::serialize() const { return impl_->model.SerializeAsString(); }

}  // namespace paddlex::nn
