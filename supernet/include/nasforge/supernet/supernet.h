// The weight-sharing supernet compiled from a SearchSpace, and the standalone network that
// extraction makes from one of its paths.
//
//   auto space = std::make_shared<const SearchSpace>(*load_space("zoo/mobilenet.yaml", diags));
//   Supernet net(space, SupernetOptions().seed(1));
//   at::Tensor logits = net->forward(images, arch);          // one path, shared weights
//   StaticNetwork alone = net->extract(arch);                // plain modules, weights copied
#pragma once

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <map>
#include <memory>
#include <vector>

#include "nasforge/searchspace/search_space.h"
#include "nasforge/supernet/graph.h"

namespace nasforge::supernet {

struct SupernetOptions {
  // once-for-all's learned kernel transformation (7 -> 5 -> 3) in elastic convolutions.
  TORCH_ARG(bool, kernel_transform) = false;
  // Seeds the generator every weight is drawn from; torch's global generator is not used.
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(double, bn_momentum) = 0.1;
};

class LayerModule;
class StaticLayer;

// A relaxed architecture for the DARTS family: for every decision, a probability vector over its
// domain. The tensors may require gradients, so the weights themselves can be learned.
struct ArchWeights {
  std::vector<at::Tensor> probs;  // one per decision, each of its domain's size

  static ArchWeights uniform(const SearchSpace& space);
  // Probability 1 on each value of `arch` (inactive decisions: their first value).
  static ArchWeights one_hot(const SearchSpace& space, const Architecture& arch);
  // softmax(logits / temperature) per decision.
  static ArchWeights softmax(const std::vector<at::Tensor>& logits, double temperature = 1.0);
  // Gumbel-softmax (GDAS, SNAS) with noise from `rng`; `hard` gives one-hot values in the
  // forward pass and the soft gradient in the backward pass (straight-through).
  static ArchWeights gumbel_softmax(const std::vector<at::Tensor>& logits, double tau, Rng& rng,
                                    bool hard);
  // The most probable value of every decision: the architecture DARTS derives.
  Architecture argmax(const SearchSpace& space) const;
};

// A standalone network: one architecture's path with its weights, no choices left.
class StaticNetworkImpl : public torch::nn::Module {
 public:
  explicit StaticNetworkImpl(std::vector<std::shared_ptr<StaticLayer>> layers);
  at::Tensor forward(const at::Tensor& x);
  // The network as a flat graph of plain ops at this input shape (N x C x H x W). Throws
  // std::invalid_argument naming the layer for what has no plain form yet (transformer layers).
  Graph lower(const std::vector<int64_t>& input_shape) const;

 private:
  std::vector<std::shared_ptr<StaticLayer>> layers_;
};
TORCH_MODULE(StaticNetwork);

class SupernetImpl : public torch::nn::Module {
 public:
  SupernetImpl(std::shared_ptr<const SearchSpace> space, SupernetOptions options = {});

  // Single-path forward: only the ops `arch` selects run, on slices of the shared weights.
  at::Tensor forward(const at::Tensor& x, const Architecture& arch);
  // Relaxed forward (DARTS, FBNetV2): every candidate runs and outputs mix by `weights`. A cell
  // edge is sum_o p_o op_o(x); a kernel is the probability-weighted sum of the cropped kernels,
  // zero-padded to the largest; widths (out, expand, hidden, FFN) are channel masks
  // sum_w p_w [c < w]; depth mixes the outputs after each block; heads and the transformer's
  // hidden width mix the outputs per value. With one-hot weights it computes forward(x, arch)
  // (eval mode; in a cell, as long as no chosen op reads a node that `none` edges left empty).
  // Throws std::invalid_argument when `weights` does not match the space's decisions.
  at::Tensor forward(const at::Tensor& x, const ArchWeights& weights);
  // The same path as a standalone network with copies of the inherited weights. In eval mode
  // it computes what forward(x, arch) computes.
  StaticNetwork extract(const Architecture& arch) const;
  // Draws every weight from a generator seeded with `seed` (He-normal convolutions, uniform
  // linear layers, identity norms).
  void initialize(uint64_t seed);

  const SearchSpace& space() const { return *space_; }
  const SupernetOptions& options() const { return options_; }
  // For each layer-choice decision, the weights (parameter count, at their largest) each of its
  // alternatives holds: what makes one alternative "larger" than another for the sandwich rule.
  std::map<int, std::vector<int64_t>> alternative_params() const;

 private:
  std::shared_ptr<const SearchSpace> space_;
  SupernetOptions options_;
  std::vector<std::shared_ptr<LayerModule>> layers_;
};
TORCH_MODULE(Supernet);

// The supernet's initialisation for any module (a unit, a standalone network): He-normal
// convolutions, uniform linear layers, identity norms, from a generator seeded with `seed`.
void initialize_weights(torch::nn::Module& module, uint64_t seed);

}  // namespace nasforge::supernet
