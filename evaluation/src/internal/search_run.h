// One run of the search loop, shared by the in-process driver (search.cpp) and the parallel one
// (parallel_search.cpp): the store and what an earlier run left in it, the strategy, the trials
// recorded so far, and the end-of-run summary.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "nasforge/evaluation/search.h"
#include "nasforge/strategies/strategy.h"

namespace nasforge::evaluation {

using ProgressFn = std::function<void(uint64_t, uint64_t, const std::string&)>;

// The progress line's "best METRIC VALUE", kept up to date as trials arrive.
class BestLine {
 public:
  explicit BestLine(const ObjectiveSpec& o) : o_(o) {}
  void see(const TrialRecord& r);
  const std::string& line() const { return line_; }

 private:
  const ObjectiveSpec& o_;
  std::optional<double> best_;
  std::string line_;
};

class SearchRun {
 public:
  // Opens the store (checking what an earlier run left), and makes the strategy.
  static StatusOr<std::unique_ptr<SearchRun>> begin(const SearchConfig& c,
                                                    const strategies::Feasibility* cheap,
                                                    FeasibilityReport feasibility,
                                                    ProgressFn progress);

  const SearchConfig& config() const { return c_; }
  strategies::Strategy& strategy() { return *strategy_; }
  SearchResult& result() { return res_; }
  uint64_t budget() const { return budget_; }
  // The strategy's view of a trial recorded before (a repeat proposal).
  std::optional<strategies::Trial> recorded(const std::string& hash, const Architecture& a) const;
  // An earlier run's record of this architecture, if any (replayed, not re-evaluated).
  const TrialRecord* stored(const std::string& hash) const;
  // Records a trial: committed to the store unless `replayed`, counted, shown to the progress
  // callback. The strategy's view of it.
  StatusOr<strategies::Trial> record(TrialRecord r, const Architecture& a, bool replayed);
  // Why the loop must stop early, or empty to go on: too many proposals for the budget, or
  // `run_of_repeats` repeats in a row (the strategy has run out of new architectures).
  std::string exhausted(uint64_t run_of_repeats) const;
  // The summary: front, best, hypervolume, and why it ended.
  SearchResult finish();

 private:
  explicit SearchRun(const SearchConfig& c) : c_(c), best_(c.objectives[0]) {}
  const SearchConfig& c_;
  SearchResult res_;
  std::unique_ptr<TrialStore> store_;
  std::unordered_map<std::string, TrialRecord> stored_;  // by hash, from an earlier run
  std::unordered_map<std::string, size_t> index_;        // hash -> position in res_.trials
  std::unique_ptr<strategies::Strategy> strategy_;
  BestLine best_;
  ProgressFn progress_;
  uint64_t budget_ = 0, size_ = 0;
  bool small_space_ = false;
};

// The strategy's view of a trial: its objectives, larger is better.
strategies::Trial to_trial(const TrialRecord& r, const Architecture& a,
                           const std::vector<ObjectiveSpec>& objectives);

// The parallel loop (parallel_search.cpp): workers evaluate, this process keeps the strategy
// and the store.
StatusOr<SearchResult> run_parallel(SearchRun& run);

}  // namespace nasforge::evaluation
