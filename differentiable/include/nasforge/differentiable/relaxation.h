// The architecture distribution a differentiable search learns, and the architecture it
// derives. One parameter vector per decision: logits (softmax methods) or the probabilities
// themselves (HardCoRe-NAS's Frank-Wolfe steps keep them on the simplex). GOLD-NAS prunes
// values: a pruned value has probability 0 and is never derived.
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

#include "nasforge/searchspace/rng.h"
#include "nasforge/searchspace/search_space.h"
#include "nasforge/supernet/supernet.h"

namespace nasforge::differentiable {

enum class Parameterization { kLogits, kSimplex };

class ArchDistribution {
 public:
  // Logits drawn N(0, init_std^2) from `rng` (DARTS's 1e-3), or uniform probabilities.
  ArchDistribution(const SearchSpace& space, Parameterization p, double init_std, Rng& rng);

  Parameterization parameterization() const { return param_; }
  // The learned tensors (leaf tensors that require gradients).
  std::vector<at::Tensor>& theta() { return theta_; }
  const std::vector<at::Tensor>& theta() const { return theta_; }
  // Per decision, whether each value is still in play (GOLD-NAS prunes).
  const std::vector<std::vector<bool>>& alive() const { return alive_; }
  void prune(size_t decision, size_t value);
  size_t alive_count(size_t decision) const;

  // The probabilities: softmax(theta / temperature) over the live values, or theta itself.
  // They carry gradients to theta.
  std::vector<at::Tensor> probs(double temperature = 1.0) const;
  // The probabilities without gradients, as plain vectors.
  std::vector<std::vector<double>> probs_values() const;

 private:
  Parameterization param_;
  std::vector<at::Tensor> theta_;
  std::vector<std::vector<bool>> alive_;
};

// The weights a forward pass mixes with: sharpDARTS's Max-W (1 - max p + p per decision).
supernet::ArchWeights max_w(const std::vector<at::Tensor>& probs);

// The derived architecture: each decision's most probable live value, with `none` never
// chosen while another value is live (as the DARTS papers derive); in a choose-k cell, DARTS's
// top-k rule: input j's strength is its largest probability with any op but `none`, the k
// strongest inputs are kept, and each takes its most probable op but `none`.
Architecture derive(const SearchSpace& space, const std::vector<std::vector<double>>& probs,
                    const std::vector<std::vector<bool>>& alive);

// Diagnostics of a distribution: the mean entropy per decision, normalised to [0, 1] by
// log(values); and the share of parameter-free choices (skip_connect, none, identity, zero) in
// the argmax (`none` included, unlike derive()), among the decisions that offer one. -1 when no
// decision offers one.
double mean_entropy(const std::vector<std::vector<double>>& probs);
double parameter_free_share(const SearchSpace& space,
                            const std::vector<std::vector<double>>& probs);

}  // namespace nasforge::differentiable
