#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <dnnl.hpp>
#include <stdexcept>

#include "nasforge/hardware/onednn.h"

namespace nasforge::hardware {

using dnnl::memory;
using supernet::ActKind;
using supernet::Graph;
using supernet::GraphOp;
using supernet::OpKind;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

memory::desc plain(const std::vector<int64_t>& shape) {
  memory::dims d(shape.begin(), shape.end());
  switch (shape.size()) {
    case 2:
      return {d, dt::f32, tag::nc};
    case 4:
      return {d, dt::f32, tag::nchw};
    default:
      throw std::invalid_argument("onednn: expected a 2-D or 4-D tensor, got " +
                                  std::to_string(shape.size()) + "-D");
  }
}

void fill(memory& m, const at::Tensor& t) {
  auto c = t.detach().to(torch::kFloat).contiguous();
  std::memcpy(m.get_data_handle(), c.data_ptr<float>(), c.numel() * sizeof(float));
}

}  // namespace

struct OneDnnProgram::Impl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::vector<memory> value;  // per op, its output
  std::vector<std::pair<dnnl::primitive, std::unordered_map<int, memory>>> steps;
  int output = 0;
  std::vector<int64_t> output_shape;

  memory weights(const at::Tensor& t, const memory::desc& md) {
    memory m(md, engine);
    fill(m, t);
    return m;
  }

  // The output of op `id` viewed with another plain shape of the same size.
  memory view(int id, const std::vector<int64_t>& shape) {
    return memory(plain(shape), engine, value[id].get_data_handle());
  }

  void build(const Graph& g) {
    const auto& ops = g.ops;
    for (const auto& op : ops)
      if (op.kind == OpKind::kTokens || op.kind == OpKind::kConstant ||
          op.kind == OpKind::kLayerNorm || op.kind == OpKind::kAttention)
        throw std::invalid_argument(std::string("cannot lower the transformer's ") +
                                    op_kind_name(op.kind) + " to oneDNN primitives yet");
    // Batch norms whose input is a convolution nothing else reads fold into it.
    std::vector<int> uses(ops.size(), 0);
    for (const auto& op : ops)
      for (int i : op.inputs) ++uses[i];
    std::vector<int> fold_into(ops.size(), -1);  // conv id -> the BN folded into it
    for (size_t i = 0; i < ops.size(); ++i)
      if (ops[i].kind == OpKind::kBatchNorm && ops[ops[i].inputs[0]].kind == OpKind::kConv &&
          uses[ops[i].inputs[0]] == 1)
        fold_into[ops[i].inputs[0]] = static_cast<int>(i);
    value.resize(ops.size());
    for (size_t i = 0; i < ops.size(); ++i) {
      const GraphOp& op = ops[i];
      if (op.kind == OpKind::kBatchNorm && ops[op.inputs[0]].kind == OpKind::kConv &&
          fold_into[op.inputs[0]] == static_cast<int>(i)) {
        value[i] = value[op.inputs[0]];  // already applied by the convolution
        continue;
      }
      if (op.kind == OpKind::kFlatten) {
        value[i] = view(op.inputs[0], op.shape);
        continue;
      }
      value[i] = memory(plain(op.shape), engine);
      add_step(g, static_cast<int>(i), fold_into[i] >= 0 ? &ops[fold_into[i]] : nullptr);
    }
    output = g.output;
    output_shape = ops[g.output].shape;
  }

  // One primitive (or two) computing op `id` into value[id]; `bn` is a batch norm to fold into a
  // convolution.
  void add_step(const Graph& g, int id, const GraphOp* bn) {
    switch (g.ops[id].kind) {
      case OpKind::kInput:
        return;
      case OpKind::kZero:
        std::memset(value[id].get_data_handle(), 0, value[id].get_desc().get_size());
        return;
      case OpKind::kConv:
        return add_conv(g, id, bn);
      case OpKind::kBatchNorm:
        return add_batch_norm(g, id);
      case OpKind::kAct:
        return add_act(g, id);
      case OpKind::kAdd:
      case OpKind::kMul:
        return add_binary(g, id);
      case OpKind::kConcat:
        return add_concat(g, id);
      case OpKind::kShuffle:
        return add_shuffle(g, id);
      case OpKind::kSlice:
        return add_slice(g, id);
      case OpKind::kPool:
      case OpKind::kGlobalPool:
        return add_pool(g, id);
      case OpKind::kLinear:
        return add_linear(g, id);
      case OpKind::kFlatten:
      case OpKind::kTokens:  // refused in build()
      case OpKind::kConstant:
      case OpKind::kLayerNorm:
      case OpKind::kAttention:
        return;
    }
  }

  // A convolution, with the batch norm `bn` folded into its weights when not null.
  void add_conv(const Graph& g, int id, const GraphOp* bn) {
    const GraphOp& op = g.ops[id];
    const memory::desc dst = plain(op.shape);
    auto in = [&](size_t k) { return value[op.inputs[k]]; };
    at::Tensor w = op.weight.to(torch::kFloat), b;
    b = op.bias.defined() ? op.bias.to(torch::kFloat) : torch::zeros({w.size(0)});
    if (bn != nullptr) {  // w' = w * g / sqrt(v + eps); b' = (b - mean) * g / sqrt(..) + beta
      auto scale = bn->weight / torch::sqrt(bn->var + bn->eps);
      w = w * scale.view({-1, 1, 1, 1});
      b = (b - bn->mean) * scale + bn->bias;
    }
    const auto& src_shape = g.ops[op.inputs[0]].shape;
    memory::desc wmd;
    if (op.groups == 1) {
      wmd = memory::desc({w.size(0), w.size(1), w.size(2), w.size(3)}, dt::f32, tag::oihw);
    } else {
      wmd = memory::desc({op.groups, w.size(0) / op.groups, w.size(1), w.size(2), w.size(3)},
                         dt::f32, tag::goihw);
    }
    const memory::desc bmd({w.size(0)}, dt::f32, tag::x);
    dnnl::convolution_forward::desc d(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, plain(src_shape),
        wmd, bmd, dst, {op.stride, op.stride}, {op.dilation - 1, op.dilation - 1},
        {op.pad_begin, op.pad_begin}, {op.pad_end, op.pad_end});
    dnnl::convolution_forward::primitive_desc pd(d, engine);
    steps.push_back({dnnl::convolution_forward(pd),
                     {{DNNL_ARG_SRC, in(0)},
                      {DNNL_ARG_WEIGHTS, weights(w, wmd)},
                      {DNNL_ARG_BIAS, weights(b, bmd)},
                      {DNNL_ARG_DST, value[id]}}});
    return;
  }

  // A batch norm in inference mode (global statistics, scale and shift).
  void add_batch_norm(const Graph& g, int id) {
    const GraphOp& op = g.ops[id];
    const memory::desc dst = plain(op.shape);
    auto in = [&](size_t k) { return value[op.inputs[k]]; };
    const memory::desc cmd({op.shape[1]}, dt::f32, tag::x);
    dnnl::batch_normalization_forward::desc d(
        dnnl::prop_kind::forward_inference, dst, static_cast<float>(op.eps),
        dnnl::normalization_flags::use_global_stats | dnnl::normalization_flags::use_scale |
            dnnl::normalization_flags::use_shift);
    dnnl::batch_normalization_forward::primitive_desc pd(d, engine);
    steps.push_back({dnnl::batch_normalization_forward(pd),
                     {{DNNL_ARG_SRC, in(0)},
                      {DNNL_ARG_MEAN, weights(op.mean, cmd)},
                      {DNNL_ARG_VARIANCE, weights(op.var, cmd)},
                      {DNNL_ARG_SCALE, weights(op.weight, cmd)},
                      {DNNL_ARG_SHIFT, weights(op.bias, cmd)},
                      {DNNL_ARG_DST, value[id]}}});
    return;
  }

  // An activation: one eltwise primitive, two for hsigmoid.
  void add_act(const Graph& g, int id) {
    const GraphOp& op = g.ops[id];
    const memory::desc dst = plain(op.shape);
    auto in = [&](size_t k) { return value[op.inputs[k]]; };
    auto eltwise = [&](dnnl::algorithm alg, float alpha, float beta, const memory& src) {
      dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, alg, dst, alpha, beta);
      dnnl::eltwise_forward::primitive_desc pd(d, engine);
      steps.push_back(
          {dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, value[id]}}});
    };
    switch (op.act) {
      case ActKind::kRelu:
        return eltwise(dnnl::algorithm::eltwise_relu, 0, 0, in(0));
      case ActKind::kRelu6:
        return eltwise(dnnl::algorithm::eltwise_clip, 0, 6, in(0));
      case ActKind::kHswish:
        return eltwise(dnnl::algorithm::eltwise_hardswish, 0, 0, in(0));
      case ActKind::kGelu:
        return eltwise(dnnl::algorithm::eltwise_gelu_erf, 0, 0, in(0));
      case ActKind::kSwish:  // x * sigmoid(alpha x), alpha = 1
        return eltwise(dnnl::algorithm::eltwise_swish, 1, 0, in(0));
      case ActKind::kHsigmoid:  // clip(x / 6 + 1/2, 0, 1), in place after the linear step
        eltwise(dnnl::algorithm::eltwise_linear, 1.0f / 6, 0.5f, in(0));
        return eltwise(dnnl::algorithm::eltwise_clip, 0, 1, value[id]);
    }
    return;
  }

  // An elementwise add, or a per-channel multiply (squeeze-excite).
  void add_binary(const Graph& g, int id) {
    const GraphOp& op = g.ops[id];
    const memory::desc dst = plain(op.shape);
    auto in = [&](size_t k) { return value[op.inputs[k]]; };
    const bool add = op.kind == OpKind::kAdd;
    memory second = in(1);
    if (!add) second = view(op.inputs[1], {op.shape[0], op.shape[1], 1, 1});
    dnnl::binary::desc d(add ? dnnl::algorithm::binary_add : dnnl::algorithm::binary_mul,
                         plain(g.ops[op.inputs[0]].shape), second.get_desc(), dst);
    dnnl::binary::primitive_desc pd(d, engine);
    steps.push_back(
        {dnnl::binary(pd),
         {{DNNL_ARG_SRC_0, in(0)}, {DNNL_ARG_SRC_1, second}, {DNNL_ARG_DST, value[id]}}});
    return;
  }

  // A concatenation along the channels.
  void add_concat(const Graph& g, int id) {
    const GraphOp& op = g.ops[id];
    const memory::desc dst = plain(op.shape);
    auto in = [&](size_t k) { return value[op.inputs[k]]; };
    std::vector<memory::desc> srcs;
    std::unordered_map<int, memory> args;
    for (size_t k = 0; k < op.inputs.size(); ++k) {
      srcs.push_back(plain(g.ops[op.inputs[k]].shape));
      args[DNNL_ARG_MULTIPLE_SRC + static_cast<int>(k)] = in(k);
    }
    dnnl::concat::primitive_desc pd(dst, 1, srcs, engine);
    args[DNNL_ARG_DST] = value[id];
    steps.push_back({dnnl::concat(pd), args});
    return;
  }

  // A channel shuffle. oneDNN views the channels as (C / G) x G and transposes them; LibTorch's
  // shuffle in g groups views them as g x (C / g), so G = C / g.
  void add_shuffle(const Graph& g, int id) {
    const GraphOp& op = g.ops[id];
    dnnl::shuffle_forward::desc d(dnnl::prop_kind::forward_inference, plain(op.shape), 1,
                                  op.shape[1] / op.groups);
    dnnl::shuffle_forward::primitive_desc pd(d, engine);
    steps.push_back({dnnl::shuffle_forward(pd),
                     {{DNNL_ARG_SRC, value[op.inputs[0]]}, {DNNL_ARG_DST, value[id]}}});
  }

  // Channels [begin, end) of the input: a reorder from a sub-memory of it.
  void add_slice(const Graph& g, int id) {
    const GraphOp& op = g.ops[id];
    const auto& s = g.ops[op.inputs[0]].shape;
    const memory::desc part = plain(s).submemory_desc(
        {op.shape[0], op.shape[1], op.shape[2], op.shape[3]}, {0, op.begin, 0, 0});
    dnnl::reorder::primitive_desc pd(engine, part, engine, plain(op.shape));
    memory src(part, engine, value[op.inputs[0]].get_data_handle());
    steps.push_back({dnnl::reorder(pd), {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, value[id]}}});
  }

  // A max or average pool, or a global average pool.
  void add_pool(const Graph& g, int id) {
    const GraphOp& op = g.ops[id];
    const memory::desc dst = plain(op.shape);
    auto in = [&](size_t k) { return value[op.inputs[k]]; };
    const auto& s = g.ops[op.inputs[0]].shape;
    const bool global = op.kind == OpKind::kGlobalPool;
    const memory::dims kernel =
        global ? memory::dims{s[2], s[3]} : memory::dims{op.kernel, op.kernel};
    const memory::dims strides = global ? memory::dims{1, 1} : memory::dims{op.stride, op.stride};
    const int64_t pb = global ? 0 : op.pad_begin, pe = global ? 0 : op.pad_end;
    dnnl::pooling_forward::desc d(
        dnnl::prop_kind::forward_inference,
        op.max ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding,
        plain(s), dst, strides, kernel, {pb, pb}, {pe, pe});
    dnnl::pooling_forward::primitive_desc pd(d, engine);
    steps.push_back(
        {dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, in(0)}, {DNNL_ARG_DST, value[id]}}});
    return;
  }

  // A fully connected layer on the flattened input.
  void add_linear(const Graph& g, int id) {
    const GraphOp& op = g.ops[id];
    const memory::desc dst = plain(op.shape);
    const auto& s = g.ops[op.inputs[0]].shape;
    int64_t features = 1;
    for (size_t k = 1; k < s.size(); ++k) features *= s[k];
    if (features != op.weight.size(1))
      throw std::invalid_argument("onednn: linear layer expects " +
                                  std::to_string(op.weight.size(1)) + " features, got " +
                                  std::to_string(features));
    const memory src = view(op.inputs[0], {s[0], features});
    const memory::desc wmd({op.weight.size(0), op.weight.size(1)}, dt::f32, tag::oi);
    const memory::desc bmd({op.weight.size(0)}, dt::f32, tag::x);
    dnnl::inner_product_forward::desc d(dnnl::prop_kind::forward_inference, src.get_desc(), wmd,
                                        bmd, dst);
    dnnl::inner_product_forward::primitive_desc pd(d, engine);
    at::Tensor b = op.bias.defined() ? op.bias : torch::zeros({op.weight.size(0)});
    steps.push_back({dnnl::inner_product_forward(pd),
                     {{DNNL_ARG_SRC, src},
                      {DNNL_ARG_WEIGHTS, weights(op.weight, wmd)},
                      {DNNL_ARG_BIAS, weights(b, bmd)},
                      {DNNL_ARG_DST, value[id]}}});
    return;
  }
};

OneDnnProgram::OneDnnProgram(const Graph& graph) : impl_(std::make_unique<Impl>()) {
  try {
    impl_->build(graph);
  } catch (const dnnl::error& e) {
    throw std::invalid_argument(std::string("onednn: ") + e.what());
  }
}

OneDnnProgram::~OneDnnProgram() = default;

void OneDnnProgram::set_input(const at::Tensor& input) { fill(impl_->value[0], input); }

void OneDnnProgram::execute() {
  for (auto& [prim, args] : impl_->steps) prim.execute(impl_->stream, args);
  impl_->stream.wait();
}

at::Tensor OneDnnProgram::output() const {
  auto out = torch::empty(impl_->output_shape, torch::kFloat);
  std::memcpy(out.data_ptr<float>(), impl_->value[impl_->output].get_data_handle(),
              out.numel() * sizeof(float));
  return out;
}

size_t OneDnnProgram::primitives() const { return impl_->steps.size(); }

}  // namespace nasforge::hardware
