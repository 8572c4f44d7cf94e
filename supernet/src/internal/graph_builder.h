// Builds a Graph from an extracted network: each static layer lowers itself through these
// helpers, which read the modules' weights and options and track shapes.
#pragma once

#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "nasforge/searchspace/network.h"
#include "nasforge/supernet/graph.h"

namespace nasforge::supernet {

class GraphBuilder {
 public:
  explicit GraphBuilder(const std::vector<int64_t>& input_shape);
  const std::vector<int64_t>& shape(int id) const { return graph_.ops[id].shape; }

  int conv(int x, const torch::nn::Conv2d& c);
  int batch_norm(int x, const torch::nn::BatchNorm2d& b);
  int conv_bn(int x, const torch::nn::Conv2d& c, const torch::nn::BatchNorm2d& b) {
    return batch_norm(conv(x, c), b);
  }
  int act(int x, ActKind a);
  int act(int x, Activation a);  // kNone: x itself
  int add(int a, int b);
  int mul(int a, int b);
  int concat(const std::vector<int>& xs);
  int shuffle(int x, int64_t groups);
  int slice(int x, int64_t begin, int64_t end);  // channels [begin, end)
  int pool(int x, bool max, int64_t kernel, int64_t stride, int64_t pad);
  int global_pool(int x, bool max);
  int flatten(int x);
  int linear(int x, const torch::nn::Linear& l);
  int zero(const std::vector<int64_t>& shape);
  int tokens(int x);
  int constant(const at::Tensor& value);
  int layer_norm(int x, const torch::nn::LayerNorm& n);
  int attention(int q, int k, int v, int64_t heads);
  // A 1x1 convolution with stride 2 that reads pixels (2i+1, 2j+1): DARTS's factorized reduce
  // shifts its input by one pixel before its second half. Lowered as a 2x2 convolution whose
  // only non-zero tap is the bottom-right one.
  int shifted_conv1x1_s2(int x, const torch::nn::Conv2d& c);

  // Refuses a layer this graph cannot express (never a silently different network).
  [[noreturn]] static void unsupported(const std::string& what) {
    throw std::invalid_argument("cannot lower " + what + " to a plain graph yet");
  }
  Graph finish(int output);

 private:
  int push(GraphOp op);
  Graph graph_;
};

}  // namespace nasforge::supernet
