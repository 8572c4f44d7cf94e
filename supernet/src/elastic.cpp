#include "nasforge/supernet/elastic.h"

#include <torch/torch.h>

#include <cmath>

namespace nasforge::supernet {

at::Tensor activate(const at::Tensor& x, Activation act) {
  switch (act) {
    case Activation::kRelu:
      return torch::relu(x);
    case Activation::kRelu6:
      return torch::clamp(x, 0, 6);
    case Activation::kHswish:
      return torch::hardswish(x);
    case Activation::kGelu:
      return torch::gelu(x);
    case Activation::kSwish:
      return torch::silu(x);
    case Activation::kNone:
      return x;
  }
  return x;
}

at::Tensor shuffle_channels(const at::Tensor& x, int64_t groups) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  return x.reshape({n, groups, c / groups, h, w}).transpose(1, 2).reshape({n, c, h, w});
}

ElasticConv2dImpl::ElasticConv2dImpl(int64_t max_in_, int64_t max_out_, int64_t max_kernel_,
                                     int64_t stride_, bool depthwise_, int64_t dilation_,
                                     bool kernel_transform, int64_t padding_, int64_t groups_)
    : max_in(max_in_),
      max_out(max_out_),
      max_kernel(max_kernel_),
      stride(stride_),
      dilation(dilation_),
      padding(padding_),
      groups(groups_),
      depthwise(depthwise_) {
  const int64_t in_per_group = depthwise ? 1 : max_in / groups;
  // Zero here; the supernet draws every weight from its own seeded generator (initialize()).
  weight =
      register_parameter("weight", torch::zeros({max_out, in_per_group, max_kernel, max_kernel}));
  if (kernel_transform) {
    for (int64_t k = max_kernel - 2, i = 0; k >= 1; k -= 2, ++i)
      transforms.push_back(register_parameter("transform" + std::to_string(k), torch::eye(k * k)));
  }
}

at::Tensor ElasticConv2dImpl::active_weight(int64_t in, int64_t out, int64_t kernel) const {
  at::Tensor w = weight.slice(0, 0, out);
  if (!depthwise) w = w.slice(1, 0, in / groups);
  if (kernel == max_kernel) return w;
  if (transforms.empty()) {
    const int64_t off = (max_kernel - kernel) / 2;
    return w.slice(2, off, off + kernel).slice(3, off, off + kernel);
  }
  // Crop step by step, transforming at each step, as once-for-all does.
  for (int64_t k = max_kernel - 2, i = 0; k >= kernel; k -= 2, ++i) {
    auto cropped = w.slice(2, 1, k + 1).slice(3, 1, k + 1).contiguous();
    auto shape = cropped.sizes().vec();
    w = torch::matmul(cropped.view({-1, k * k}), transforms[i]).view(shape);
  }
  return w;
}

at::Tensor ElasticConv2dImpl::forward(const at::Tensor& x, int64_t active_out,
                                      int64_t active_kernel) {
  const int64_t in = x.size(1);
  const int64_t out = depthwise ? in : active_out;
  return torch::conv2d(x, active_weight(in, out, active_kernel), {}, stride,
                       padding_for(active_kernel), dilation, groups_for(in));
}

at::Tensor ElasticConv2dImpl::forward_mixed(const at::Tensor& x, int64_t active_out,
                                            const std::vector<int64_t>& kernels,
                                            const std::vector<at::Tensor>& probs) {
  if (kernels.size() == 1) return forward(x, active_out, kernels[0]);
  TORCH_CHECK(padding < 0, "a kernel mixture needs same padding");
  const int64_t in = x.size(1);
  const int64_t out = depthwise ? in : active_out;
  at::Tensor w;
  for (size_t i = 0; i < kernels.size(); ++i) {
    const int64_t pad = (max_kernel - kernels[i]) / 2;
    auto term =
        probs[i] * torch::constant_pad_nd(active_weight(in, out, kernels[i]), {pad, pad, pad, pad});
    w = w.defined() ? w + term : term;
  }
  return torch::conv2d(x, w, {}, stride, padding_for(max_kernel), dilation, groups_for(in));
}

ElasticBatchNorm2dImpl::ElasticBatchNorm2dImpl(int64_t max_features_, double momentum_, double eps_)
    : max_features(max_features_), momentum(momentum_), eps(eps_) {
  weight = register_parameter("weight", torch::ones({max_features}));
  bias = register_parameter("bias", torch::zeros({max_features}));
  running_mean = register_buffer("running_mean", torch::zeros({max_features}));
  running_var = register_buffer("running_var", torch::ones({max_features}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kInt64));
}

at::Tensor ElasticBatchNorm2dImpl::forward(const at::Tensor& x) {
  const int64_t c = x.size(1);
  auto mean = running_mean.slice(0, 0, c), var = running_var.slice(0, 0, c);
  if (is_training()) num_batches_tracked.add_(1);
  // Slices of a 1-d buffer are views, so training updates the shared statistics in place.
  return torch::batch_norm(x, weight.slice(0, 0, c), bias.slice(0, 0, c), mean, var, is_training(),
                           momentum, eps, /*cudnn_enabled=*/true);
}

ElasticLinearImpl::ElasticLinearImpl(int64_t max_in_, int64_t max_out_, bool with_bias)
    : max_in(max_in_), max_out(max_out_) {
  weight = register_parameter("weight", torch::zeros({max_out, max_in}));
  if (with_bias) bias = register_parameter("bias", torch::zeros({max_out}));
}

at::Tensor ElasticLinearImpl::forward(const at::Tensor& x, int64_t active_out) {
  const int64_t in = x.size(-1);
  auto w = weight.slice(0, 0, active_out).slice(1, 0, in);
  return torch::linear(x, w, bias.defined() ? bias.slice(0, 0, active_out) : at::Tensor());
}

ElasticLayerNormImpl::ElasticLayerNormImpl(int64_t max_features_, double eps_)
    : max_features(max_features_), eps(eps_) {
  weight = register_parameter("weight", torch::ones({max_features}));
  bias = register_parameter("bias", torch::zeros({max_features}));
}

at::Tensor ElasticLayerNormImpl::forward(const at::Tensor& x) {
  const int64_t c = x.size(-1);
  return torch::layer_norm(x, {c}, weight.slice(0, 0, c), bias.slice(0, 0, c), eps);
}

}  // namespace nasforge::supernet
