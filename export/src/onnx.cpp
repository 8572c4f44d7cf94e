// ONNX export: each graph op becomes ONNX nodes; weights become initializers.
#include "nasforge/export/onnx.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "nasforge/searchspace/files.h"

namespace nasforge::exporter {

namespace {

using supernet::ActKind;
using supernet::Graph;
using supernet::GraphOp;
using supernet::OpKind;

void set_float_data(onnx::TensorProto* t, const at::Tensor& value) {
  const at::Tensor v = value.detach().to(torch::kFloat32).contiguous().cpu();
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : v.sizes()) t->add_dims(d);
  t->set_raw_data(std::string(static_cast<const char*>(v.data_ptr()), v.numel() * sizeof(float)));
}

class Emitter {
 public:
  Emitter(const Graph& g, const OnnxOptions& o, onnx::GraphProto* out)
      : g_(g),
        o_(o),
        out_(out),
        names_(g.ops.size()),
        uses_(g.ops.size(), 0),
        skip_(g.ops.size(), false) {
    for (const auto& op : g.ops)
      for (int i : op.inputs) ++uses_[i];
  }

  void run() {
    for (size_t i = 0; i < g_.ops.size(); ++i) emit(static_cast<int>(i));
    // The output keeps its name whatever op made it.
    node("Identity", {names_[g_.output]}, o_.output_name);
  }

 private:
  // --- building blocks ---
  std::string fresh(const std::string& stem) { return stem + "_" + std::to_string(counter_++); }

  onnx::NodeProto* node(const std::string& type, const std::vector<std::string>& inputs,
                        const std::string& output) {
    auto* n = out_->add_node();
    n->set_op_type(type);
    n->set_name(fresh(type));
    for (const auto& i : inputs) n->add_input(i);
    n->add_output(output);
    return n;
  }
  std::string apply(const std::string& type, const std::vector<std::string>& inputs,
                    onnx::NodeProto** made = nullptr) {
    const std::string out = fresh("t");
    auto* n = node(type, inputs, out);
    if (made) *made = n;
    return out;
  }
  static void ints(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static void integer(onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void real(onnx::NodeProto* n, const std::string& name, double v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(static_cast<float>(v));
  }
  std::string initializer(const at::Tensor& value, const std::string& stem) {
    auto* t = out_->add_initializer();
    const std::string name = fresh(stem);
    t->set_name(name);
    set_float_data(t, value);
    return name;
  }
  std::string int64s(const std::vector<int64_t>& v, const std::string& stem) {
    auto* t = out_->add_initializer();
    const std::string name = fresh(stem);
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(v.size()));
    for (int64_t x : v) t->add_int64_data(x);
    return name;
  }
  std::string scalar(float v) { return initializer(torch::tensor(v), "c"); }

  const std::string& in(const GraphOp& op, size_t k) const { return names_[op.inputs.at(k)]; }

  // --- ops ---
  void emit(int id) {
    const GraphOp& op = g_.ops[id];
    switch (op.kind) {
      case OpKind::kInput:
        names_[id] = o_.input_name;
        return;
      case OpKind::kConv:
        names_[id] = conv(op, folded_bn(id));
        return;
      case OpKind::kBatchNorm:
        if (skip_[id]) {  // folded into its convolution
          names_[id] = in(op, 0);
          return;
        }
        names_[id] = batch_norm(op);
        return;
      case OpKind::kAct:
        names_[id] = act(in(op, 0), op.act);
        return;
      case OpKind::kAdd:
        names_[id] = apply("Add", {in(op, 0), in(op, 1)});
        return;
      case OpKind::kMul: {
        std::string gate = in(op, 1);
        if (g_.ops[op.inputs[1]].shape.size() == 2)  // N x C: broadcast over H and W
          gate = apply("Unsqueeze", {gate, int64s({2, 3}, "axes")});
        names_[id] = apply("Mul", {in(op, 0), gate});
        return;
      }
      case OpKind::kConcat: {
        std::vector<std::string> xs;
        for (size_t k = 0; k < op.inputs.size(); ++k) xs.push_back(in(op, k));
        onnx::NodeProto* n = nullptr;
        names_[id] = apply("Concat", xs, &n);
        integer(n, "axis", 1);
        return;
      }
      case OpKind::kShuffle: {  // N x g x C/g x H x W, transposed: Reshape, Transpose, Reshape
        const auto& x = g_.ops[op.inputs[0]].shape;
        auto grouped = apply(
            "Reshape", {in(op, 0), int64s({0, op.groups, x[1] / op.groups, x[2], x[3]}, "shape")});
        onnx::NodeProto* n = nullptr;
        auto swapped = apply("Transpose", {grouped}, &n);
        ints(n, "perm", {0, 2, 1, 3, 4});
        names_[id] = apply("Reshape", {swapped, int64s({0, x[1], x[2], x[3]}, "shape")});
        return;
      }
      case OpKind::kSlice:
        names_[id] = apply("Slice", {in(op, 0), int64s({op.begin}, "starts"),
                                     int64s({op.end}, "ends"), int64s({1}, "axes")});
        return;
      case OpKind::kPool: {
        onnx::NodeProto* n = nullptr;
        names_[id] = apply(op.max ? "MaxPool" : "AveragePool", {in(op, 0)}, &n);
        ints(n, "kernel_shape", {op.kernel, op.kernel});
        ints(n, "strides", {op.stride, op.stride});
        ints(n, "pads", {op.pad_begin, op.pad_begin, op.pad_end, op.pad_end});
        if (!op.max) integer(n, "count_include_pad", 0);
        return;
      }
      case OpKind::kGlobalPool: {
        if (g_.ops[op.inputs[0]].shape.size() == 3) {  // tokens: over T, to N x D
          onnx::NodeProto* n = nullptr;
          names_[id] = apply(op.max ? "ReduceMax" : "ReduceMean", {in(op, 0)}, &n);
          ints(n, "axes", {1});
          integer(n, "keepdims", 0);
          return;
        }
        names_[id] = apply(op.max ? "GlobalMaxPool" : "GlobalAveragePool", {in(op, 0)});
        return;
      }
      case OpKind::kFlatten: {
        onnx::NodeProto* n = nullptr;
        names_[id] = apply("Flatten", {in(op, 0)}, &n);
        integer(n, "axis", 1);
        return;
      }
      case OpKind::kLinear:
        names_[id] = linear(op);
        return;
      case OpKind::kZero:
        names_[id] = zeros(op.shape);
        return;
      case OpKind::kTokens: {
        // N x C x H x W -> N x C x (H*W) -> N x (H*W) x C
        auto flat = apply("Reshape", {in(op, 0), int64s({0, 0, -1}, "shape")});
        onnx::NodeProto* n = nullptr;
        names_[id] = apply("Transpose", {flat}, &n);
        ints(n, "perm", {0, 2, 1});
        return;
      }
      case OpKind::kConstant:
        names_[id] = initializer(op.weight, "const");
        return;
      case OpKind::kLayerNorm: {
        onnx::NodeProto* n = nullptr;
        names_[id] = apply(
            "LayerNormalization",
            {in(op, 0), initializer(op.weight, "ln_scale"), initializer(op.bias, "ln_bias")}, &n);
        integer(n, "axis", -1);
        real(n, "epsilon", op.eps);
        return;
      }
      case OpKind::kAttention:
        names_[id] = attention(op);
        return;
    }
    throw std::invalid_argument(std::string("onnx export: no ONNX form for graph op ") +
                                supernet::op_kind_name(op.kind));
  }

  // The batch norm that follows convolution `id` and is its only reader: folded into it.
  const GraphOp* folded_bn(int id) {
    if (!o_.fold_batch_norm || uses_[id] != 1) return nullptr;
    for (size_t j = static_cast<size_t>(id) + 1; j < g_.ops.size(); ++j) {
      const GraphOp& op = g_.ops[j];
      if (op.kind == OpKind::kBatchNorm && op.inputs[0] == id) {
        skip_[j] = true;
        return &op;
      }
    }
    return nullptr;
  }

  std::string conv(const GraphOp& op, const GraphOp* bn) {
    at::Tensor w = op.weight.to(torch::kFloat64), b;
    if (op.bias.defined()) b = op.bias.to(torch::kFloat64);
    if (bn) {  // w' = w * gamma / sqrt(var + eps); b' = (b - mean) * gamma / sqrt(var + eps) + beta
      auto scale =
          bn->weight.to(torch::kFloat64) / torch::sqrt(bn->var.to(torch::kFloat64) + bn->eps);
      w = w * scale.view({-1, 1, 1, 1});
      auto base = b.defined() ? b : torch::zeros_like(scale);
      b = (base - bn->mean.to(torch::kFloat64)) * scale + bn->bias.to(torch::kFloat64);
    }
    std::vector<std::string> inputs = {in(op, 0), initializer(w, "conv_w")};
    if (b.defined()) inputs.push_back(initializer(b, "conv_b"));
    onnx::NodeProto* n = nullptr;
    auto out = apply("Conv", inputs, &n);
    ints(n, "kernel_shape", {op.weight.size(2), op.weight.size(3)});  // OpenCV needs it
    ints(n, "strides", {op.stride, op.stride});
    ints(n, "pads", {op.pad_begin, op.pad_begin, op.pad_end, op.pad_end});
    ints(n, "dilations", {op.dilation, op.dilation});
    integer(n, "group", op.groups);
    return out;
  }

  std::string batch_norm(const GraphOp& op) {
    if (g_.ops[op.inputs[0]].shape.size() != 4)
      throw std::invalid_argument("onnx export: batch norm expects an N x C x H x W input");
    onnx::NodeProto* n = nullptr;
    auto out =
        apply("BatchNormalization",
              {in(op, 0), initializer(op.weight, "bn_scale"), initializer(op.bias, "bn_bias"),
               initializer(op.mean, "bn_mean"), initializer(op.var, "bn_var")},
              &n);
    real(n, "epsilon", op.eps);
    return out;
  }

  std::string act(const std::string& x, ActKind a) {
    switch (a) {
      case ActKind::kRelu:
        return apply("Relu", {x});
      case ActKind::kRelu6:
        return apply("Clip", {x, scalar(0.f), scalar(6.f)});
      case ActKind::kHswish:
        return apply("HardSwish", {x});
      case ActKind::kHsigmoid: {  // relu6(x + 3) / 6
        onnx::NodeProto* n = nullptr;
        auto out = apply("HardSigmoid", {x}, &n);
        real(n, "alpha", 1.0 / 6.0);
        real(n, "beta", 0.5);
        return out;
      }
      case ActKind::kSwish:  // x * sigmoid(x)
        return apply("Mul", {x, apply("Sigmoid", {x})});
      case ActKind::kGelu: {  // x * 0.5 * (1 + erf(x / sqrt(2))): Gelu is opset 20
        auto e = apply("Erf", {apply("Div", {x, scalar(static_cast<float>(std::sqrt(2.0)))})});
        auto half = apply("Mul", {x, scalar(0.5f)});
        return apply("Mul", {half, apply("Add", {e, scalar(1.f)})});
      }
    }
    throw std::invalid_argument("onnx export: unknown activation");
  }

  std::string linear(const GraphOp& op) {
    const auto& shape = g_.ops[op.inputs[0]].shape;
    std::string x = in(op, 0);
    if (shape.size() == 3) {  // tokens: MatMul with W^T, then the bias
      auto y = apply("MatMul", {x, initializer(op.weight.t(), "linear_wt")});
      return op.bias.defined() ? apply("Add", {y, initializer(op.bias, "linear_b")}) : y;
    }
    if (shape.size() == 4) {
      if (shape[2] != 1 || shape[3] != 1)
        throw std::invalid_argument("onnx export: a linear layer on a spatial tensor");
      onnx::NodeProto* f = nullptr;
      x = apply("Flatten", {x}, &f);
      integer(f, "axis", 1);
    }
    std::vector<std::string> inputs = {x, initializer(op.weight, "linear_w")};
    if (op.bias.defined()) inputs.push_back(initializer(op.bias, "linear_b"));
    onnx::NodeProto* n = nullptr;
    auto out = apply("Gemm", inputs, &n);
    integer(n, "transB", 1);
    return out;
  }

  // Zeros of the op's shape with the input's batch size, so the batch stays dynamic.
  std::string zeros(const std::vector<int64_t>& shape) {
    auto batch = apply(
        "Slice", {apply("Shape", {o_.input_name}), int64s({0}, "starts"), int64s({1}, "ends")});
    std::vector<int64_t> rest(shape.begin() + 1, shape.end());
    onnx::NodeProto* c = nullptr;
    auto full = apply("Concat", {batch, int64s(rest, "dims")}, &c);
    integer(c, "axis", 0);
    onnx::NodeProto* n = nullptr;
    auto out = apply("ConstantOfShape", {full}, &n);
    auto* a = n->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    set_float_data(a->mutable_t(), torch::zeros({1}));
    return out;
  }

  // softmax(Q K^T / sqrt(hd)) V per head, heads split from D: N x T x D -> N x H x T x hd.
  std::string attention(const GraphOp& op) {
    const int64_t d = op.shape[2], heads = op.heads, hd = d / heads;
    auto split = [&](const std::string& x, const std::vector<int64_t>& perm) {
      auto r = apply("Reshape", {x, int64s({0, 0, heads, hd}, "shape")});
      onnx::NodeProto* n = nullptr;
      auto t = apply("Transpose", {r}, &n);
      ints(n, "perm", perm);
      return t;
    };
    auto q = split(in(op, 0), {0, 2, 1, 3});  // N x H x T x hd
    auto k = split(in(op, 1), {0, 2, 3, 1});  // N x H x hd x T
    auto v = split(in(op, 2), {0, 2, 1, 3});
    auto scores = apply(
        "Mul", {apply("MatMul", {q, k}), scalar(static_cast<float>(1.0 / std::sqrt(double(hd))))});
    onnx::NodeProto* s = nullptr;
    auto weights = apply("Softmax", {scores}, &s);
    integer(s, "axis", -1);
    onnx::NodeProto* t = nullptr;
    auto merged = apply("Transpose", {apply("MatMul", {weights, v})}, &t);
    ints(t, "perm", {0, 2, 1, 3});
    return apply("Reshape", {merged, int64s({0, 0, d}, "shape")});
  }

  const Graph& g_;
  const OnnxOptions& o_;
  onnx::GraphProto* out_;
  std::vector<std::string> names_;
  std::vector<int> uses_;
  std::vector<bool> skip_;  // batch norms folded into their convolution
  int counter_ = 0;
};

void set_shape(onnx::ValueInfoProto* v, const std::string& name,
               const std::vector<int64_t>& shape) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  auto* s = t->mutable_shape();
  for (size_t i = 0; i < shape.size(); ++i) {
    auto* d = s->add_dim();
    if (i == 0)
      d->set_dim_param("batch");
    else
      d->set_dim_value(shape[i]);
  }
}

void check(onnx::ModelProto& model) {
  onnx::checker::check_model(model);
  onnx::ShapeInferenceOptions options{/*check_type=*/true, /*error_mode=*/1,
                                      /*enable_data_propagation=*/true};
  onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
}

}  // namespace

std::string onnx_model(const Graph& graph, const OnnxOptions& options) {
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name("nasforge");
  model.set_producer_version(options.producer_version);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  for (const auto& [key, value] : options.metadata) {
    auto* p = model.add_metadata_props();
    p->set_key(key);
    p->set_value(value);
  }
  auto* g = model.mutable_graph();
  g->set_name(options.graph_name);
  Emitter(graph, options, g).run();
  set_shape(g->add_input(), options.input_name, graph.ops[0].shape);
  set_shape(g->add_output(), options.output_name, graph.ops[graph.output].shape);
  try {
    check(model);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("onnx export: the model fails ONNX's checks: ") +
                             e.what());
  }
  // Shape inference must agree with the graph's own shapes on the output.
  const auto& inferred = model.graph().output(0).type().tensor_type().shape();
  const auto& expected = graph.ops[graph.output].shape;
  if (inferred.dim_size() != static_cast<int>(expected.size()))
    throw std::runtime_error("onnx export: inferred output rank differs from the network's");
  for (int i = 1; i < inferred.dim_size(); ++i)
    if (inferred.dim(i).dim_value() != expected[static_cast<size_t>(i)])
      throw std::runtime_error("onnx export: inferred output shape differs from the network's");
  std::string bytes;
  model.SerializeToString(&bytes);
  return bytes;
}

Status check_onnx(const std::string& model_bytes) {
  onnx::ModelProto model;
  if (!model.ParseFromString(model_bytes))
    return InvalidArgument("not a serialised ONNX ModelProto");
  try {
    check(model);
  } catch (const std::exception& e) {
    return InvalidArgument(e.what());
  }
  return Status::Ok();
}

std::string tensor_proto(const at::Tensor& t, const std::string& name) {
  onnx::TensorProto p;
  p.set_name(name);
  set_float_data(&p, t);
  std::string bytes;
  p.SerializeToString(&bytes);
  return bytes;
}

Status write_test_vector(const std::string& dir, int k, const at::Tensor& input,
                         const std::string& input_name, const at::Tensor& output,
                         const std::string& output_name) {
  const std::string set = dir + "/test_data_set_" + std::to_string(k);
  std::error_code ec;
  std::filesystem::create_directories(set, ec);
  if (ec) return InvalidArgument("cannot create " + set + ": " + ec.message());
  NF_RETURN_IF_ERROR(write_atomically(set + "/input_0.pb", tensor_proto(input, input_name)));
  return write_atomically(set + "/output_0.pb", tensor_proto(output, output_name));
}

}  // namespace nasforge::exporter
