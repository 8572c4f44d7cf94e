#include "nasforge/supernet/graph.h"

#include "internal/graph_builder.h"

namespace nasforge::supernet {

const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::kInput:
      return "input";
    case OpKind::kConv:
      return "conv";
    case OpKind::kBatchNorm:
      return "batch_norm";
    case OpKind::kAct:
      return "act";
    case OpKind::kAdd:
      return "add";
    case OpKind::kMul:
      return "mul";
    case OpKind::kConcat:
      return "concat";
    case OpKind::kShuffle:
      return "shuffle";
    case OpKind::kSlice:
      return "slice";
    case OpKind::kPool:
      return "pool";
    case OpKind::kGlobalPool:
      return "global_pool";
    case OpKind::kFlatten:
      return "flatten";
    case OpKind::kLinear:
      return "linear";
    case OpKind::kZero:
      return "zero";
    case OpKind::kTokens:
      return "tokens";
    case OpKind::kConstant:
      return "constant";
    case OpKind::kLayerNorm:
      return "layer_norm";
    case OpKind::kAttention:
      return "attention";
  }
  return "?";
}

GraphBuilder::GraphBuilder(const std::vector<int64_t>& input_shape) {
  graph_.batch = input_shape.at(0);
  GraphOp in;
  in.kind = OpKind::kInput;
  in.shape = input_shape;
  graph_.ops.push_back(in);
}

int GraphBuilder::push(GraphOp op) {
  graph_.ops.push_back(std::move(op));
  return static_cast<int>(graph_.ops.size()) - 1;
}

namespace {
int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t pb, int64_t pe, int64_t d = 1) {
  return (in + pb + pe - d * (k - 1) - 1) / s + 1;
}
}  // namespace

int GraphBuilder::conv(int x, const torch::nn::Conv2d& c) {
  const auto& o = c->options;
  const auto& in = shape(x);
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  if (padding == nullptr) unsupported("a convolution with string padding");
  const int64_t k = (*o.kernel_size())[0], s = (*o.stride())[0], d = (*o.dilation())[0];
  const int64_t p = (**padding)[0];
  if ((*o.kernel_size())[1] != k || (*o.stride())[1] != s) unsupported("a non-square convolution");
  GraphOp op;
  op.kind = OpKind::kConv;
  op.inputs = {x};
  op.weight = c->weight.detach();
  if (c->bias.defined()) op.bias = c->bias.detach();
  op.kernel = k;
  op.stride = s;
  op.dilation = d;
  op.groups = o.groups();
  op.pad_begin = op.pad_end = p;
  op.shape = {in[0], o.out_channels(), out_size(in[2], k, s, p, p, d),
              out_size(in[3], k, s, p, p, d)};
  return push(std::move(op));
}

int GraphBuilder::shifted_conv1x1_s2(int x, const torch::nn::Conv2d& c) {
  const auto& in = shape(x);
  GraphOp op;
  op.kind = OpKind::kConv;
  op.inputs = {x};
  const auto w = c->weight.detach();  // O x I x 1 x 1
  op.weight = torch::zeros({w.size(0), w.size(1), 2, 2}, w.options());
  op.weight.slice(2, 1, 2).slice(3, 1, 2).copy_(w);
  op.kernel = 2;
  op.stride = 2;
  op.pad_begin = 0;
  op.pad_end = 1;
  op.shape = {in[0], w.size(0), out_size(in[2], 2, 2, 0, 1), out_size(in[3], 2, 2, 0, 1)};
  return push(std::move(op));
}

int GraphBuilder::batch_norm(int x, const torch::nn::BatchNorm2d& b) {
  GraphOp op;
  op.kind = OpKind::kBatchNorm;
  op.inputs = {x};
  op.weight = b->weight.detach();
  op.bias = b->bias.detach();
  op.mean = b->running_mean.detach();
  op.var = b->running_var.detach();
  op.eps = b->options.eps();
  op.shape = shape(x);
  return push(std::move(op));
}

int GraphBuilder::act(int x, ActKind a) {
  GraphOp op;
  op.kind = OpKind::kAct;
  op.inputs = {x};
  op.act = a;
  op.shape = shape(x);
  return push(std::move(op));
}

int GraphBuilder::act(int x, Activation a) {
  switch (a) {
    case Activation::kRelu:
      return act(x, ActKind::kRelu);
    case Activation::kRelu6:
      return act(x, ActKind::kRelu6);
    case Activation::kHswish:
      return act(x, ActKind::kHswish);
    case Activation::kGelu:
      return act(x, ActKind::kGelu);
    case Activation::kSwish:
      return act(x, ActKind::kSwish);
    case Activation::kNone:
      return x;
  }
  return x;
}

int GraphBuilder::add(int a, int b) {
  auto broadcast = shape(a);
  broadcast[0] = 1;
  if (shape(a) != shape(b) && shape(b) != broadcast) unsupported("an addition of different shapes");
  GraphOp op;
  op.kind = OpKind::kAdd;
  op.inputs = {a, b};
  op.shape = shape(a);
  return push(std::move(op));
}

int GraphBuilder::mul(int a, int b) {
  GraphOp op;
  op.kind = OpKind::kMul;
  op.inputs = {a, b};
  op.shape = shape(a);
  return push(std::move(op));
}

int GraphBuilder::concat(const std::vector<int>& xs) {
  GraphOp op;
  op.kind = OpKind::kConcat;
  op.inputs = xs;
  op.shape = shape(xs.at(0));
  op.shape[1] = 0;
  for (int x : xs) op.shape[1] += shape(x)[1];
  return push(std::move(op));
}

int GraphBuilder::shuffle(int x, int64_t groups) {
  GraphOp op;
  op.kind = OpKind::kShuffle;
  op.inputs = {x};
  op.groups = groups;
  op.shape = shape(x);
  return push(std::move(op));
}

int GraphBuilder::slice(int x, int64_t begin, int64_t end) {
  GraphOp op;
  op.kind = OpKind::kSlice;
  op.inputs = {x};
  op.begin = begin;
  op.end = end;
  op.shape = shape(x);
  op.shape[1] = end - begin;
  return push(std::move(op));
}

int GraphBuilder::pool(int x, bool max, int64_t kernel, int64_t stride, int64_t pad) {
  const auto& in = shape(x);
  GraphOp op;
  op.kind = OpKind::kPool;
  op.inputs = {x};
  op.max = max;
  op.kernel = kernel;
  op.stride = stride;
  op.pad_begin = op.pad_end = pad;
  op.shape = {in[0], in[1], out_size(in[2], kernel, stride, pad, pad),
              out_size(in[3], kernel, stride, pad, pad)};
  return push(std::move(op));
}

int GraphBuilder::global_pool(int x, bool max) {
  GraphOp op;
  op.kind = OpKind::kGlobalPool;
  op.inputs = {x};
  op.max = max;
  op.shape = shape(x).size() == 3 ? std::vector<int64_t>{shape(x)[0], shape(x)[2]}
                                  : std::vector<int64_t>{shape(x)[0], shape(x)[1], 1, 1};
  return push(std::move(op));
}

int GraphBuilder::flatten(int x) {
  GraphOp op;
  op.kind = OpKind::kFlatten;
  op.inputs = {x};
  int64_t n = 1;
  for (size_t i = 1; i < shape(x).size(); ++i) n *= shape(x)[i];
  op.shape = {shape(x)[0], n};
  return push(std::move(op));
}

int GraphBuilder::linear(int x, const torch::nn::Linear& l) {
  GraphOp op;
  op.kind = OpKind::kLinear;
  op.inputs = {x};
  op.weight = l->weight.detach();
  if (l->bias.defined()) op.bias = l->bias.detach();
  op.shape = shape(x).size() == 3
                 ? std::vector<int64_t>{shape(x)[0], shape(x)[1], l->weight.size(0)}
                 : std::vector<int64_t>{shape(x)[0], l->weight.size(0)};
  return push(std::move(op));
}

int GraphBuilder::zero(const std::vector<int64_t>& s) {
  GraphOp op;
  op.kind = OpKind::kZero;
  op.shape = s;
  return push(std::move(op));
}

int GraphBuilder::tokens(int x) {
  const auto& in = shape(x);
  GraphOp op;
  op.kind = OpKind::kTokens;
  op.inputs = {x};
  op.shape = {in[0], in[2] * in[3], in[1]};
  return push(std::move(op));
}

int GraphBuilder::constant(const at::Tensor& value) {
  GraphOp op;
  op.kind = OpKind::kConstant;
  op.weight = value.detach();
  op.shape = value.sizes().vec();
  return push(std::move(op));
}

int GraphBuilder::layer_norm(int x, const torch::nn::LayerNorm& n) {
  if (n->options.normalized_shape().size() != 1) unsupported("a layer norm over several dims");
  GraphOp op;
  op.kind = OpKind::kLayerNorm;
  op.inputs = {x};
  op.weight = n->weight.detach();
  op.bias = n->bias.detach();
  op.eps = n->options.eps();
  op.shape = shape(x);
  return push(std::move(op));
}

int GraphBuilder::attention(int q, int k, int v, int64_t heads) {
  if (shape(q).size() != 3 || shape(q) != shape(k) || shape(q) != shape(v) ||
      shape(q)[2] % heads != 0)
    unsupported("attention over these shapes");
  GraphOp op;
  op.kind = OpKind::kAttention;
  op.inputs = {q, k, v};
  op.heads = heads;
  op.shape = shape(q);
  return push(std::move(op));
}

Graph GraphBuilder::finish(int output) {
  graph_.output = output;
  return std::move(graph_);
}

}  // namespace nasforge::supernet
