// The differentiable cost of a metric, from the source a search names for it: exact `params`
// or `macs` (source count or count:implemented), or latency from a `lut` predictor
// (predictor:FILE). Anything else does not add over units and is refused with the reason.
#pragma once

#include <optional>
#include <string>

#include "nasforge/differentiable/search.h"

namespace nasforge::differentiable {

StatusOr<CostSpec> make_cost(const SearchSpace& space, const std::string& metric,
                             const std::string& source, std::optional<double> bound);

}  // namespace nasforge::differentiable
