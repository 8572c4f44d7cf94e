#include "nasforge/predictors/quality.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "nasforge/searchspace/rng.h"

namespace nasforge::predictors {

namespace {

// Ranks from 1, ties sharing their average rank.
std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t i, size_t j) { return v[i] < v[j]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    const double avg = (static_cast<double>(i) + static_cast<double>(j)) / 2 + 1;
    for (size_t k = i; k <= j; ++k) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n;
  const double mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0;
}

// Pairs tied in a run of equal values: sum of t(t-1)/2.
template <typename Eq>
double tied_pairs(size_t n, Eq&& equal) {
  double total = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && equal(i, j)) ++j;
    const double t = static_cast<double>(j - i);
    total += t * (t - 1) / 2;
    i = j;
  }
  return total;
}

// Sorts v[lo, hi) and returns how many pairs it swapped (inversions).
double merge_count(std::vector<double>& v, std::vector<double>& tmp, size_t lo, size_t hi) {
  if (hi - lo < 2) return 0;
  const size_t mid = (lo + hi) / 2;
  double swaps = merge_count(v, tmp, lo, mid) + merge_count(v, tmp, mid, hi);
  size_t i = lo, j = mid, k = lo;
  while (i < mid && j < hi) {
    if (v[j] < v[i]) {
      swaps += static_cast<double>(mid - i);
      tmp[k++] = v[j++];
    } else {
      tmp[k++] = v[i++];
    }
  }
  while (i < mid) tmp[k++] = v[i++];
  while (j < hi) tmp[k++] = v[j++];
  std::copy(tmp.begin() + static_cast<long>(lo), tmp.begin() + static_cast<long>(hi),
            v.begin() + static_cast<long>(lo));
  return swaps;
}

}  // namespace

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() < 2 || a.size() != b.size()) return 0;
  return pearson(ranks(a), ranks(b));
}

double kendall(const std::vector<double>& a, const std::vector<double>& b) {
  const size_t n = a.size();
  if (n < 2 || b.size() != n) return 0;
  std::vector<std::pair<double, double>> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = {a[i], b[i]};
  std::sort(p.begin(), p.end());
  const double ties_a = tied_pairs(n, [&](size_t i, size_t j) { return p[i].first == p[j].first; });
  const double ties_ab = tied_pairs(n, [&](size_t i, size_t j) { return p[i] == p[j]; });
  std::vector<double> bs(n), tmp(n);
  for (size_t i = 0; i < n; ++i) bs[i] = p[i].second;
  const double swaps = merge_count(bs, tmp, 0, n);
  const double ties_b = tied_pairs(n, [&](size_t i, size_t j) { return bs[i] == bs[j]; });
  const double n0 = static_cast<double>(n) * static_cast<double>(n - 1) / 2;
  const double denom = std::sqrt((n0 - ties_a) * (n0 - ties_b));
  return denom > 0 ? (n0 - ties_a - ties_b + ties_ab - 2 * swaps) / denom : 0;
}

double within(const std::vector<double>& predicted, const std::vector<double>& measured,
              double rel) {
  if (predicted.empty()) return 0;
  size_t ok = 0;
  for (size_t i = 0; i < predicted.size(); ++i)
    if (std::abs(predicted[i] - measured[i]) <= rel * std::abs(measured[i])) ++ok;
  return static_cast<double>(ok) / static_cast<double>(predicted.size());
}

double rmse(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.empty()) return 0;
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s / static_cast<double>(a.size()));
}

namespace {

// The indices of the `k` largest values, ties broken by position.
std::vector<size_t> top_k(const std::vector<double>& v, size_t k) {
  std::vector<size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t i, size_t j) { return v[i] > v[j]; });
  idx.resize(std::min(k, idx.size()));
  std::sort(idx.begin(), idx.end());
  return idx;
}

}  // namespace

double top_precision(const std::vector<double>& signal, const std::vector<double>& reference,
                     double fraction) {
  if (signal.empty() || signal.size() != reference.size()) return 0;
  const size_t k = std::max<size_t>(
      1, static_cast<size_t>(std::lround(fraction * static_cast<double>(signal.size()))));
  const auto a = top_k(signal, k), b = top_k(reference, k);
  std::vector<size_t> both;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
  return static_cast<double>(both.size()) / static_cast<double>(a.size());
}

Interval bootstrap(const PairStatistic& statistic, const std::vector<double>& a,
                   const std::vector<double>& b, int resamples, uint64_t seed) {
  Interval r;
  r.value = r.low = r.high = statistic(a, b);
  if (a.size() < 2 || resamples < 1) return r;
  Rng rng(seed);
  std::vector<double> stats, ra(a.size()), rb(a.size());
  for (int s = 0; s < resamples; ++s) {
    for (size_t i = 0; i < a.size(); ++i) {
      const size_t k = rng.uniform(a.size());
      ra[i] = a[k];
      rb[i] = b[k];
    }
    stats.push_back(statistic(ra, rb));
  }
  std::sort(stats.begin(), stats.end());
  const auto at = [&](double q) {
    return stats[std::min(stats.size() - 1,
                          static_cast<size_t>(q * static_cast<double>(stats.size())))];
  };
  r.low = at(0.025);
  r.high = at(0.975);
  return r;
}

}  // namespace nasforge::predictors
