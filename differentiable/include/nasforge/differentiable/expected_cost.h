// The exact expected cost of a relaxed architecture: for a cost that adds over units (a `lut`
// latency table, exact parameter or MAC counts) and a distribution that factorises over
// decisions, E[cost] is a polynomial in the decisions' probabilities, one term per unit and
// condition (searchspace/unit_terms.h). It is differentiable, so it serves as the latency loss
// of FBNet and ProxylessNAS and as HardCoRe-NAS's constraint.
#pragma once

#include <torch/types.h>

#include <functional>
#include <string>
#include <vector>

#include "nasforge/searchspace/units.h"

namespace nasforge::differentiable {

class ExpectedCost {
 public:
  // `unit_cost` prices one unit; a unit it returns NaN for (a table that lacks it) is an error
  // naming the unit.
  static StatusOr<ExpectedCost> make(const SearchSpace& space,
                                     const std::function<double(const Unit&)>& unit_cost,
                                     Counting counting = Counting::kAsDeployed);

  // E[cost] under `probs` (one probability vector per decision), as a float64 scalar that
  // carries gradients to the probabilities.
  at::Tensor operator()(const std::vector<at::Tensor>& probs) const;
  // The cost of one architecture: the same polynomial at its one-hot point.
  double at(const Architecture& a) const;
  size_t terms() const { return static_cast<size_t>(cost_.size(0)); }

 private:
  std::vector<int64_t> offset_;  // decision -> first index of its values in the flat vector
  int64_t flat_size_ = 0;
  at::Tensor index_;  // [terms, arity] into the flat probabilities; flat_size_ reads a 1
  at::Tensor cost_;   // [terms], float64
  std::vector<std::vector<std::pair<int, uint32_t>>> when_;
  std::vector<double> cost_values_;
};

}  // namespace nasforge::differentiable
