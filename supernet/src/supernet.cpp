#include "nasforge/supernet/supernet.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

#include "internal/layers.h"

namespace nasforge::supernet {

namespace {

// Runs layers in order. A two-input cell reads the previous layer's input too, except right
// after the first layer, where both of its inputs are the first layer's output.
template <typename T, typename Step>
T run_layers(size_t n, const T& x, Step&& step) {
  T cur = x, older = x;
  for (size_t i = 0; i < n; ++i) {
    T out = step(i, cur, older);
    older = i == 0 ? out : cur;
    cur = out;
  }
  return cur;
}

}  // namespace

StaticNetworkImpl::StaticNetworkImpl(std::vector<std::shared_ptr<StaticLayer>> layers)
    : layers_(std::move(layers)) {
  for (size_t i = 0; i < layers_.size(); ++i)
    register_module("layer" + std::to_string(i), layers_[i]);
}

at::Tensor StaticNetworkImpl::forward(const at::Tensor& x) {
  return run_layers(layers_.size(), x,
                    [&](size_t i, const at::Tensor& cur, const at::Tensor& older) {
                      return layers_[i]->run(cur, older);
                    });
}

Graph StaticNetworkImpl::lower(const std::vector<int64_t>& input_shape) const {
  GraphBuilder g(input_shape);
  int cur = 0, older = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const int out = layers_[i]->lower(g, cur, older);
    older = i == 0 ? out : cur;
    cur = out;
  }
  return g.finish(cur);
}

SupernetImpl::SupernetImpl(std::shared_ptr<const SearchSpace> space, SupernetOptions options)
    : space_(std::move(space)), options_(options) {
  const auto& layers = space_->layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    const Shape& older = i == 0 ? layers[0].in : i == 1 ? layers[0].out : layers[i - 1].in;
    layers_.push_back(
        register_module(layers[i].name, make_layer(*space_, layers[i], older, options_)));
  }
  initialize(options_.seed());
}

at::Tensor SupernetImpl::forward(const at::Tensor& x, const Architecture& arch) {
  const PathContext ctx{*space_, arch};
  return run_layers(layers_.size(), x,
                    [&](size_t i, const at::Tensor& cur, const at::Tensor& older) {
                      return layers_[i]->run(cur, older, ctx);
                    });
}

at::Tensor SupernetImpl::forward(const at::Tensor& x, const ArchWeights& weights) {
  const auto& decisions = space_->decisions();
  if (weights.probs.size() != decisions.size())
    throw std::invalid_argument("relaxed forward: expected one weight vector per decision (" +
                                std::to_string(decisions.size()) + "), got " +
                                std::to_string(weights.probs.size()));
  for (size_t i = 0; i < decisions.size(); ++i)
    if (weights.probs[i].dim() != 1 ||
        weights.probs[i].size(0) != static_cast<int64_t>(decisions[i].domain.size()))
      throw std::invalid_argument("relaxed forward: " + decisions[i].label + " expects " +
                                  std::to_string(decisions[i].domain.size()) +
                                  " weights, one per value of its domain");
  const RelaxedContext r{*space_, weights};
  const Flow input{x, Dist::fixed(x.size(1))};
  return run_layers(layers_.size(), input,
                    [&](size_t i, const Flow& cur, const Flow& older) {
                      return layers_[i]->run_relaxed(cur, older, r);
                    })
      .x;
}

StaticNetwork SupernetImpl::extract(const Architecture& arch) const {
  const PathContext ctx{*space_, arch};
  std::vector<std::shared_ptr<StaticLayer>> out;
  Widths w{space_->input().channels, space_->input().channels};
  for (size_t i = 0; i < layers_.size(); ++i) {
    Extracted e = layers_[i]->extract(ctx, w);
    out.push_back(e.layer);
    w.older = i == 0 ? e.out : w.cur;
    w.cur = e.out;
  }
  StaticNetwork net(std::move(out));
  net->train(is_training());
  return net;
}

void SupernetImpl::initialize(uint64_t seed) { initialize_weights(*this, seed); }

void initialize_weights(torch::nn::Module& module, uint64_t seed) {
  torch::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  for (auto& p : module.named_parameters(true)) {
    const std::string& name = p.key();
    at::Tensor& t = p.value();
    auto ends_with = [&](const std::string& suffix) {
      return name.size() >= suffix.size() &&
             name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (name.find("transform") != std::string::npos) {
      t.copy_(torch::eye(t.size(0)));
    } else if (ends_with("pos")) {
      t.normal_(0.0, 0.02, gen);
    } else if (t.dim() == 4) {  // convolutions: He-normal, fan-out
      const double fan_out = static_cast<double>(t.size(0) * t.size(2) * t.size(3));
      t.normal_(0.0, std::sqrt(2.0 / fan_out), gen);
    } else if (t.dim() == 2) {  // linear layers
      const double bound = 1.0 / std::sqrt(static_cast<double>(t.size(1)));
      t.uniform_(-bound, bound, gen);
    } else if (ends_with("bias")) {
      t.zero_();
    } else {  // norm scales
      t.fill_(1.0);
    }
  }
  for (auto& b : module.named_buffers(true)) {
    if (b.key().find("running_var") != std::string::npos) {
      b.value().fill_(1);
    } else {
      b.value().zero_();
    }
  }
}

}  // namespace nasforge::supernet
