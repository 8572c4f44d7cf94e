// The predictor registry, parallel batch prediction, and saving and loading.
#include <tbb/parallel_for.h>

#include <filesystem>
#include <fstream>

#include "internal/accuracy.h"
#include "internal/predictors.h"
#include "nasforge/searchspace/ast_reader.h"
#include "nasforge/searchspace/files.h"

namespace nasforge::predictors {

std::vector<Prediction> Predictor::predict_batch(const std::vector<Architecture>& archs) const {
  std::vector<Prediction> out(archs.size());
  tbb::parallel_for(tbb::blocked_range<size_t>(0, archs.size(), 256),
                    [&](const tbb::blocked_range<size_t>& r) {
                      for (size_t i = r.begin(); i != r.end(); ++i) out[i] = predict(archs[i]);
                    });
  return out;
}

Status Predictor::save(const std::string& path) const {
  return write_atomically(path, to_json(), "predictor");
}

std::vector<std::string> predictor_names() {
  return {"lut", "lut+residual", "table", "mlp", "gp", "wl-gp"};
}

StatusOr<std::unique_ptr<Predictor>> make_predictor(const std::string& name,
                                                    const PredictorContext& ctx) {
  if (ctx.space == nullptr) return InvalidArgument("a predictor needs its search space");
  if (name == "lut" || name == "lut+residual") return make_lut(name, ctx);
  if (name == "table") return make_table(ctx);
  if (name == "mlp" || name == "gp" || name == "wl-gp") return make_accuracy(name, ctx);
  std::string list;
  for (const auto& n : predictor_names()) list += (list.empty() ? "" : ", ") + n;
  return NotFound("unknown predictor '" + name + "'; the predictors are " + list);
}

StatusOr<std::unique_ptr<Predictor>> load_predictor(const std::string& path,
                                                    const PredictorContext& ctx) {
  if (ctx.space == nullptr) return InvalidArgument("a predictor needs its search space");
  Diagnostics d;
  auto root = load_yaml_file(path, d);
  if (!root) return InvalidArgument(d.str());
  if (!root->is_mapping()) {
    d.error(root->loc, "",
            "expected a saved nasforge predictor (a JSON object), got " + root->describe());
    return InvalidArgument(d.str());
  }
  AstReader r(*root, "", d);
  const std::string name = r.str("predictor");
  const std::string fingerprint = r.str("space_fingerprint");
  if (!d.ok()) return InvalidArgument(d.str());
  if (fingerprint != ctx.space->fingerprint())
    return FailedPrecondition(path + ": the predictor was fitted for another space (fingerprint " +
                              fingerprint + ", this space has " + ctx.space->fingerprint() + ")");
  StatusOr<std::unique_ptr<Predictor>> p = NotFound("");
  if (name == "lut" || name == "lut+residual") {
    p = load_lut(*root, name, ctx, d);
  } else if (name == "table") {
    p = load_table(*root, ctx, d);
  } else if (name == "mlp" || name == "gp" || name == "wl-gp") {
    p = load_accuracy(*root, name, ctx, d);
  } else {
    d.error(root->find("predictor")->loc, "predictor",
            "expected lut, lut+residual, table, mlp, gp or wl-gp, got '" + name + "'");
    return InvalidArgument(d.str());
  }
  if (!p.ok()) return p.status().WithContext(path);
  return p;
}

}  // namespace nasforge::predictors
