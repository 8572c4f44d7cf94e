// What the latency predictors that learn from measured tables (`table` and its source-device
// models) read from an architecture, computed once per query: its units as deployed and as
// implemented, and its one-hot encoding. Every feature is a function of the architecture alone.
#pragma once

#include <string>
#include <vector>

#include "nasforge/searchspace/units.h"

namespace nasforge::latency {

class ArchFeatures {
 public:
  explicit ArchFeatures(const SearchSpace& space);

  struct Seen {
    Architecture arch;
    std::vector<Unit> deployed, implemented;
    long row = -1;  // the architecture's row in a measured source table; -1: none looked up
  };
  Seen look(const Architecture& a) const;

  // Per unit class (block kind, cell op): how many, and their MACs (millions), as `counting`.
  std::vector<double> class_counts(const Seen& s, Counting counting) const;
  // log MACs and log params, as deployed and as implemented (4 values).
  std::vector<double> log_costs(const Seen& s) const;
  std::vector<double> onehot(const Architecture& a) const;
  size_t classes() const { return classes_.size(); }
  // Whether the two countings can differ here (the space has cells).
  bool countings_differ() const { return countings_differ_; }

 private:
  const SearchSpace& space_;
  std::vector<std::string> classes_;  // sorted
  bool countings_differ_ = false;
};

}  // namespace nasforge::latency
