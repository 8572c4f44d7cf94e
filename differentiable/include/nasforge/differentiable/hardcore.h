// HardCoRe-NAS's constrained steps: the architecture distribution moves by block-coordinate
// Frank-Wolfe inside {E[cost] <= bound}. E[cost] is multilinear in the decisions' probability
// vectors, so with the other blocks fixed it is linear in one block, and each block's
// subproblem is a linear program over a simplex with one linear constraint, solved exactly.
// A convex step between two feasible points stays feasible: the bound holds at every step.
#pragma once

#include <optional>
#include <vector>

#include "nasforge/differentiable/expected_cost.h"

namespace nasforge::differentiable {

// argmin_{s in simplex} g.s subject to c.s <= bound: a vertex, or a point on an edge where
// the constraint is tight. nullopt when no point of the simplex meets the bound.
std::optional<std::vector<double>> simplex_lp(const std::vector<double>& g,
                                              const std::vector<double>& c, double bound);

// One sweep of block-coordinate Frank-Wolfe over every decision: probs[d] moves by `step`
// towards its block's constrained minimiser of grads[d]. `probs` must meet the bound, and meets
// it afterwards. The margin keeps rounding from crossing it: blocks aim at bound * (1 - 1e-9).
void frank_wolfe_sweep(std::vector<std::vector<double>>& probs,
                       const std::vector<std::vector<double>>& grads, const ExpectedCost& cost,
                       double bound, double step);

// A starting point that meets the bound: uniform when that meets it, else the point nearest to
// uniform on the segment to `feasible`'s one-hot (by bisection).
std::vector<std::vector<double>> feasible_start(const SearchSpace& space, const ExpectedCost& cost,
                                                double bound, const Architecture& feasible);

// E[cost] at plain probability vectors.
double expected_value(const ExpectedCost& cost, const std::vector<std::vector<double>>& probs);

// Makes `a` meet the bound: while it does not, changes the one decision whose change lowers the
// cost at the smallest loss of log-probability per unit of cost saved. Falls back to `feasible`
// when no single change lowers the cost.
Architecture repair_to_bound(const SearchSpace& space, Architecture a,
                             const std::vector<std::vector<double>>& probs,
                             const ExpectedCost& cost, double bound, const Architecture& feasible);

}  // namespace nasforge::differentiable
