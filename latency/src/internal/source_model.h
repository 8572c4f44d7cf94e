// A source device learned from its whole measured table, so that `table` can transfer to a new
// architecture that no device has measured (HELP and nn-Meter predict from the architecture
// alone; this is how nasforge does). One ridge regression in log latency on architecture
// features only: the one-hot encoding, per-class unit counts and MACs as deployed and as
// implemented, and log MACs/params. Fitted on every row that holds the device's column.
#pragma once

#include <string>

#include "internal/arch_features.h"
#include "nasforge/predictors/models.h"
#include "nasforge/predictors/table.h"

namespace nasforge::latency {

struct SourceModel {
  std::string column;
  predictors::Ridge ridge;  // log ms

  static StatusOr<SourceModel> fit(const ArchFeatures& f, const predictors::ArchTable& table,
                                   const std::string& column);
  static std::vector<double> features(const ArchFeatures& f, const Architecture& a,
                                      const ArchFeatures::Seen& s);
  // Predicted latency in ms.
  double predict(const ArchFeatures& f, const Architecture& a, const ArchFeatures::Seen& s) const;
  std::string to_json() const;
  static SourceModel from_json(const AstNode& node, const std::string& at, Diagnostics& d);
};

}  // namespace nasforge::latency
