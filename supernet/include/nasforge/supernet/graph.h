// An extracted network as a flat graph of plain operations with their weights: what backends
// outside LibTorch consume (the oneDNN device runs it; exporters can write it). Eval semantics:
// dropout is gone, batch norm uses its running statistics.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace nasforge::supernet {

enum class OpKind {
  kInput,       // the network's input
  kConv,        // weight [O, I/groups, kh, kw], optional bias; stride, pad (l/t, r/b), dilation
  kBatchNorm,   // weight, bias, mean, var, eps (inference)
  kAct,         // act
  kAdd,         // inputs[0] + inputs[1], equal shapes or inputs[1] of batch 1 (broadcast)
  kMul,         // inputs[0] * inputs[1], inputs[1] broadcast over H and W (N x C x 1 x 1)
  kConcat,      // along channels
  kShuffle,     // channel shuffle in `groups` groups: out[c] = in[(c % g) * (C / g) + c / g]
  kSlice,       // channels [begin, end)
  kPool,        // max or avg (padding excluded from the average), kernel, stride, pad
  kGlobalPool,  // average or max over H x W, to N x C x 1 x 1 (over tokens: to N x D)
  kFlatten,     // N x C x H x W to N x (C*H*W)
  kLinear,      // weight [O, I], optional bias, on N x I (or N x I x 1 x 1, or tokens N x T x I)
  kZero,        // a tensor of zeros of `shape`
  // Token ops (the transformer family): tensors of N x T x D.
  kTokens,     // N x C x H x W to N x (H*W) x C: a patch embedding's positions as tokens
  kConstant,   // `weight`, of shape 1 x ... (a learned positional embedding)
  kLayerNorm,  // over the last dimension: weight, bias, eps
  kAttention,  // softmax(Q K^T / sqrt(D / heads)) V per head; inputs Q, K, V (N x T x D)
};
const char* op_kind_name(OpKind k);

enum class ActKind { kRelu, kRelu6, kHswish, kHsigmoid, kGelu, kSwish };

struct GraphOp {
  OpKind kind = OpKind::kInput;
  std::vector<int> inputs;     // ids of earlier ops
  std::vector<int64_t> shape;  // output shape at batch `Graph::batch`
  at::Tensor weight, bias, mean, var;
  double eps = 1e-5;
  int64_t kernel = 1, stride = 1, dilation = 1, groups = 1;
  int64_t heads = 1;                   // kAttention
  int64_t begin = 0, end = 0;          // kSlice
  int64_t pad_begin = 0, pad_end = 0;  // conv and pool, the same on both spatial axes
  bool max = false;                    // kPool, kGlobalPool
  ActKind act = ActKind::kRelu;
  std::string label;  // which layer made it, for error messages
};

struct Graph {
  int64_t batch = 1;
  std::vector<GraphOp> ops;  // ops[0] is the input
  int output = 0;
};

}  // namespace nasforge::supernet
