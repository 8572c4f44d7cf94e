// Costs that add over units: exact counts and lut latency.
#include "nasforge/differentiable/cost_model.h"

#include "nasforge/hardware/counts.h"
#include "nasforge/latency/predictors.h"

namespace nasforge::differentiable {

StatusOr<CostSpec> make_cost(const SearchSpace& space, const std::string& metric,
                             const std::string& source, std::optional<double> bound) {
  CostSpec spec;
  spec.metric = metric;
  spec.bound = bound;
  StatusOr<ExpectedCost> model = FailedPrecondition("");
  if (source == "count" || source == "count:deployed" || source == "count:implemented") {
    if (metric != "params" && metric != "macs")
      return FailedPrecondition("metric " + metric + ": source count gives params or macs only");
    const bool params = metric == "params";
    const Counting counting =
        source == "count:implemented" ? Counting::kAsImplemented : Counting::kAsDeployed;
    model = ExpectedCost::make(
        space,
        [params](const Unit& u) {
          const auto c = hardware::unit_cost(u);
          return static_cast<double>(params ? c.params : c.macs);
        },
        counting);
  } else if (source.rfind("predictor:", 0) == 0) {
    latency::PredictorContext ctx;
    ctx.space = &space;
    auto p = latency::load_predictor(source.substr(10), ctx);
    if (!p.ok()) return p.status();
    auto unit_ms = latency::additive_unit_cost(**p);
    if (!unit_ms.ok())
      return FailedPrecondition("metric " + metric + ": " + unit_ms.status().message());
    model = ExpectedCost::make(space, *unit_ms);
  } else {
    return FailedPrecondition("metric " + metric + ": source '" + source +
                              "' is not differentiable; the gradient strategies take count "
                              "(params, macs) or predictor:FILE of a lut predictor");
  }
  if (!model.ok()) return model.status();
  spec.model = std::make_shared<const ExpectedCost>(std::move(*model));
  return spec;
}

}  // namespace nasforge::differentiable
