// How well predictions match measurements: rank correlations, the share within a relative
// error, RMSE, top-k precision and bootstrap intervals of any of them.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace nasforge::predictors {

double spearman(const std::vector<double>& a, const std::vector<double>& b);
// Kendall's tau-b (ties counted as in the tau-b definition). O(n log n).
double kendall(const std::vector<double>& a, const std::vector<double>& b);
// Share of i with |predicted_i - measured_i| <= rel * measured_i.
double within(const std::vector<double>& predicted, const std::vector<double>& measured,
              double rel);
double rmse(const std::vector<double>& a, const std::vector<double>& b);

// Of the top `fraction` of items by `signal` (at least one), the share that are also in the top
// `fraction` by `reference`; both rankings highest first, ties broken by position.
double top_precision(const std::vector<double>& signal, const std::vector<double>& reference,
                     double fraction);

struct Interval {
  double value = 0, low = 0, high = 0;
};
using PairStatistic = std::function<double(const std::vector<double>&, const std::vector<double>&)>;
// The statistic of (a, b) and its 95% percentile bootstrap interval: `resamples` resamples of the
// pairs with replacement, drawn with `seed`.
Interval bootstrap(const PairStatistic& statistic, const std::vector<double>& a,
                   const std::vector<double>& b, int resamples, uint64_t seed);

}  // namespace nasforge::predictors
