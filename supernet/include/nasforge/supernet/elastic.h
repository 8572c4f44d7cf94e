// Elastic ops: each allocates its largest weight once and runs a slice of it, in the
// once-for-all vocabulary (max_* for what is allocated, active_* for what runs). They know
// nothing of architectures or sampling; the supernet tells them what is active.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "nasforge/searchspace/network.h"

namespace nasforge::supernet {

// Applies an activation by its DSL name.
at::Tensor activate(const at::Tensor& x, Activation act);

// ShuffleNet's channel shuffle in `groups` groups: the channels, viewed as groups x (C / groups),
// transposed. Reshapes and a transpose, so it has a gradient (LibTorch 1.13's channel_shuffle
// has none).
at::Tensor shuffle_channels(const at::Tensor& x, int64_t groups);

// Convolution over the first active_out output channels and the input's channels, with the
// active kernel cropped from the centre of the max kernel. depthwise: one filter per channel.
// groups > 1: a grouped convolution (each group's filters see in / groups channels).
class ElasticConv2dImpl : public torch::nn::Module {
 public:
  ElasticConv2dImpl(int64_t max_in, int64_t max_out, int64_t max_kernel, int64_t stride,
                    bool depthwise = false, int64_t dilation = 1, bool kernel_transform = false,
                    int64_t padding = -1, int64_t groups = 1);
  // -1: "same" padding for the active kernel, (k - 1) / 2 * dilation.
  int64_t padding_for(int64_t kernel) const {
    return padding >= 0 ? padding : (kernel - 1) / 2 * dilation;
  }
  // The weight that runs for this input width, output width and kernel.
  at::Tensor active_weight(int64_t in, int64_t out, int64_t kernel) const;
  at::Tensor forward(const at::Tensor& x, int64_t active_out, int64_t active_kernel);
  // The kernel mixture of the relaxed forward: sum_i probs[i] * (kernels[i]'s weight,
  // zero-padded to the max kernel), run at the max kernel's padding. Each term computes what
  // forward(x, active_out, kernels[i]) computes. Needs "same" padding (padding -1).
  at::Tensor forward_mixed(const at::Tensor& x, int64_t active_out,
                           const std::vector<int64_t>& kernels,
                           const std::vector<at::Tensor>& probs);

  int64_t max_in, max_out, max_kernel, stride, dilation, padding, groups;
  bool depthwise;
  // The groups argument of a convolution over `in` channels.
  int64_t groups_for(int64_t in) const { return depthwise ? in : groups; }
  at::Tensor weight;
  // once-for-all's kernel transformation: a learned k*k x k*k matrix per smaller kernel,
  // applied to the cropped centre (7 -> 5 -> 3), when kernel_transform is on.
  std::vector<at::Tensor> transforms;  // indexed by (max_kernel - k) / 2 - 1
};
TORCH_MODULE(ElasticConv2d);

// Batch norm over the first C channels; the running statistics are slices too.
class ElasticBatchNorm2dImpl : public torch::nn::Module {
 public:
  explicit ElasticBatchNorm2dImpl(int64_t max_features, double momentum = 0.1, double eps = 1e-5);
  at::Tensor forward(const at::Tensor& x);

  int64_t max_features;
  double momentum, eps;
  at::Tensor weight, bias, running_mean, running_var, num_batches_tracked;
};
TORCH_MODULE(ElasticBatchNorm2d);

// y = x W[:out, :in]^T + b[:out], with `in` the input's last dimension.
class ElasticLinearImpl : public torch::nn::Module {
 public:
  ElasticLinearImpl(int64_t max_in, int64_t max_out, bool bias = true);
  at::Tensor forward(const at::Tensor& x, int64_t active_out);

  int64_t max_in, max_out;
  at::Tensor weight, bias;
};
TORCH_MODULE(ElasticLinear);

// Layer norm over the first C features of the last dimension.
class ElasticLayerNormImpl : public torch::nn::Module {
 public:
  explicit ElasticLayerNormImpl(int64_t max_features, double eps = 1e-5);
  at::Tensor forward(const at::Tensor& x);

  int64_t max_features;
  double eps;
  at::Tensor weight, bias;
};
TORCH_MODULE(ElasticLayerNorm);

}  // namespace nasforge::supernet
