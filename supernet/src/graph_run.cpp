// ATen interpreter for lowered graphs; the op semantics are graph.h's (and the TorchScript and
// ONNX exporters'), so a graph runs here as it runs there.
#include "nasforge/supernet/graph_run.h"

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace nasforge::supernet {
namespace {

at::Tensor activation(const at::Tensor& x, ActKind k) {
  switch (k) {
    case ActKind::kRelu:
      return torch::relu(x);
    case ActKind::kRelu6:
      return torch::clamp(x, 0.0, 6.0);
    // Composed, as PyTorch defines them, rather than ATen's fused kernels: LibTorch 1.13 has no
    // second derivative of hardsigmoid's, and GraSP needs one.
    case ActKind::kHswish:
      return x * (torch::clamp(x + 3.0, 0.0, 6.0) / 6.0);
    case ActKind::kHsigmoid:
      return torch::clamp(x + 3.0, 0.0, 6.0) / 6.0;
    case ActKind::kGelu:
      return torch::gelu(x);
    case ActKind::kSwish:
      return x * torch::sigmoid(x);
  }
  return x;
}

at::Tensor conv(const GraphOp& op, at::Tensor x) {
  int64_t pad = op.pad_begin;
  if (op.pad_begin != op.pad_end) {
    x = torch::constant_pad_nd(x, {op.pad_begin, op.pad_end, op.pad_begin, op.pad_end}, 0.0);
    pad = 0;
  }
  return torch::conv2d(x, op.weight, op.bias, {op.stride, op.stride}, {pad, pad},
                       {op.dilation, op.dilation}, op.groups);
}

at::Tensor batch_norm(const GraphOp& op, const at::Tensor& x, NormMode mode, at::Tensor* var) {
  if (mode == NormMode::kOff) return x;
  if (mode == NormMode::kRunning)
    return torch::batch_norm(x, op.weight, op.bias, op.mean, op.var, false, 0.0, op.eps, false);
  {
    torch::NoGradGuard no_grad;
    *var = x.var({0, 2, 3}, /*unbiased=*/false);
  }
  return torch::batch_norm(x, op.weight, op.bias, {}, {}, true, 0.0, op.eps, false);
}

at::Tensor attention(const GraphOp& op, const at::Tensor& q, const at::Tensor& k,
                     const at::Tensor& v) {
  const int64_t n = q.size(0), t = q.size(1), d = q.size(2), hd = d / op.heads;
  auto split = [&](const at::Tensor& x) { return x.reshape({n, t, op.heads, hd}).transpose(1, 2); };
  const at::Tensor s =
      torch::softmax(torch::matmul(split(q), split(k).transpose(2, 3)) / std::sqrt(double(hd)), -1);
  return torch::matmul(s, split(v)).transpose(1, 2).reshape({n, t, d});
}

at::Tensor shuffle(const GraphOp& op, const at::Tensor& x) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  return x.reshape({n, op.groups, c / op.groups, h, w}).transpose(1, 2).reshape({n, c, h, w});
}

at::Tensor run_op(const Graph& g, const GraphOp& op, const std::vector<at::Tensor>& v,
                  const at::Tensor& x, NormMode norm, at::Tensor* var) {
  auto in = [&](size_t k) -> const at::Tensor& { return v.at(op.inputs.at(k)); };
  switch (op.kind) {
    case OpKind::kInput:
      return x;
    case OpKind::kConv:
      return conv(op, in(0));
    case OpKind::kBatchNorm:
      return batch_norm(op, in(0), norm, var);
    case OpKind::kAct:
      return activation(in(0), op.act);
    case OpKind::kAdd:
      return in(0) + in(1);
    case OpKind::kMul:
      return in(1).dim() == 2 ? in(0) * in(1).reshape({in(1).size(0), in(1).size(1), 1, 1})
                              : in(0) * in(1);
    case OpKind::kConcat: {
      std::vector<at::Tensor> parts;
      for (size_t k = 0; k < op.inputs.size(); ++k) parts.push_back(in(k));
      return torch::cat(parts, 1);
    }
    case OpKind::kShuffle:
      return shuffle(op, in(0));
    case OpKind::kSlice:
      return in(0).narrow(1, op.begin, op.end - op.begin);
    case OpKind::kPool:
      return op.max ? torch::max_pool2d(in(0), {op.kernel, op.kernel}, {op.stride, op.stride},
                                        {op.pad_begin, op.pad_begin})
                    : torch::avg_pool2d(in(0), {op.kernel, op.kernel}, {op.stride, op.stride},
                                        {op.pad_begin, op.pad_begin}, false, false);
    case OpKind::kGlobalPool: {
      const bool tokens = in(0).dim() == 3;
      if (op.max) return tokens ? in(0).amax({1}) : in(0).amax({2, 3}, true);
      return tokens ? in(0).mean({1}) : in(0).mean({2, 3}, true);
    }
    case OpKind::kFlatten:
      return in(0).flatten(1);
    case OpKind::kLinear:
      return torch::linear(in(0).dim() == 4 ? in(0).flatten(1) : in(0), op.weight, op.bias);
    case OpKind::kZero: {
      std::vector<int64_t> shape = op.shape;
      shape.at(0) = x.size(0);
      return torch::zeros(shape, x.options().requires_grad(false));
    }
    case OpKind::kTokens:
      return in(0).flatten(2).transpose(1, 2);
    case OpKind::kConstant:
      return op.weight;
    case OpKind::kLayerNorm:
      return torch::layer_norm(in(0), {op.weight.size(0)}, op.weight, op.bias, op.eps);
    case OpKind::kAttention:
      return attention(op, in(0), in(1), in(2));
  }
  (void)g;
  return {};
}

}  // namespace

GraphRun run_graph(const Graph& g, const at::Tensor& x, const GraphRunOptions& options) {
  GraphRun r;
  std::vector<at::Tensor> v(g.ops.size());
  r.batch_var.resize(g.ops.size());
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const GraphOp& op = g.ops[i];
    try {
      v[i] = run_op(g, op, v, x, options.norm, &r.batch_var[i]);
    } catch (const std::exception& e) {
      throw std::invalid_argument("graph op " + std::to_string(i) + " (" + op_kind_name(op.kind) +
                                  ", " + op.label + "): " + e.what());
    }
  }
  r.output = v.at(g.output);
  if (options.keep) r.values = std::move(v);
  return r;
}

Graph copy_graph(const Graph& g, at::ScalarType dtype) {
  Graph c = g;
  auto copy = [&](at::Tensor& t) {
    if (t.defined()) t = t.detach().to(dtype).clone();
  };
  for (auto& op : c.ops) {
    copy(op.weight);
    copy(op.bias);
    copy(op.mean);
    copy(op.var);
  }
  return c;
}

}  // namespace nasforge::supernet
