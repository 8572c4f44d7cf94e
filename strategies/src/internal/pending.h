// Trials asked for and not yet told. An asynchronous driver (several workers evaluating at once)
// asks again before earlier trials come back, and tells them in any order. The model-based
// strategies (bowl, pnas, epnas, linas) then fit their surrogates on the pending architectures
// as well, each with a constant lie: the worst value observed so far (the "constant liar" of
// Ginsbourger, Le Riche and Carraro, 2010, with the minimum), so that the next proposals move
// away from evaluations already under way instead of piling onto them. In a synchronous run
// nothing is pending when a strategy asks, and nothing changes.
#pragma once

#include <cstdint>
#include <unordered_set>
#include <utility>
#include <vector>

#include "nasforge/strategies/strategy.h"

namespace nasforge::strategies {

class PendingTrials {
 public:
  explicit PendingTrials(const SearchSpace& space) : space_(space) {}
  void asked(const std::vector<Architecture>& archs);
  // Each told trial settles one pending entry of its architecture (canonically equal ones
  // match).
  void told(const std::vector<Trial>& trials);
  size_t size() const { return pending_.size(); }
  // 0 with nothing pending; else changes whenever the pending set does: a cache key.
  uint64_t key() const;
  // `x` and `y` (one objective's observed values, larger is better) followed by every pending
  // architecture valued min(y). Unchanged when nothing is pending or nothing was observed.
  std::pair<std::vector<Architecture>, std::vector<double>> with_lies(
      const std::vector<Architecture>& x, const std::vector<double>& y) const;

 private:
  const SearchSpace& space_;
  std::vector<std::pair<uint64_t, Architecture>> pending_;  // canonical hash, architecture
};

// What a single-objective surrogate is fitted on: the feasible trials, each architecture once (a
// repeat, told back by the driver with its first result, adds nothing), and the pending ones.
class Observations {
 public:
  explicit Observations(const SearchSpace& space) : space_(space), pending_(space) {}
  void asked(const std::vector<Architecture>& archs) { pending_.asked(archs); }
  void told(const std::vector<Trial>& trials);
  const std::vector<Architecture>& x() const { return x_; }
  const std::vector<double>& y() const { return y_; }  // the first objective's scores
  // The observed trials' count and the pending set: a fit is stale when this changes.
  std::pair<size_t, uint64_t> key() const { return {x_.size(), pending_.key()}; }
  // x() and y() followed by the pending trials valued at the constant lie.
  std::pair<std::vector<Architecture>, std::vector<double>> with_lies() const {
    return pending_.with_lies(x_, y_);
  }

 private:
  const SearchSpace& space_;
  PendingTrials pending_;
  std::unordered_set<uint64_t> told_;
  std::vector<Architecture> x_;
  std::vector<double> y_;
};

}  // namespace nasforge::strategies
