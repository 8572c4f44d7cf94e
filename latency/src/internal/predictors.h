// Factories and loaders of the latency predictors, one pair per file, joined by the registry.
#pragma once

#include <memory>

#include "nasforge/latency/predictors.h"
#include "nasforge/searchspace/yaml_ast.h"

namespace nasforge::latency {

StatusOr<std::unique_ptr<Predictor>> make_lut(const std::string& name, const PredictorContext& ctx);
StatusOr<std::unique_ptr<Predictor>> load_lut(const AstNode& root, const std::string& name,
                                              const PredictorContext& ctx, Diagnostics& d);
StatusOr<std::unique_ptr<Predictor>> make_table(const PredictorContext& ctx);
StatusOr<std::unique_ptr<Predictor>> load_table(const AstNode& root, const PredictorContext& ctx,
                                                Diagnostics& d);

}  // namespace nasforge::latency
