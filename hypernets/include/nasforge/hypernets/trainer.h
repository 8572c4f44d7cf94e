// Training a graph hypernetwork (ghn.h) on a space: every step samples architectures, predicts
// their parameters, runs a batch through each (batch norm on batch statistics) and moves the
// hypernetwork down the mean cross-entropy. Checkpoints resume exactly; evaluation predicts an
// architecture's parameters, recalibrates its batch norms on training batches and measures a
// split.
#pragma once

#include <torch/serialize/input-archive.h>

#include <memory>
#include <optional>
#include <string>

#include "nasforge/hypernets/ghn.h"
#include "nasforge/supernet/supernet.h"
#include "nasforge/supernet/train.h"

namespace nasforge::hypernets {

// `o` completed for `space`: SMASH's encoding size (the GHNs need nothing of the space).
GhnOptions for_space(GhnOptions o, const SearchSpace& space);

class GhnTrainer {
 public:
  // Uses from `config`: optimizer, lr, momentum, weight_decay, warmup_epochs, label_smoothing,
  // grad_clip, epochs, batch_size, bn_recalibration_batches and seed. `archs_per_step` is
  // GHN-2's meta-batch of architectures.
  GhnTrainer(std::shared_ptr<const SearchSpace> space, const data::Splits& data,
             supernet::TrainConfig config, GhnOptions options, int64_t archs_per_step);
  ~GhnTrainer();

  // Data-parallel training over `group`, as SupernetTrainer::set_group: each rank takes its
  // shard of every batch (config.batch_size is the global batch), samples the same
  // architectures, and the gradients are averaged. Call before load() and the first step.
  void set_group(std::shared_ptr<distributed::Group> group);

  // One step; nullopt at the end of an epoch (the next call starts the next one).
  std::optional<supernet::StepStats> step();
  int64_t epoch() const { return epoch_; }
  int64_t global_step() const { return global_step_; }
  int64_t steps_per_epoch() const;

  // The architecture's network with predicted parameters, lowered at `batch` (0: the config's
  // batch size); with `recalibrate`, its batch-norm statistics measured on
  // config.bn_recalibration_batches training batches (seeded), else mean 0 and variance 1.
  supernet::Graph predicted(const Architecture& a, bool recalibrate, int64_t batch = 0);
  supernet::EvalResult evaluate(const Architecture& a, const data::Dataset& split,
                                bool recalibrate = true);

  // The hypernetwork, optimizer, position, sampler state, options, config and the space's
  // fingerprint, checksummed. load() refuses other options or a damaged file, naming the file.
  // kResume restores everything and refuses another space. kWeights loads the hypernetwork
  // alone, to predict for this trainer's space: GHN-1 and GHN-2 read only op types and shapes,
  // so they may have been trained on another space; SMASH reads its space's encoding and may not.
  enum class LoadScope { kResume, kWeights };
  // Everything a resumed run continues from, as 8 hex digits (supernet/checksums.h): the
  // hypernetwork's weights, the optimizer, the sampler's RNG and the position. Ranks of a
  // data-parallel run compare it before the first step.
  std::string state_digest() const;

  Status save(const std::string& path) const;
  Status load(const std::string& path, LoadScope scope = LoadScope::kResume);

  Ghn& ghn() { return ghn_; }
  const SearchSpace& space() const { return *space_; }

 private:
  supernet::Graph lowered(const Architecture& a, int64_t batch = 0);
  void start_epoch();
  Status check_space(const std::string& path, const std::string& fingerprint,
                     LoadScope scope) const;
  // The optimizer (its checked bytes), position and sampler state, after the weights.
  void load_position(torch::serialize::InputArchive& archive, const std::string& optimizer_bytes);

  std::shared_ptr<const SearchSpace> space_;
  const data::Splits& data_;
  supernet::TrainConfig config_;
  int64_t archs_per_step_;
  Ghn ghn_;
  supernet::Supernet shapes_;  // extracts and lowers architectures; its weights are not used
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::unique_ptr<data::BatchLoader> loader_;
  std::shared_ptr<distributed::Group> group_;
  Rng rng_;
  int64_t epoch_ = 0, step_in_epoch_ = 0, global_step_ = 0;
};

}  // namespace nasforge::hypernets
