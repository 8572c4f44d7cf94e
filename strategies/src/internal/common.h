// What the strategies share: reading knobs, proposing feasible architectures with bounded
// effort, and the fitness of a trial.
#pragma once

#include <functional>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <unordered_set>

#include "nasforge/searchspace/rng.h"
#include "nasforge/strategies/strategy.h"

namespace nasforge::strategies {

const StrategyInfo& info_of(const std::string& name);

// Reads a strategy's knobs from Problem::options, with the defaults of its StrategyInfo. The
// first bad value is kept in status().
class Knobs {
 public:
  Knobs(const Problem& p, const std::string& strategy);
  int64_t integer(const std::string& name, int64_t min, int64_t max);
  double real(const std::string& name, double min, double max);
  std::string choice(const std::string& name, const std::vector<std::string>& allowed);
  const Status& status() const { return status_; }

 private:
  std::string raw(const std::string& name);
  void bad(const std::string& name, const std::string& value, const std::string& expected);
  const Problem& p_;
  const StrategyInfo& info_;
  Status status_;
};

// Proposes architectures that pass the problem's cheap feasibility check. Each generator is
// tried a bounded number of times; after that the last candidate is repaired by moving it, one
// decision at a time, towards the known-feasible witness, which always ends feasible. Nothing
// here can loop without bound.
class Proposer {
 public:
  static constexpr int kTries = 64;
  Proposer(const Problem& p, Rng& rng) : p_(p), space_(*p.space), rng_(rng) {}

  bool feasible(const Architecture& a) const {
    return !p_.feasibility || p_.feasibility->feasible(a);
  }
  Architecture repair(Architecture a) const;
  // The first feasible result of gen() in kTries calls, else the last one repaired.
  Architecture make(const std::function<Architecture()>& gen) const;

  Architecture sample() const;
  // A feasible sample whose canonical hash is not in `seen` when one is found in kTries draws;
  // its hash is added to `seen`.
  Architecture sample_unseen(std::unordered_set<uint64_t>& seen) const;
  // A feasible mutant whose canonical form differs from `a` when one is found in kTries.
  Architecture mutate(const Architecture& a) const;
  Architecture crossover(const Architecture& a, const Architecture& b) const;

  const SearchSpace& space() const { return space_; }
  Rng& rng() const { return rng_; }

 private:
  const Problem& p_;
  const SearchSpace& space_;
  Rng& rng_;
};

// The single objective of a trial, with failed and infeasible trials below every feasible one.
inline double fitness(const Trial& t) {
  if (!t.ok || t.score.empty()) return -std::numeric_limits<double>::max();
  if (t.violation > 0) return -1e300 - t.violation;
  return t.score[0];
}

// Normal scores of the ranks of y (a copula transform, ties sharing their mean rank): what the
// surrogate-based strategies fit, so that the few very poor architectures of a space (NAS-Bench-201
// has cells at 10%) do not flatten the differences among good ones. The order is unchanged.
std::vector<double> normal_scores(const std::vector<double>& y);

// NSGA-II's survival order of a population, best first: feasible trials by non-dominated front
// then crowding distance, infeasible ones by violation, failed ones last.
std::vector<size_t> survival_order(const std::vector<Trial>& pop);

// Factories, one per strategy file.
StatusOr<std::unique_ptr<Strategy>> make_random(const Problem& p);
StatusOr<std::unique_ptr<Strategy>> make_list(const Problem& p);
StatusOr<std::unique_ptr<Strategy>> make_rea(const Problem& p);
StatusOr<std::unique_ptr<Strategy>> make_nsga2(const Problem& p);
StatusOr<std::unique_ptr<Strategy>> make_linas(const Problem& p);
StatusOr<std::unique_ptr<Strategy>> make_pnas(const Problem& p, bool sampled);
StatusOr<std::unique_ptr<Strategy>> make_bowl(const Problem& p);
StatusOr<std::unique_ptr<Strategy>> make_reinforce(const Problem& p);

}  // namespace nasforge::strategies
