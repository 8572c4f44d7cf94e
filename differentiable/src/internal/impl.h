// The state of a differentiable search, shared by its loop (search.cpp), its architecture
// steps (steps.cpp) and its checkpoints (checkpoint.cpp). Private to differentiable/.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "nasforge/differentiable/relaxation.h"
#include "nasforge/differentiable/search.h"

namespace nasforge::differentiable {

struct DifferentiableSearch::Impl {
  Impl(std::shared_ptr<const SearchSpace> s, const data::Splits& d, SearchOptions o);

  std::shared_ptr<const SearchSpace> space;
  const data::Splits& data;
  SearchOptions opt;
  supernet::SupernetTrainer trainer;
  Rng rng;  // initial logits, Gumbel noise, Hessian starts
  ArchDistribution dist;
  std::unique_ptr<torch::optim::Adam> arch_opt;  // none for HardCoRe's Frank-Wolfe steps
  double reference_cost = 1;                     // E[cost] at the start (proxyless, gold)

  // Batches for architecture steps (validation split) and second-order virtual steps (train
  // split): loaders that run across epochs, replayed by call count on resume.
  std::unique_ptr<data::BatchLoader> valid_loader, unroll_loader;
  int64_t valid_calls = 0, unroll_calls = 0;

  // This epoch's sums, and what runs across epochs.
  double train_loss = 0, train_accuracy = 0, valid_loss = 0, valid_accuracy = 0;
  int64_t train_steps = 0, valid_steps = 0;
  double max_ratio = 0;
  int64_t violations = 0;
  double mu = 0;  // GOLD's penalty weight
  int64_t since_prune = 0;
  std::vector<Architecture> series;  // GOLD's derived architectures, in order
  std::vector<EpochReport> history;
  std::shared_ptr<distributed::Group> group;  // data-parallel ranks; none: one process

  // --- data_parallel.cpp ---
  bool lead() const;  // writes the folder: rank 0, or the only process
  // Averages an architecture step's logit gradients `g` and its cross-entropy `ce` over the
  // ranks, each weighted by its share of the batch `b`. Nothing without a group.
  void reduce_arch(std::vector<at::Tensor>& g, const data::Batch& b, double& ce);
  // Ranks that start from another state (checkpoint, config, seed) than rank 0 are refused.
  Status agree_on_state() const;

  // --- steps.cpp ---
  double progress() const;  // in [0, 1] over the whole run
  double temperature() const;
  // The weights a forward pass mixes with; `grad`: they carry gradients to the logits.
  supernet::ArchWeights weights(double tau, bool grad);
  at::Tensor expected_cost();  // E[cost] under the current probabilities (with gradients)
  // The loss the architecture minimises, from a batch's cross-entropy.
  at::Tensor arch_loss(const at::Tensor& ce);
  void arch_step();
  void gold_after_step();
  data::Batch next_batch(std::unique_ptr<data::BatchLoader>& loader, int64_t& calls,
                         const data::Dataset& split, const char* tag);
  void note_cost(double e);

  // --- search.cpp ---
  EpochReport end_epoch();
  std::vector<std::vector<double>> probs() const { return dist.probs_values(); }
  Architecture current() const;  // derived now (HardCoRe: repaired to the bound)

  // --- checkpoint.cpp ---
  std::string config_text() const;
  std::string save_state() const;
  Status load_state(const std::string& bytes, const std::string& path);
  // The RNG, counters, GOLD's series and the history (called by load_state).
  Status load_counters(torch::serialize::InputArchive& a, const std::string& path);
  Status save(const std::string& path) const;
  Status load(const std::string& path);
  std::string digest() const;
};

at::Tensor cross_entropy(const at::Tensor& logits, const at::Tensor& labels);

}  // namespace nasforge::differentiable
