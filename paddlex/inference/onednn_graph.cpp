#include "paddlex/inference/onednn_graph.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <numeric>
#include <oneapi/dnnl/dnnl.hpp>
#include <set>
#include <sstream>
#include <unordered_map>

#include "paddlex/core/errors.h"

namespace paddlex {

namespace {

using dnnl::memory;
using Dims = memory::dims;
constexpr auto kF32 = memory::data_type::f32;

const onnx::AttributeProto* find_attribute(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
int64_t attr_int(const onnx::NodeProto& n, const std::string& name, int64_t fallback) {
  const auto* a = find_attribute(n, name);
  return a ? a->i() : fallback;
}
float attr_float(const onnx::NodeProto& n, const std::string& name, float fallback) {
  const auto* a = find_attribute(n, name);
  return a ? a->f() : fallback;
}
std::vector<int64_t> attr_ints(const onnx::NodeProto& n, const std::string& name, std::vector<int64_t> fallback) {
  const auto* a = find_attribute(n, name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : fallback;
}

memory::desc plain_desc(const Dims& dims) {
  static const memory::format_tag tags[] = {memory::format_tag::a, memory::format_tag::ab, memory::format_tag::abc,
                                            memory::format_tag::abcd, memory::format_tag::abcde};
  return memory::desc(dims, kF32, tags[dims.size() - 1]);
}

int64_t product(Dims::const_iterator begin, Dims::const_iterator end) {
  return std::accumulate(begin, end, int64_t{1}, std::multiplies<>());
}

// An initializer: float data (weights) or int64 data (shapes, slice bounds).
struct Constant {
  Dims dims;
  std::vector<float> floats;
  std::vector<int64_t> ints;
};

Constant read_constant(const onnx::TensorProto& t) {
  Constant c;
  c.dims.assign(t.dims().begin(), t.dims().end());
  const size_t count = static_cast<size_t>(product(c.dims.begin(), c.dims.end()));
  const auto fill = [&](auto& out, const auto& repeated) {
    out.resize(count);
    if (t.has_raw_data()) {
      if (t.raw_data().size() != count * sizeof(out[0])) throw std::runtime_error("size does not match its dims");
      std::memcpy(out.data(), t.raw_data().data(), t.raw_data().size());
    } else {
      if (static_cast<size_t>(repeated.size()) != count) throw std::runtime_error("size does not match its dims");
      std::copy(repeated.begin(), repeated.end(), out.begin());
    }
  };
  if (t.data_type() == onnx::TensorProto::FLOAT) fill(c.floats, t.float_data());
  else if (t.data_type() == onnx::TensorProto::INT64) fill(c.ints, t.int64_data());
  else throw std::runtime_error("data type " + std::to_string(t.data_type()) + " (only float and int64 are read)");
  return c;
}

// An element-wise node as oneDNN eltwise algorithms, applied in order (HardSigmoid is a linear step and a clip);
// empty for any other node.
struct EltwiseOp {
  dnnl::algorithm algorithm;
  float alpha, beta;
};
std::vector<EltwiseOp> eltwise_ops(const onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  if (op == "Relu") return {{dnnl::algorithm::eltwise_relu, 0.f, 0.f}};
  if (op == "HardSwish") return {{dnnl::algorithm::eltwise_hardswish, 0.f, 0.f}};  // x * relu6(x + 3) / 6
  if (op == "Sqrt") return {{dnnl::algorithm::eltwise_sqrt, 0.f, 0.f}};
  if (op == "Sigmoid") return {{dnnl::algorithm::eltwise_logistic, 0.f, 0.f}};
  if (op == "HardSigmoid")
    return {{dnnl::algorithm::eltwise_linear, attr_float(n, "alpha", 0.2f), attr_float(n, "beta", 0.5f)},
            {dnnl::algorithm::eltwise_clip, 0.f, 1.f}};
  return {};
}

dnnl::algorithm binary_algorithm(const std::string& op) {
  if (op == "Add") return dnnl::algorithm::binary_add;
  if (op == "Mul") return dnnl::algorithm::binary_mul;
  return dnnl::algorithm::binary_div;
}

}  // namespace

struct OneDnnGraph::Model {
  std::string file;
  onnx::ModelProto proto;
  std::vector<std::string> input_names, output_names;
  std::map<std::string, Constant> constants;
  std::map<std::string, std::vector<int>> consumers;  // value -> indices of the nodes that read it
  std::set<std::string> graph_outputs;
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  // Weights in the layouts convolutions asked for, shared by the plans of every input shape.
  std::map<std::string, std::vector<memory>> reordered;

  std::string node_label(const onnx::NodeProto& n) const {
    return file + ": node '" + (n.name().empty() ? n.output(0) : n.name()) + "' (" + n.op_type() + ")";
  }
};

struct OneDnnGraph::Plan {
  struct Step {
    dnnl::primitive primitive;
    std::unordered_map<int, memory> args;
  };
  std::vector<Step> steps;
  std::vector<memory> inputs;   // plain, filled by run()
  std::vector<memory> outputs;  // plain
};

// Turns the graph into oneDNN primitives for one set of input shapes.
class OneDnnGraph::Planner {
 public:
  Planner(Model& model, Plan& plan) : m_(model), p_(plan) {}

  // Whether the planner has primitives for `n` (the operators our export emits).
  static bool implements(const onnx::NodeProto& n) {
    return n.domain().empty() && (handlers().count(n.op_type()) || !eltwise_ops(n).empty());
  }

  void build(const std::vector<Dims>& input_dims) {
    for (size_t i = 0; i < m_.input_names.size(); ++i) {
      p_.inputs.emplace_back(plain_desc(input_dims[i]), m_.engine);
      values_[m_.input_names[i]] = p_.inputs.back();
    }
    const auto& nodes = m_.proto.graph().node();
    for (int i = 0; i < nodes.size(); ++i) {
      if (fused_.count(i)) continue;
      const auto& n = nodes[i];
      try {
        plan_node(n);
        planned_.insert(i);
        planned_.insert(fused_.begin(), fused_.end());
      } catch (const dnnl::error& e) {
        throw RunError(m_.node_label(n) + ": oneDNN: " + e.what());
      } catch (const std::runtime_error& e) {
        throw RunError(m_.node_label(n) + ": " + e.what());
      }
    }
    for (const auto& name : m_.output_names)
      p_.outputs.push_back(copy_to(value(name), plain_desc(value(name).get_desc().dims())));
  }

 private:
  Model& m_;
  Plan& p_;
  std::map<std::string, memory> values_;
  std::set<int> fused_;    // nodes absorbed as post-ops into an earlier node's primitive
  std::set<int> planned_;  // nodes whose primitives are in the plan (fused ones included)

  // The operand of a residual Add fused as a sum post-op.
  struct Residual {
    memory buffer;  // null: none fused
    std::string name;
    int add_node = -1;
  };

  // A computed value or a float initializer (wrapped, not copied).
  memory value(const std::string& name) {
    if (const auto it = values_.find(name); it != values_.end()) return it->second;
    const auto c = m_.constants.find(name);
    if (c == m_.constants.end() || c->second.floats.empty())
      throw std::runtime_error("input '" + name + "' is neither computed before this node nor a float initializer");
    return values_[name] = memory(plain_desc(c->second.dims), m_.engine, c->second.floats.data());
  }
  const std::vector<int64_t>& int_constant(const std::string& name) {
    const auto c = m_.constants.find(name);
    if (c == m_.constants.end() || !c->second.floats.empty())
      throw std::runtime_error("'" + name + "' must be an int64 initializer");
    return c->second.ints;
  }

  void add(dnnl::primitive primitive, std::unordered_map<int, memory> args) {
    p_.steps.push_back({std::move(primitive), std::move(args)});
  }

  // A new buffer in layout `desc` that a reorder step fills from `src` (a copy, a layout change, or the
  // gathering of a permuted or sliced view).
  memory copy_to(const memory& src, const memory::desc& desc) {
    memory dst(desc, m_.engine);
    add(dnnl::reorder(src, dst), {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}});
    return dst;
  }
  // `src` in layout `desc`, copied only when it is held in another.
  memory in_layout(const memory& src, const memory::desc& desc) {
    return src.get_desc() == desc ? src : copy_to(src, desc);
  }
  memory plain(const memory& src) { return in_layout(src, plain_desc(src.get_desc().dims())); }
  // The same plain buffer seen with other dims (Reshape, Flatten).
  memory reshaped(const memory& src, const Dims& dims) {
    const memory p = plain(src);
    return memory(plain_desc(dims), m_.engine, p.get_data_handle());
  }

  // A weight initializer in the layout a primitive chose, reordered once and kept for every plan.
  memory weights(const std::string& name, const memory::desc& stored, const memory::desc& wanted) {
    const Constant& c = m_.constants.at(name);
    const memory src(stored, m_.engine, const_cast<float*>(c.floats.data()));
    if (stored == wanted) return src;
    auto& cache = m_.reordered[name];
    for (const auto& w : cache)
      if (w.get_desc() == wanted) return w;
    memory dst(wanted, m_.engine);
    dnnl::reorder(src, dst).execute(m_.stream, const_cast<memory&>(src), dst);
    m_.stream.wait();
    cache.push_back(dst);
    return dst;
  }

  const onnx::NodeProto* only_consumer(const std::string& value_name) const {
    if (m_.graph_outputs.count(value_name)) return nullptr;
    const auto it = m_.consumers.find(value_name);
    if (it == m_.consumers.end() || it->second.size() != 1) return nullptr;
    return &m_.proto.graph().node(it->second[0]);
  }

  // Folds the element-wise nodes that follow `output` (its only reader, one after another) into `ops`. With
  // `residual`, also an Add whose other operand is already computed with the same dims, as a sum post-op: the
  // primitive then writes onto that operand (see with_residual). Returns the name of the last value absorbed.
  std::string absorb_post_ops(std::string output, const Dims& dims, dnnl::post_ops& ops,
                              Residual* residual = nullptr) {
    while (const onnx::NodeProto* next = only_consumer(output)) {
      const int index = m_.consumers.at(output)[0];
      const auto eltwise = eltwise_ops(*next);
      if (!eltwise.empty()) {
        for (const auto& e : eltwise) ops.append_eltwise(1.f, e.algorithm, e.alpha, e.beta);
      } else if (residual && !residual->buffer && next->op_type() == "Add" && next->input_size() == 2) {
        const std::string& other = next->input(next->input(0) == output ? 1 : 0);
        const auto it = values_.find(other);
        if (other == output || it == values_.end() || it->second.get_desc().dims() != dims) break;
        *residual = {it->second, other, index};
        ops.append_sum(1.f);
      } else {
        break;
      }
      fused_.insert(index);
      output = next->output(0);
    }
    return output;
  }

  // The destination of a primitive with a sum post-op: the residual's own buffer when nothing reads it later
  // (every other reader is planned, no other value shares the buffer, and it is not a graph input or output),
  // else a copy of it.
  memory with_residual(const Residual& residual, const memory::desc& dst_desc) {
    bool in_place = residual.buffer.get_desc() == dst_desc && !m_.graph_outputs.count(residual.name) &&
                    !m_.constants.count(residual.name) &&
                    std::find(m_.input_names.begin(), m_.input_names.end(), residual.name) == m_.input_names.end();
    for (int reader : m_.consumers.at(residual.name))
      if (reader != residual.add_node && !planned_.count(reader)) in_place = false;
    for (const auto& [name, v] : values_)
      if (name != residual.name && v.get_data_handle() == residual.buffer.get_data_handle()) in_place = false;
    return in_place ? residual.buffer : copy_to(residual.buffer, dst_desc);
  }

  // The planning of each operator but the element-wise ones (eltwise_ops).
  using Handler = void (Planner::*)(const onnx::NodeProto&);
  static const std::map<std::string, Handler>& handlers() {
    static const std::map<std::string, Handler> table = {
        {"Conv", &Planner::conv},       {"Gemm", &Planner::gemm},           {"MatMul", &Planner::matmul},
        {"MaxPool", &Planner::pool},    {"GlobalAveragePool", &Planner::pool}, {"AveragePool", &Planner::pool},
        {"Add", &Planner::binary},      {"Concat", &Planner::concat},
        {"Mul", &Planner::binary},      {"Div", &Planner::binary},          {"Flatten", &Planner::flatten},
        {"Reshape", &Planner::reshape}, {"Transpose", &Planner::transpose}, {"Slice", &Planner::slice},
        {"Softmax", &Planner::softmax}};
    return table;
  }

  void plan_node(const onnx::NodeProto& n) {
    const auto handler = handlers().find(n.op_type());
    if (handler == handlers().end()) return eltwise(n);
    (this->*handler->second)(n);
  }

  void conv(const onnx::NodeProto& n) {
    if (find_attribute(n, "auto_pad") && find_attribute(n, "auto_pad")->s() != "NOTSET")
      throw std::runtime_error("auto_pad is not implemented (explicit pads only)");
    const memory src = value(n.input(0));
    const Dims in = src.get_desc().dims();
    const Constant& w = m_.constants.at(n.input(1));
    if (in.size() != 4 || w.dims.size() != 4) throw std::runtime_error("only 2-D convolutions are implemented");
    const int64_t groups = attr_int(n, "group", 1);
    const auto strides = attr_ints(n, "strides", {1, 1});
    const auto dilations = attr_ints(n, "dilations", {1, 1});
    const auto pads = attr_ints(n, "pads", {0, 0, 0, 0});
    const int64_t out_channels = w.dims[0];
    Dims out = {in[0], out_channels, 0, 0};
    for (int a = 0; a < 2; ++a)
      out[2 + a] = (in[2 + a] + pads[a] + pads[2 + a] - (dilations[a] * (w.dims[2 + a] - 1) + 1)) / strides[a] + 1;
    const Dims weight_dims = groups == 1 ? w.dims
                                         : Dims{groups, out_channels / groups, w.dims[1], w.dims[2], w.dims[3]};
    const memory::desc stored_weights = plain_desc(weight_dims);
    const memory::desc any_weights(weight_dims, kF32, memory::format_tag::any);
    const memory::desc bias = n.input_size() > 2 ? plain_desc({out_channels}) : memory::desc();

    dnnl::post_ops ops;
    Residual residual;
    const std::string output = absorb_post_ops(n.output(0), out, ops, &residual);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    // With a residual the output takes its layout (the sum accumulates in place); oneDNN's direct kernels take
    // a sum post-op where a binary one would send them to a slow fallback.
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
        memory::desc(in, kF32, memory::format_tag::any), any_weights, bias,
        residual.buffer ? residual.buffer.get_desc() : memory::desc(out, kF32, memory::format_tag::any),
        {strides[0], strides[1]},
        {dilations[0] - 1, dilations[1] - 1}, {pads[0], pads[1]}, {pads[2], pads[3]});
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, m_.engine);
    std::unordered_map<int, memory> args;
    args[DNNL_ARG_SRC] = in_layout(src, pd.src_desc());
    args[DNNL_ARG_WEIGHTS] = weights(n.input(1), stored_weights, pd.weights_desc());
    if (n.input_size() > 2) args[DNNL_ARG_BIAS] = weights(n.input(2), bias, bias);
    args[DNNL_ARG_DST] = values_[output] = residual.buffer ? with_residual(residual, pd.dst_desc())
                                                           : memory(pd.dst_desc(), m_.engine);
    add(dnnl::convolution_forward(pd), std::move(args));
  }

  void gemm(const onnx::NodeProto& n) {
    if (attr_int(n, "transA", 0) != 0 || attr_float(n, "alpha", 1.f) != 1.f || attr_float(n, "beta", 1.f) != 1.f)
      throw std::runtime_error("only transA = 0, alpha = 1 and beta = 1 are implemented");
    const memory src = plain(value(n.input(0)));
    const Constant& w = m_.constants.at(n.input(1));
    const bool trans_b = attr_int(n, "transB", 0) != 0;
    const int64_t outputs = trans_b ? w.dims[0] : w.dims[1];
    const Dims in = src.get_desc().dims();
    if (in.size() != 2 || w.dims.size() != 2) throw std::runtime_error("only 2-D operands are implemented");
    const memory::desc stored_weights({outputs, in[1]}, kF32, trans_b ? memory::format_tag::oi : memory::format_tag::io);
    if (n.input_size() > 2 && m_.constants.at(n.input(2)).dims != Dims{outputs})
      throw std::runtime_error("only a bias C of shape [" + std::to_string(outputs) + "] is implemented");
    const memory::desc bias = n.input_size() > 2 ? plain_desc({outputs}) : memory::desc();
    const Dims out = {in[0], outputs};

    dnnl::post_ops ops;
    const std::string output = absorb_post_ops(n.output(0), out, ops);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    const dnnl::inner_product_forward::desc desc(dnnl::prop_kind::forward_inference, src.get_desc(),
                                                 memory::desc({outputs, in[1]}, kF32, memory::format_tag::any), bias,
                                                 plain_desc(out));
    const dnnl::inner_product_forward::primitive_desc pd(desc, attr, m_.engine);
    std::unordered_map<int, memory> args;
    args[DNNL_ARG_SRC] = in_layout(src, pd.src_desc());
    args[DNNL_ARG_WEIGHTS] = weights(n.input(1), stored_weights, pd.weights_desc());
    if (n.input_size() > 2) args[DNNL_ARG_BIAS] = weights(n.input(2), bias, bias);
    args[DNNL_ARG_DST] = values_[output] = memory(pd.dst_desc(), m_.engine);
    add(dnnl::inner_product_forward(pd), std::move(args));
  }

  void matmul(const onnx::NodeProto& n) {
    const memory a = plain(value(n.input(0))), b = plain(value(n.input(1)));
    const Dims da = a.get_desc().dims(), db = b.get_desc().dims();
    if (da.size() != db.size() || da.size() < 2 || da.back() != db[db.size() - 2])
      throw std::runtime_error("operands of equal rank >= 2 with matching inner dims are required");
    Dims out = da;
    for (size_t i = 0; i + 2 < da.size(); ++i) out[i] = std::max(da[i], db[i]);
    out.back() = db.back();
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a.get_desc(), b.get_desc(), plain_desc(out)),
                                          m_.engine);
    const memory dst(pd.dst_desc(), m_.engine);
    add(dnnl::matmul(pd), {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, dst}});
    values_[n.output(0)] = dst;
  }

  void pool(const onnx::NodeProto& n) {
    const memory src = value(n.input(0));
    const Dims in = src.get_desc().dims();
    if (in.size() != 4) throw std::runtime_error("only 2-D pooling is implemented");
    const bool global = n.op_type() == "GlobalAveragePool";
    const bool average = global || n.op_type() == "AveragePool";
    if (!global && (attr_int(n, "ceil_mode", 0) != 0 || attr_ints(n, "dilations", {1, 1}) != std::vector<int64_t>{1, 1}))
      throw std::runtime_error("ceil_mode and dilations are not implemented");
    if (attr_int(n, "count_include_pad", 0) != 0) throw std::runtime_error("count_include_pad is not implemented");
    const auto kernel = global ? std::vector<int64_t>{in[2], in[3]} : attr_ints(n, "kernel_shape", {});
    const auto strides = global ? std::vector<int64_t>{1, 1} : attr_ints(n, "strides", {1, 1});
    const auto pads = global ? std::vector<int64_t>{0, 0, 0, 0} : attr_ints(n, "pads", {0, 0, 0, 0});
    if (kernel.size() != 2) throw std::runtime_error("kernel_shape must hold 2 values");
    Dims out = {in[0], in[1], 0, 0};
    for (int a = 0; a < 2; ++a) out[2 + a] = (in[2 + a] + pads[a] + pads[2 + a] - kernel[a]) / strides[a] + 1;
    const dnnl::pooling_forward::desc desc(
        dnnl::prop_kind::forward_inference,
        average ? dnnl::algorithm::pooling_avg_exclude_padding : dnnl::algorithm::pooling_max, src.get_desc(),
        memory::desc(out, kF32, memory::format_tag::any), {strides[0], strides[1]}, {kernel[0], kernel[1]},
        {pads[0], pads[1]}, {pads[2], pads[3]});
    const dnnl::pooling_forward::primitive_desc pd(desc, m_.engine);
    const memory dst(pd.dst_desc(), m_.engine);
    add(dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
    values_[n.output(0)] = dst;
  }

  // Numpy broadcasting of equal-rank operands; the broadcast one goes second (oneDNN broadcasts src1 only).
  void binary(const onnx::NodeProto& n) {
    memory a = value(n.input(0)), b = value(n.input(1));
    Dims da = a.get_desc().dims(), db = b.get_desc().dims();
    const bool commutative = n.op_type() == "Add" || n.op_type() == "Mul";
    const auto covers = [](const Dims& x, const Dims& y) {  // x has y's dims, or y is 1 there
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (x[i] != y[i] && y[i] != 1) return false;
      return true;
    };
    if (!covers(da, db)) {
      if (!commutative || !covers(db, da))
        throw std::runtime_error("operand shapes not implemented (equal ranks, the second broadcast to the first)");
      std::swap(a, b);
      std::swap(da, db);
    }
    dnnl::post_ops ops;
    const std::string output = absorb_post_ops(n.output(0), da, ops);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    const dnnl::binary::desc desc(binary_algorithm(n.op_type()), a.get_desc(), b.get_desc(), a.get_desc());
    const dnnl::binary::primitive_desc pd(desc, attr, m_.engine);
    const memory dst(pd.dst_desc(), m_.engine);
    add(dnnl::binary(pd), {{DNNL_ARG_SRC_0, a}, {DNNL_ARG_SRC_1, b}, {DNNL_ARG_DST, dst}});
    values_[output] = dst;
  }

  void concat(const onnx::NodeProto& n) {
    std::vector<memory> parts;
    std::vector<memory::desc> descs;
    for (const auto& input : n.input()) {
      parts.push_back(plain(value(input)));
      descs.push_back(parts.back().get_desc());
    }
    const auto rank = static_cast<int64_t>(descs.front().dims().size());
    int64_t axis = attr_int(n, "axis", 1);
    if (axis < 0) axis += rank;
    const dnnl::concat::primitive_desc pd(static_cast<int>(axis), descs, m_.engine);
    const memory dst(pd.dst_desc(), m_.engine);
    std::unordered_map<int, memory> args = {{DNNL_ARG_DST, dst}};
    for (size_t i = 0; i < parts.size(); ++i) args[DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i)] = parts[i];
    add(dnnl::concat(pd), std::move(args));
    values_[n.output(0)] = dst;
  }

  void eltwise(const onnx::NodeProto& n) {
    memory x = value(n.input(0));
    for (const auto& e : eltwise_ops(n)) {
      const dnnl::eltwise_forward::primitive_desc pd(
          dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference, e.algorithm, x.get_desc(), e.alpha, e.beta),
          m_.engine);
      const memory dst(pd.dst_desc(), m_.engine);
      add(dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, dst}});
      x = dst;
    }
    values_[n.output(0)] = x;
  }

  void flatten(const onnx::NodeProto& n) {
    const memory x = value(n.input(0));
    const Dims in = x.get_desc().dims();
    int64_t axis = attr_int(n, "axis", 1);
    if (axis < 0) axis += static_cast<int64_t>(in.size());
    values_[n.output(0)] =
        reshaped(x, {product(in.begin(), in.begin() + axis), product(in.begin() + axis, in.end())});
  }

  void reshape(const onnx::NodeProto& n) {
    const memory x = value(n.input(0));
    const Dims in = x.get_desc().dims();
    Dims out = int_constant(n.input(1));
    int inferred = -1;
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i] == 0 && i < in.size()) out[i] = in[i];  // 0 copies the input's dim (allowzero = 0)
      else if (out[i] == -1) inferred = static_cast<int>(i);
    }
    const int64_t total = product(in.begin(), in.end());
    if (inferred >= 0) {
      out[inferred] = 1;
      out[inferred] = total / product(out.begin(), out.end());
    }
    if (product(out.begin(), out.end()) != total) throw std::runtime_error("shape does not keep the element count");
    values_[n.output(0)] = reshaped(x, out);
  }

  void transpose(const onnx::NodeProto& n) {
    const memory x = plain(value(n.input(0)));
    const Dims in = x.get_desc().dims();
    std::vector<int64_t> perm = attr_ints(n, "perm", {});
    if (perm.empty())
      for (int64_t i = static_cast<int64_t>(in.size()) - 1; i >= 0; --i) perm.push_back(i);
    if (perm.size() != in.size()) throw std::runtime_error("perm does not match the input's rank");
    // Output axis i is input axis perm[i]; oneDNN's permutation says where each input axis goes.
    std::vector<int> where(perm.size());
    Dims out(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) {
      where[perm[i]] = static_cast<int>(i);
      out[i] = in[perm[i]];
    }
    const memory view(x.get_desc().permute_axes(where), m_.engine, x.get_data_handle());
    values_[n.output(0)] = copy_to(view, plain_desc(out));
  }

  void slice(const onnx::NodeProto& n) {
    const memory x = plain(value(n.input(0)));
    const Dims in = x.get_desc().dims();
    const auto& starts = int_constant(n.input(1));
    const auto& ends = int_constant(n.input(2));
    std::vector<int64_t> axes;
    if (n.input_size() > 3) axes = int_constant(n.input(3));
    else
      for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    if (n.input_size() > 4)
      for (int64_t step : int_constant(n.input(4)))
        if (step != 1) throw std::runtime_error("only steps of 1 are implemented");
    Dims dims = in, offsets(in.size(), 0);
    for (size_t i = 0; i < axes.size(); ++i) {
      const int64_t axis = axes[i] < 0 ? axes[i] + static_cast<int64_t>(in.size()) : axes[i];
      const auto clamp = [&](int64_t v) { return std::clamp(v < 0 ? v + in[axis] : v, int64_t{0}, in[axis]); };
      offsets[axis] = clamp(starts[i]);
      dims[axis] = std::max(int64_t{0}, clamp(ends[i]) - offsets[axis]);
    }
    const memory view(x.get_desc().submemory_desc(dims, offsets), m_.engine, x.get_data_handle());
    values_[n.output(0)] = copy_to(view, plain_desc(dims));
  }

  void softmax(const onnx::NodeProto& n) {
    const memory x = plain(value(n.input(0)));
    const auto rank = static_cast<int64_t>(x.get_desc().dims().size());
    int64_t axis = attr_int(n, "axis", -1);  // opset 13: along one axis
    if (axis < 0) axis += rank;
    const dnnl::softmax_forward::primitive_desc pd(
        dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, x.get_desc(), static_cast<int>(axis)),
        m_.engine);
    const memory dst(pd.dst_desc(), m_.engine);
    add(dnnl::softmax_forward(pd), {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, dst}});
    values_[n.output(0)] = dst;
  }
};

OneDnnGraph::OneDnnGraph(const std::string& onnx_file, std::vector<std::string> input_names,
                           std::vector<std::string> output_names)
    : model_(std::make_unique<Model>()) {
  Model& m = *model_;
  m.file = onnx_file;
  m.input_names = std::move(input_names);
  m.output_names = std::move(output_names);
  std::ifstream in(onnx_file, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  if (!in || !m.proto.ParseFromString(bytes.str()) || !m.proto.has_graph())
    throw RunError(onnx_file + ": not a readable ONNX model");
  const auto& graph = m.proto.graph();
  for (const auto& init : graph.initializer()) {
    try {
      m.constants[init.name()] = read_constant(init);
    } catch (const std::runtime_error& e) {
      throw RunError(onnx_file + ": initializer '" + init.name() + "': " + e.what());
    }
  }
  std::set<std::string> graph_inputs;
  for (const auto& input : graph.input()) graph_inputs.insert(input.name());
  for (const auto& name : m.input_names)
    if (!graph_inputs.count(name)) throw RunError(onnx_file + ": the model has no input '" + name + "'");
  for (const auto& output : graph.output()) m.graph_outputs.insert(output.name());
  for (const auto& name : m.output_names)
    if (!m.graph_outputs.count(name)) throw RunError(onnx_file + ": the model has no output '" + name + "'");
  for (int i = 0; i < graph.node_size(); ++i) {
    const auto& n = graph.node(i);
    if (!Planner::implements(n))
      throw RunError(m.node_label(n) + ": run_mode mkldnn does not implement this operator; use "
                     "Predict.kernel_option.run_mode=onnx (OpenCV dnn)");
    for (const auto& input : n.input()) m.consumers[input].push_back(i);
  }
}

OneDnnGraph::~OneDnnGraph() = default;

const std::vector<std::string>& OneDnnGraph::input_names() const { return model_->input_names; }
const std::vector<std::string>& OneDnnGraph::output_names() const { return model_->output_names; }

OneDnnGraph::Plan& OneDnnGraph::plan_for(const std::vector<std::vector<int64_t>>& input_dims) {
  if (const auto it = plans_.find(input_dims); it != plans_.end()) return *it->second;
  auto plan = std::make_unique<Plan>();
  Planner(*model_, *plan).build(input_dims);
  return *plans_.emplace(input_dims, std::move(plan)).first->second;
}

std::vector<OneDnnGraph::Output> OneDnnGraph::run(const std::vector<Input>& inputs) {
  if (inputs.size() != model_->input_names.size())
    throw RunError(model_->file + ": " + std::to_string(inputs.size()) + " inputs given, the model takes " +
                   std::to_string(model_->input_names.size()));
  std::vector<Dims> dims;
  for (const auto& input : inputs) dims.push_back(input.dims);
  Plan& plan = plan_for(dims);
  for (size_t i = 0; i < inputs.size(); ++i)
    std::memcpy(plan.inputs[i].get_data_handle(), inputs[i].data, plan.inputs[i].get_desc().get_size());
  try {
    for (auto& step : plan.steps) step.primitive.execute(model_->stream, step.args);
    model_->stream.wait();
  } catch (const dnnl::error& e) {
    throw RunError(model_->file + ": oneDNN failed to run the model: " + e.what());
  }
  std::vector<Output> outputs;
  for (const memory& out : plan.outputs) {
    const auto* data = static_cast<const float*>(out.get_data_handle());
    outputs.push_back({out.get_desc().dims(), std::vector<float>(data, data + out.get_desc().get_size() / sizeof(float))});
  }
  return outputs;
}

}  // namespace paddlex
