#include "internal/source_model.h"

#include <cmath>
#include <sstream>

#include "nasforge/searchspace/json.h"

namespace nasforge::latency {

using namespace nasforge::predictors;  // the models and tables this library builds on

std::vector<double> SourceModel::features(const ArchFeatures& f, const Architecture& a,
                                          const ArchFeatures::Seen& s) {
  std::vector<double> x = f.onehot(a);
  for (Counting c : {Counting::kAsDeployed, Counting::kAsImplemented}) {
    if (c == Counting::kAsImplemented && !f.countings_differ()) break;
    const auto counts = f.class_counts(s, c);
    x.insert(x.end(), counts.begin(), counts.end());
  }
  const auto costs = f.log_costs(s);
  x.insert(x.end(), costs.begin(), costs.end());
  return x;
}

StatusOr<SourceModel> SourceModel::fit(const ArchFeatures& f, const ArchTable& table,
                                       const std::string& column) {
  auto col = table.column(column);
  if (!col.ok()) return col.status();
  Matrix x;
  std::vector<double> y;
  for (size_t r = 0; r < table.rows(); ++r) {
    const double v = table.values[*col][r];
    if (!(v > 0)) continue;  // a zero or negative latency says nothing in log space
    x.push_back(features(f, table.archs[r], f.look(table.archs[r])));
    y.push_back(std::log(v));
  }
  if (y.size() < 3)
    return FailedPrecondition(table.file + ": column '" + column +
                              "' has fewer than 3 positive latencies to learn the device from");
  SourceModel m;
  m.column = column;
  m.ridge = Ridge::fit(x, y, {1e-3, 1e-2, 0.1, 1, 10});
  m.ridge.loo.clear();
  return m;
}

double SourceModel::predict(const ArchFeatures& f, const Architecture& a,
                            const ArchFeatures::Seen& s) const {
  return std::exp(ridge.predict(features(f, a, s)));
}

std::string SourceModel::to_json() const {
  return "{\"column\": " + json_quote(column) + ", \"ridge\": " + ridge.to_json() + "}";
}

SourceModel SourceModel::from_json(const AstNode& node, const std::string& at, Diagnostics& d) {
  AstReader r(node, at, d);
  SourceModel m;
  m.column = r.str("column");
  if (const AstNode* n = r.get("ridge")) m.ridge = Ridge::from_json(*n, at + "ridge.", d);
  return m;
}

}  // namespace nasforge::latency
