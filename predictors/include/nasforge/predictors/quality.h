// How well predictions match measurements: rank correlations, the share within a relative
// error, and RMSE.
#pragma once

#include <vector>

namespace nasforge::predictors {

double spearman(const std::vector<double>& a, const std::vector<double>& b);
// Kendall's tau-b (ties counted as in the tau-b definition). O(n log n).
double kendall(const std::vector<double>& a, const std::vector<double>& b);
// Share of i with |predicted_i - measured_i| <= rel * measured_i.
double within(const std::vector<double>& predicted, const std::vector<double>& measured,
              double rel);
double rmse(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace nasforge::predictors
