// Supernet training: a typed configuration (read from YAML), path sampling policies, and the
// trainer with evaluation, BN recalibration and exact resume from checkpoints.
//
// The recipes come from "Single Path One-Shot" (uniform single paths), "How to Train Your
// Super-Net" and once-for-all / BigNAS (sandwich rule, in-place distillation, progressive
// shrinking).
#pragma once

#include <torch/optim/optimizer.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nasforge/searchspace/diagnostics.h"
#include "nasforge/supernet/data.h"
#include "nasforge/supernet/supernet.h"

namespace nasforge::distributed {
class Group;
}

namespace nasforge::supernet {

enum class PathPolicy {
  kUniform,   // SPOS: one path per step, every decision uniform
  kSandwich,  // the largest, the smallest and `sandwich_random` random paths per step
};

enum class OptimizerKind { kSgd, kAdam };

// What progressive shrinking unlocks in a phase, cumulatively: first the largest network only,
// then smaller kernels, then shallower stages, then smaller expand ratios (once-for-all).
enum class Unlock { kNone, kKernel, kDepth, kExpand, kAll };

struct ShrinkPhase {
  Unlock unlock = Unlock::kAll;
  int64_t epochs = 1;
};

struct TrainConfig {
  PathPolicy policy = PathPolicy::kUniform;
  int64_t sandwich_random = 2;
  bool inplace_distillation = false;   // smaller paths learn the largest path's soft labels
  std::vector<ShrinkPhase> shrinking;  // empty: everything unlocked from the start

  OptimizerKind optimizer = OptimizerKind::kSgd;
  double lr = 0.05, momentum = 0.9, weight_decay = 4e-5;
  bool nesterov = true;
  double warmup_epochs = 0;  // linear warm-up, then cosine decay to 0
  double label_smoothing = 0.1;
  double grad_clip = 0;  // max global gradient norm; 0 turns clipping off

  int64_t epochs = 10;  // the schedule's length; the CLI's --epochs overrides it
  int64_t batch_size = 128;
  data::AugmentOptions augment;
  int64_t bn_recalibration_batches = 20;  // 0 turns recalibration off
  uint64_t seed = 0;

  std::string str() const;  // the config as YAML, stored in checkpoints
};

// Reads a training config; every error is a diagnostic `file:line:col: error: key: expected X,
// got Y`. Keys that are absent keep the defaults above.
std::optional<TrainConfig> load_train_config(const std::string& path, Diagnostics& diags);
std::optional<TrainConfig> parse_train_config(const std::string& text, const std::string& file,
                                              Diagnostics& diags);

// Picks the paths of one training step. Separate from the ops, so that every policy drives the
// same supernet.
class PathSampler {
 public:
  PathSampler(const SearchSpace& space, const TrainConfig& config);
  // The paths for one step; with the sandwich rule the first is the largest and the second the
  // smallest.
  std::vector<Architecture> paths(Rng& rng, int64_t epoch) const;
  // The weights of each layer choice's alternatives (Supernet::alternative_params): the largest
  // and smallest paths then take the alternative holding the most and the fewest. Without it,
  // a choice takes its first alternative for both.
  void set_alternative_params(std::map<int, std::vector<int64_t>> params);
  // Largest / smallest value of every numeric decision (ops: the first in the domain; layer
  // choices: by their alternatives' weights, when set).
  Architecture largest() const;
  Architecture smallest() const;
  // What progressive shrinking has unlocked at `epoch`.
  Unlock unlocked(int64_t epoch) const;
  // Sets every decision that is still locked at `epoch` to its largest value.
  void lock(Architecture& a, int64_t epoch) const;

 private:
  // Every decision at its extreme, inactive ones included (normalise afterwards).
  Architecture extremes(bool largest) const;

  const SearchSpace& space_;
  const TrainConfig& config_;
  std::map<int, std::vector<int64_t>> alternative_params_;
};

struct EvalResult {
  double accuracy = 0;  // in [0, 1]
  double loss = 0;
  int64_t examples = 0;
};

// An evaluation whose loss or accuracy is not finite is an error naming the split: the weights
// or the data hold non-finite values (a diverged run, or damaged files).
Status check_finite(const EvalResult& r, const std::string& split);

struct StepStats {
  double loss = 0, accuracy = 0;  // of the step's first path, over the whole (global) batch
  double lr = 0;
  int64_t images = 0;  // the batch's images, on all ranks together
  int64_t paths = 1;   // paths trained on them (the sandwich rule trains several)
};

class SupernetTrainer {
 public:
  SupernetTrainer(Supernet net, const data::Splits& data, TrainConfig config);

  // Trains only this path from now on: the stand-alone baseline, with the same data, schedule
  // and optimizer (weights outside the path get no gradient).
  void fix_path(const Architecture& arch) { fixed_path_ = arch; }
  // Trains what `forward(images)` computes, in place of the sampled paths: the differentiable
  // searches train the relaxed network under their current architecture weights. The step keeps
  // its loss, schedule, gradient clipping and optimizer.
  using Forward = std::function<at::Tensor(const at::Tensor& images)>;
  void set_forward(Forward forward) { forward_ = std::move(forward); }
  // Data-parallel training over `group` (nasforge/distributed): each rank takes its shard of
  // every batch (config.batch_size is the global batch), trains the same paths, and the
  // gradients are averaged before the step, so that K ranks step as one process would on the
  // whole batch. BN statistics stay per rank (evaluation recalibrates them). Call before
  // load() and before the first step.
  void set_group(std::shared_ptr<distributed::Group> group);

  // One optimisation step over the paths the policy picks. False at the end of an epoch.
  std::optional<StepStats> step();
  int64_t epoch() const { return epoch_; }
  int64_t global_step() const { return global_step_; }
  int64_t step_in_epoch() const { return step_in_epoch_; }
  // The learning rate the next step takes.
  double current_lr() const;
  int64_t steps_per_epoch() const;

  // Accuracy and loss of one path on a split, with inherited weights. With recalibration on,
  // the path's BN statistics are first recomputed on training batches (the weights are not
  // touched, and the supernet's own statistics are restored afterwards).
  EvalResult evaluate(const Architecture& arch, const data::Dataset& split,
                      bool recalibrate = true);

  // Checkpoints: weights, optimizer, schedule position, RNG and loader state, the space's
  // fingerprint and the config. load() refuses another space's checkpoint or a damaged file.
  // `extra`: bytes kept with the checkpoint (a search's own state), returned by extra() after
  // load(), so that both are written in one atomic step.
  Status save(const std::string& path, const std::string& extra = "") const;
  Status load(const std::string& path);
  const std::string& extra() const { return extra_; }
  // 8 hex digits over everything a resumed run continues from (weights, buffers, optimizer
  // state, RNG, schedule position): equal digests continue identically.
  std::string state_digest() const;

  Supernet& net() { return net_; }
  const TrainConfig& config() const { return config_; }
  const PathSampler& sampler() const { return sampler_; }

 private:
  double lr_at(double epoch_progress) const;
  StepStats finish_step(StepStats stats, const data::Batch& batch, int64_t paths, uint64_t key);
  void start_epoch();

  Supernet net_;
  const data::Splits& data_;
  TrainConfig config_;
  PathSampler sampler_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::unique_ptr<data::BatchLoader> loader_;
  Rng rng_;
  std::optional<Architecture> fixed_path_;
  Forward forward_;
  std::shared_ptr<distributed::Group> group_;
  std::string extra_;
  int64_t epoch_ = 0, step_in_epoch_ = 0, global_step_ = 0;
};

// The pieces of the training schedule that every trainer shares (the supernet's, the graph
// hypernetworks'): the config's optimizer over `params`, the learning rate at `progress` epochs
// (linear warm-up, then cosine decay to 0), setting it, and the seed of epoch e's batch loader
// (so that an epoch can be replayed).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& c,
                                                        std::vector<at::Tensor> params);
double scheduled_lr(const TrainConfig& c, double progress);
void set_lr(torch::optim::Optimizer& opt, double lr);
uint64_t epoch_seed(uint64_t seed, int64_t epoch);

// Reads only the supernet weights of a checkpoint, with the same checks as
// SupernetTrainer::load (format, space fingerprint, damage).
Status load_supernet_weights(Supernet& net, const std::string& path);

// Recomputes BN running statistics of `arch`'s path on `batches` training batches.
void recalibrate_bn(Supernet& net, const Architecture& arch, data::BatchLoader& loader,
                    int64_t batches);
// Recalibration as SupernetTrainer::evaluate does it: config.bn_recalibration_batches shuffled
// batches of data.train (the generator seeded from config.seed), so eval, export and the
// search's supernet source see the same statistics.
void recalibrate_bn(Supernet& net, const Architecture& arch, const data::Splits& data,
                    const TrainConfig& config);

}  // namespace nasforge::supernet
