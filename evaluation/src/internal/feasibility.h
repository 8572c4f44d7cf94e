// Hard constraints before and during the search: the cheap feasibility check that strategies
// propose within, and the pre-search check that proves a constraint impossible.
#pragma once

#include <utility>
#include <vector>

#include "nasforge/evaluation/search.h"
#include "nasforge/strategies/strategy.h"

namespace nasforge::evaluation {

// Every constraint whose source is cheap, checked on a proposed architecture. A source error
// counts as infeasible (the trial would fail anyway).
class CheapFeasibility : public strategies::Feasibility {
 public:
  CheapFeasibility(const SearchSpace& s, std::vector<std::pair<ConstraintSpec, MetricSource*>> c)
      : space_(s), constraints_(std::move(c)) {}
  bool feasible(const Architecture& a) const override;

 private:
  const SearchSpace& space_;
  std::vector<std::pair<ConstraintSpec, MetricSource*>> constraints_;
};

FeasibilityReport check_feasibility(
    const SearchSpace& space, const std::vector<std::pair<ConstraintSpec, MetricSource*>>& all,
    const CheapFeasibility* cheap, uint64_t seed);

}  // namespace nasforge::evaluation
