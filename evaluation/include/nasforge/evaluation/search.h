// The search driver: one ask/tell loop for every strategy, hard constraints checked before the
// search and enforced during it, every trial committed to the store before the next is asked
// for, resume by replay, and the Pareto front of what was found.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nasforge/evaluation/metric_source.h"
#include "nasforge/evaluation/trial_store.h"
#include "nasforge/searchspace/metrics.h"

namespace nasforge::evaluation {

struct ConstraintSpec {
  MetricName metric;
  std::optional<double> min, max;  // inclusive bounds
  std::string str() const;         // "latency_ms@raspi4 <= 15"
  // "latency_ms@raspi4<=15", "accuracy>=90", "params<=2M" (suffixes k, M, G).
  static StatusOr<ConstraintSpec> parse(const std::string& text);
  // 0 when met; else how far outside the bound, relative to the bound's magnitude.
  double violation(double value) const;
};

struct ObjectiveSpec {
  MetricName metric;
  Direction direction = Direction::kMaximize;
  // "accuracy:max", "latency_ms@cpu:min"
  static StatusOr<ObjectiveSpec> parse(const std::string& text);
};

// Parallel evaluation: this process keeps the strategy and the store, and worker processes
// evaluate the trials, each asked for while others are still out (docs/distributed.md).
struct WorkerOptions {
  // Workers this process starts and restarts, each by running `command` (the same search with
  // the same flags) with NASFORGE_SEARCH_WORKER=ID@HOST:PORT added to its environment.
  int count = 0;
  std::vector<std::string> command;
  // Workers that a launcher started (ranks 1..external of `nasforge launch` or torchrun), with
  // ids 1..external, joining the board this process serves at host:port.
  int external = 0;
  std::string host = "127.0.0.1";
  int port = 0;                 // 0: a free port
  bool existing_store = false;  // a store is served there already (torchrun's agent store)
  // A worker whose heartbeat stops this long is taken for dead; one that has not joined this
  // long after it was started is too.
  std::chrono::milliseconds silence{std::chrono::seconds(60)};
  std::chrono::milliseconds join{std::chrono::seconds(300)};
  // Where worker deaths, restarts and requeued trials are reported, one line each.
  std::function<void(const std::string&)> log;
};

struct SearchConfig {
  std::shared_ptr<const SearchSpace> space;
  std::string strategy = "random";
  std::map<std::string, std::string> options;  // strategy knobs
  std::vector<MetricSpec> metrics;             // sources of objective and constraint metrics
  std::vector<MetricSpec> reports;             // recorded, never shown to the strategy
  std::vector<ObjectiveSpec> objectives;
  std::vector<ConstraintSpec> constraints;
  uint64_t budget = 100;  // distinct architectures evaluated (repeats are free, see search.md)
  uint64_t seed = 0;
  size_t batch = 1;                              // architectures per ask
  std::string out_dir;                           // empty: keep trials in memory only
  std::optional<std::vector<double>> reference;  // hypervolume reference, per objective
  std::string data;                              // for train: sources
  WorkerOptions workers;                         // none: every trial evaluated in this process
};

// One constraint's verdict before the search.
struct BoundCheck {
  std::string constraint;
  enum class Kind { kExact, kDescent, kUnchecked } kind = Kind::kUnchecked;
  std::optional<double> best;  // the smallest (for <=) or largest (for >=) value found
  std::optional<Architecture> arch;
  std::string how;  // "exact over 15625 table rows", "by coordinate descent", ...
  bool feasible = true;
};

struct FeasibilityReport {
  std::vector<BoundCheck> checks;
  std::optional<Architecture> witness;  // meets every cheaply checkable constraint together
  bool feasible = true;
  std::string message;  // why not, naming the minimum found
};

struct SearchResult {
  std::vector<TrialRecord> trials;  // in evaluation order
  std::vector<size_t> pareto;       // indices into trials: feasible and non-dominated
  std::optional<size_t> best;       // the best feasible trial on the first objective
  double hypervolume = 0;
  std::vector<double> reference;  // in the objectives' own units
  uint64_t evaluated = 0, reused = 0, repeats = 0, proposals = 0;
  FeasibilityReport feasibility;
  std::string stopped;  // why the loop ended early, if it did
  // A parallel search's: trials evaluated again because their worker died, and workers lost.
  uint64_t requeued = 0, workers_lost = 0;
};

class Search {
 public:
  // Checks the configuration and makes the sources (no evaluation yet). Searches that pass the
  // same factory share what it loaded (a CSV read once for many seeds); make them one at a time.
  static StatusOr<std::unique_ptr<Search>> create(SearchConfig config,
                                                  std::shared_ptr<SourceFactory> factory = nullptr);
  ~Search();

  // The pre-search feasibility check, computed once: run() reuses an earlier call's report.
  FeasibilityReport check_feasibility();
  // Runs to the budget. `progress(done, budget, best_line)` is called after every trial.
  // An impossible constraint returns FailedPrecondition with the minimum in the message.
  StatusOr<SearchResult> run(
      const std::function<void(uint64_t, uint64_t, const std::string&)>& progress = {});

  const SearchConfig& config() const { return config_; }

  struct Impl;

 private:
  explicit Search(SearchConfig c);
  SearchConfig config_;
  std::unique_ptr<Impl> impl_;
};

// Indices of the feasible (status ok), non-dominated trials, best first on the first objective.
std::vector<size_t> feasible_front(const std::vector<TrialRecord>& trials,
                                   const std::vector<ObjectiveSpec>& objectives);

// A parallel search's worker: evaluates the trials the driver at `endpoint` ("ID@HOST:PORT", as
// NASFORGE_SEARCH_WORKER gives it) hands out, with the sources `config` names, until the driver
// dismisses it. Never opens the driver's store. Errors name the worker and what failed.
inline constexpr const char* kSearchWorkerEnv = "NASFORGE_SEARCH_WORKER";
Status serve_trials(SearchConfig config, const std::string& endpoint);

// A search folder (`--out DIR`) read back: what `nasforge export --run DIR --rank K` needs.
struct StoredSearch {
  std::shared_ptr<const SearchSpace> space;
  std::vector<ObjectiveSpec> objectives;
  std::map<std::string, std::string> sources;         // metric name -> source, e.g. supernet:runs/x
  std::map<std::string, std::string> report_sources;  // the same for the --report metrics
  std::vector<TrialRecord> trials;
  std::vector<size_t> pareto;  // feasible_front(trials, objectives)
  std::vector<ConstraintSpec> constraints;
  std::map<std::string, std::string> config;  // the store's configuration lines (strategy, ...)
};
// Errors name the folder and the missing file or the unreadable setting.
StatusOr<StoredSearch> load_search(const std::string& dir);

// The JSON summary printed by `nasforge search --json`.
std::string result_json(const SearchConfig& config, const SearchResult& r);

}  // namespace nasforge::evaluation
