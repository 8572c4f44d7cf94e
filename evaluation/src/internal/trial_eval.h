// What evaluating one architecture takes: the metric sources of a search configuration, its
// constraints and its reports. The search driver evaluates with it in-process; a parallel
// search's workers each hold one of their own.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nasforge/evaluation/search.h"

namespace nasforge::evaluation {

// The configuration with the space's own objectives and constraints added, checked: what both a
// driver and its workers build from the same flags.
StatusOr<SearchConfig> prepare_config(SearchConfig c);

// The configuration as "key: value" lines: the store keeps them, and a parallel search's
// workers must match them (all but the budget).
std::vector<std::pair<std::string, std::string>> config_lines(const SearchConfig& c);

// What a parallel search's workers must share with their driver: the configuration lines but
// the budget, one per line.
std::string worker_agreement(const SearchConfig& c);

class TrialEvaluator {
 public:
  // Makes every source (errors name the metric and its source). `c` must be prepared.
  static StatusOr<std::unique_ptr<TrialEvaluator>> create(const SearchConfig& c,
                                                          std::shared_ptr<SourceFactory> factory);
  // A new architecture on every metric source, then its constraints and reports. A source's
  // error becomes a failed trial, naming the metric.
  TrialRecord evaluate(const Architecture& a, const std::string& hash);

  MetricSource* source(const std::string& metric) const { return sources_.at(metric).get(); }

 private:
  explicit TrialEvaluator(const SearchConfig& c) : c_(c) {}
  const SearchConfig& c_;
  std::shared_ptr<SourceFactory> factory_;
  std::map<std::string, std::shared_ptr<MetricSource>> sources_;  // signal and constraint metrics
  std::vector<std::pair<std::string, std::shared_ptr<MetricSource>>> reports_;
};

}  // namespace nasforge::evaluation
