// A differentiable search: the supernet's weights and an architecture distribution trained
// together (bilevel, or one level for GOLD-NAS), checkpointed into a train-supernet run folder
// so that a run killed at any point resumes to the same result, with one diagnostics row per
// epoch, and the derived architecture(s) at the end.
//
//   DifferentiableSearch s(space, data, options);
//   s.run("runs/d/supernet", on_step, on_epoch);   // resumes from checkpoint.pt when present
//   for (const Architecture& a : s.derived()) ...
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nasforge/differentiable/expected_cost.h"
#include "nasforge/differentiable/method.h"
#include "nasforge/supernet/train.h"

namespace nasforge::distributed {
class Group;
}

namespace nasforge::differentiable {

// The cost the search sees: a metric that adds over units, and its bound when one is given.
struct CostSpec {
  std::string metric;  // "latency_ms@cpu", "params", "macs"
  std::shared_ptr<const ExpectedCost> model;
  std::optional<double> bound;  // metric <= bound
};

struct SearchOptions {
  Method method = Method::kDarts;
  MethodKnobs knobs;
  supernet::TrainConfig train;  // the weights' optimiser, schedule and batch; epochs: the search's
  std::optional<int64_t> max_steps;  // stop after this many weight steps in all
  std::optional<CostSpec> cost;
  std::optional<Architecture> feasible;  // meets the bound: HardCoRe's start and last resort
};

// One row of diagnostics.csv.
struct EpochReport {
  int64_t epoch = 0, steps = 0;
  double train_loss = 0, train_accuracy = 0;  // weight steps (the relaxed network)
  double valid_loss = 0, valid_accuracy = 0;  // architecture steps (NaN for one-level GOLD)
  double temperature = 1;
  double entropy = 0;          // mean normalised entropy per decision
  double parameter_free = -1;  // share of skip_connect/none/identity/zero in the argmax
  double hessian = 0;          // dominant eigenvalue of the validation loss's Hessian
  double expected_cost = 0;    // NaN without a cost
  double max_cost_ratio = 0;   // the largest E[cost] / bound seen this epoch (HardCoRe)
  int64_t violations = 0;      // steps whose E[cost] exceeded the bound, run so far
  int64_t alive = 0;           // values still in play (GOLD prunes)
  std::string argmax;          // the architecture derived now

  static std::string csv_header();
  std::string csv_row() const;
};

struct StepInfo {
  int64_t epoch = 0, step = 0, steps_per_epoch = 0, global_step = 0;
  double train_loss = 0, valid_loss = 0, temperature = 1, expected_cost = 0;
  double train_accuracy = 0, lr = 0;  // the weight step's accuracy and learning rate
};

class DifferentiableSearch {
 public:
  // Errors: a method that needs a cost without one (hardcore, proxyless, gold), HardCoRe
  // without a bound or a feasible architecture.
  static StatusOr<std::unique_ptr<DifferentiableSearch>> create(
      std::shared_ptr<const SearchSpace> space, const data::Splits& data, SearchOptions options);
  ~DifferentiableSearch();

  // Data-parallel (docs/distributed.md): each rank takes its shard of every weight batch and
  // architecture batch, and the weights' and the architecture's gradients are averaged, so the
  // ranks step as one process would on the whole batch (batch norm keeps per-rank statistics).
  // Only rank 0 writes the folder. Before run(). Second-order DARTS and GOLD-NAS are refused
  // (Unimplemented): their virtual step and their one-level logits are not reduced.
  Status set_group(std::shared_ptr<distributed::Group> group);

  // Trains to the end (options.train.epochs, or max_steps), resuming from dir/checkpoint.pt
  // when it exists and checkpointing there every checkpoint_every steps and each epoch.
  // A checkpoint of another space or configuration is refused.
  Status run(const std::string& dir, const std::function<void(const StepInfo&)>& on_step = {},
             const std::function<void(const EpochReport&)>& on_epoch = {});

  // The final derived architecture, or GOLD-NAS's series (each round's when it moved, then
  // the final one), each architecture once. HardCoRe's meet the bound.
  std::vector<Architecture> derived() const;
  const std::vector<EpochReport>& history() const;
  // The current probabilities, per decision.
  std::vector<std::vector<double>> probabilities() const;
  // Equal digests continue identically (trainer state and the search's own).
  std::string state_digest() const;
  // The search's configuration as text: what a resumed run must match.
  std::string config_text() const;

  struct Impl;

 private:
  explicit DifferentiableSearch(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nasforge::differentiable
