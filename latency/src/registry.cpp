// The registry of every predictor by name: the latency predictors of this library and the
// accuracy predictors of nasforge::predictors.
#include "internal/predictors.h"
#include "nasforge/predictors/accuracy.h"

namespace nasforge::latency {

std::vector<std::string> predictor_names() {
  return {"lut", "lut+residual", "table", "mlp", "gp", "wl-gp"};
}

StatusOr<std::unique_ptr<Predictor>> make_predictor(const std::string& name,
                                                    const PredictorContext& ctx) {
  if (ctx.space == nullptr) return InvalidArgument("a predictor needs its search space");
  if (name == "lut" || name == "lut+residual") return make_lut(name, ctx);
  if (name == "table") return make_table(ctx);
  if (auto m = predictors::parse_accuracy_model(name))
    return predictors::make_accuracy_predictor(*m, *ctx.space, ctx.seed);
  std::string list;
  for (const auto& n : predictor_names()) list += (list.empty() ? "" : ", ") + n;
  return NotFound("unknown predictor '" + name + "'; the predictors are " + list);
}

StatusOr<std::unique_ptr<Predictor>> load_predictor(const std::string& path,
                                                    const PredictorContext& ctx) {
  if (ctx.space == nullptr) return InvalidArgument("a predictor needs its search space");
  auto saved = predictors::read_saved_predictor(path, *ctx.space);
  if (!saved.ok()) return saved.status();
  const std::string& name = saved->name;
  Diagnostics d;
  StatusOr<std::unique_ptr<Predictor>> p = NotFound("");
  if (name == "lut" || name == "lut+residual") {
    p = load_lut(saved->root, name, ctx, d);
  } else if (name == "table") {
    p = load_table(saved->root, ctx, d);
  } else if (auto m = predictors::parse_accuracy_model(name)) {
    p = predictors::load_accuracy_predictor(saved->root, *m, *ctx.space, d);
  } else {
    d.error(saved->root.find("predictor")->loc, "predictor",
            "expected lut, lut+residual, table, mlp, gp or wl-gp, got '" + name + "'");
    return InvalidArgument(d.str());
  }
  if (!p.ok()) return p.status().WithContext(path);
  return p;
}

}  // namespace nasforge::latency
