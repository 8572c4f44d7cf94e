// Every architecture's units written as a sum of terms over decision values: the form in which a
// cost that adds over units (a latency table, exact parameter and MAC counts) has an exact
// expectation under a distribution that factorises over decisions, the relaxation the DARTS
// family optimises. HardCoRe-NAS's expected latency and the FBNet / ProxylessNAS latency loss
// are this sum.
//
//   E[cost(a)] = sum_t cost(t.unit) * prod_{(d, v) in t.when} P(decision d = v)
//
// because each term's condition reads every decision at most once, and the decisions are
// independent.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "nasforge/searchspace/units.h"

namespace nasforge {

struct UnitTerm {
  Unit unit;
  std::vector<std::pair<int, uint32_t>> when;  // (decision, value index): all of them hold
};

// The terms of `space`: for every (normalised) architecture a, the units of the terms whose
// condition holds in a are units(space, a, true, counting), as a multiset. Each layer (each
// block of a stage, each node of a cell where its edges count independently) is enumerated over
// the decisions it reads and those that set its input width. Fails, naming the layer, when
// that would take more than `limit` enumerations (a cell whose `none` ops make liveness depend on
// the whole genotype, in a space too large to enumerate it).
StatusOr<std::vector<UnitTerm>> unit_terms(const SearchSpace& space,
                                           Counting counting = Counting::kAsDeployed,
                                           size_t limit = 1000000);

// Whether every condition of `t` holds in `a`.
bool holds(const UnitTerm& t, const Architecture& a);

}  // namespace nasforge
