#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <sstream>

#include "nasforge/predictors/models.h"
#include "nasforge/searchspace/json.h"

namespace nasforge::predictors {

bool cholesky(std::vector<double>& a, size_t n) {
  for (size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (d <= 0 || !std::isfinite(d)) return false;
    d = std::sqrt(d);
    a[j * n + j] = d;
    for (size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (size_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / d;
    }
    for (size_t i = 0; i < j; ++i) a[i * n + j] = 0;
  }
  return true;
}

void cholesky_solve(const std::vector<double>& l, size_t n, std::vector<double>& b) {
  for (size_t i = 0; i < n; ++i) {
    double s = b[i];
    for (size_t k = 0; k < i; ++k) s -= l[i * n + k] * b[k];
    b[i] = s / l[i * n + i];
  }
  for (size_t i = n; i-- > 0;) {
    double s = b[i];
    for (size_t k = i + 1; k < n; ++k) s -= l[k * n + i] * b[k];
    b[i] = s / l[i * n + i];
  }
}

std::string json_numbers(const std::vector<double>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + json_number(v[i]);
  return s + "]";
}

Ridge Ridge::fit(const Matrix& x, const std::vector<double>& y,
                 const std::vector<double>& lambdas) {
  const size_t n = x.size(), p = n ? x[0].size() : 0;
  Ridge best;
  best.loo_rmse = std::numeric_limits<double>::infinity();
  if (n == 0) return best;
  // Standardise features and centre y, so that the intercept is the mean and unpenalised.
  std::vector<double> mean(p, 0), scale(p, 0);
  for (const auto& r : x)
    for (size_t j = 0; j < p; ++j) mean[j] += r[j] / static_cast<double>(n);
  for (const auto& r : x)
    for (size_t j = 0; j < p; ++j) scale[j] += (r[j] - mean[j]) * (r[j] - mean[j]);
  for (auto& s : scale) s = s > 0 ? std::sqrt(s / static_cast<double>(n)) : 1;
  const double ymean = std::accumulate(y.begin(), y.end(), 0.0) / static_cast<double>(n);
  Matrix z(n, std::vector<double>(p));
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < p; ++j) z[i][j] = (x[i][j] - mean[j]) / scale[j];
  for (double lambda : lambdas) {
    std::vector<double> a(p * p, 0), b(p, 0);
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < p; ++j) {
        b[j] += z[i][j] * (y[i] - ymean);
        for (size_t k = 0; k < p; ++k) a[j * p + k] += z[i][j] * z[i][k];
      }
    for (size_t j = 0; j < p; ++j) a[j * p + j] += lambda;
    if (!cholesky(a, p)) continue;
    std::vector<double> w = b;
    cholesky_solve(a, p, w);
    // Leave-one-out residuals: r_i / (1 - h_ii), h_ii = 1/n + z_i^T (Z^T Z + lambda)^-1 z_i.
    double sq = 0;
    std::vector<double> held_out(n);
    for (size_t i = 0; i < n; ++i) {
      std::vector<double> zi = z[i];
      double fit = ymean;
      for (size_t j = 0; j < p; ++j) fit += w[j] * z[i][j];
      cholesky_solve(a, p, zi);
      double h = 1.0 / static_cast<double>(n);
      for (size_t j = 0; j < p; ++j) h += z[i][j] * zi[j];
      const double r = (y[i] - fit) / std::max(1e-9, 1 - h);
      held_out[i] = y[i] - r;
      sq += r * r;
    }
    const double loo = std::sqrt(sq / static_cast<double>(n));
    if (loo < best.loo_rmse) {
      best.loo_rmse = loo;
      best.lambda = lambda;
      best.w = w;
      best.mean = mean;
      best.scale = scale;
      best.bias = ymean;
      best.loo = std::move(held_out);
    }
  }
  return best;
}

double Ridge::predict(const std::vector<double>& x) const {
  double v = bias;
  for (size_t j = 0; j < w.size(); ++j) v += w[j] * (x[j] - mean[j]) / scale[j];
  return v;
}

std::string Ridge::to_json() const {
  std::ostringstream o;
  o << "{\"w\": " << json_numbers(w) << ", \"mean\": " << json_numbers(mean)
    << ", \"scale\": " << json_numbers(scale) << ", \"bias\": " << json_numbers({bias})
    << ", \"lambda\": " << json_numbers({lambda}) << ", \"loo_rmse\": " << json_numbers({loo_rmse})
    << "}";
  return o.str();
}

Ridge Ridge::from_json(const AstNode& node, const std::string& at, Diagnostics& d) {
  AstReader r(node, at, d);
  Ridge m;
  m.w = r.numbers("w");
  m.mean = r.numbers("mean");
  m.scale = r.numbers("scale");
  auto one = [&](const char* key) {
    auto v = r.numbers(key);
    return v.empty() ? 0.0 : v[0];
  };
  m.bias = one("bias");
  m.lambda = one("lambda");
  m.loo_rmse = one("loo_rmse");
  if (m.mean.size() != m.w.size() || m.scale.size() != m.w.size())
    d.error(node.loc, at + "w", "expected w, mean and scale of equal length");
  return m;
}

namespace {

double sqdist(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return s;
}

}  // namespace

GaussianProcess GaussianProcess::fit(const Matrix& x, const std::vector<double>& y) {
  GaussianProcess best;
  const size_t n = x.size();
  if (n == 0) return best;
  const double mean = std::accumulate(y.begin(), y.end(), 0.0) / static_cast<double>(n);
  double var = 0;
  for (double v : y) var += (v - mean) * (v - mean) / static_cast<double>(n);
  var = std::max(var, 1e-12);
  // Median pairwise distance sets the scale of the lengthscale grid.
  std::vector<double> dists;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) dists.push_back(std::sqrt(sqdist(x[i], x[j])));
  std::nth_element(dists.begin(), dists.begin() + static_cast<long>(dists.size() / 2), dists.end());
  const double med = dists.empty() || dists[dists.size() / 2] <= 0 ? 1 : dists[dists.size() / 2];
  double best_lml = -std::numeric_limits<double>::infinity();
  for (double ls : {0.25, 0.5, 1.0, 2.0, 4.0})
    for (double nz : {1e-3, 1e-2, 0.1, 0.3, 1.0}) {
      GaussianProcess g;
      g.x = x;
      g.mean = mean;
      g.signal = var;
      g.lengthscale = ls * med;
      g.noise = nz * var;
      std::vector<double> k(n * n);
      for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < n; ++j)
          k[i * n + j] = var * std::exp(-sqdist(x[i], x[j]) / (2 * g.lengthscale * g.lengthscale)) +
                         (i == j ? g.noise : 0);
      if (!cholesky(k, n)) continue;
      std::vector<double> alpha(n);
      for (size_t i = 0; i < n; ++i) alpha[i] = y[i] - mean;
      cholesky_solve(k, n, alpha);
      double lml = 0;
      for (size_t i = 0; i < n; ++i) lml -= 0.5 * (y[i] - mean) * alpha[i] + std::log(k[i * n + i]);
      if (lml > best_lml) {
        best_lml = lml;
        g.alpha = std::move(alpha);
        g.chol = std::move(k);
        best = std::move(g);
      }
    }
  return best;
}

std::pair<double, double> GaussianProcess::predict(const std::vector<double>& q) const {
  const size_t n = x.size();
  if (n == 0 || alpha.empty()) return {mean, std::sqrt(signal + noise)};
  std::vector<double> k(n);
  double m = mean;
  for (size_t i = 0; i < n; ++i) {
    k[i] = signal * std::exp(-sqdist(q, x[i]) / (2 * lengthscale * lengthscale));
    m += k[i] * alpha[i];
  }
  std::vector<double> v = k;
  cholesky_solve(chol, n, v);
  double var = signal + noise;
  for (size_t i = 0; i < n; ++i) var -= k[i] * v[i];
  return {m, std::sqrt(std::max(var, 1e-12))};
}

std::string GaussianProcess::to_json() const {
  std::ostringstream o;
  std::vector<double> flat;
  for (const auto& r : x) flat.insert(flat.end(), r.begin(), r.end());
  o << "{\"dims\": " << (x.empty() ? 0 : x[0].size()) << ", \"x\": " << json_numbers(flat)
    << ", \"alpha\": " << json_numbers(alpha) << ", \"chol\": " << json_numbers(chol)
    << ", \"hyper\": " << json_numbers({mean, signal, lengthscale, noise}) << "}";
  return o.str();
}

GaussianProcess GaussianProcess::from_json(const AstNode& node, const std::string& at,
                                           Diagnostics& d) {
  AstReader r(node, at, d);
  GaussianProcess g;
  const auto dims = static_cast<size_t>(r.number("dims"));
  const auto flat = r.numbers("x");
  g.alpha = r.numbers("alpha");
  g.chol = r.numbers("chol");
  const auto hyper = r.numbers("hyper");
  if (hyper.size() != 4 || (dims && flat.size() % dims) ||
      (dims && flat.size() / dims != g.alpha.size()) ||
      g.chol.size() != g.alpha.size() * g.alpha.size()) {
    d.error(node.loc, at, "expected a fitted GP (dims, x, alpha, chol, hyper of matching sizes)");
    return g;
  }
  for (size_t i = 0; dims && i < flat.size(); i += dims)
    g.x.emplace_back(flat.begin() + static_cast<long>(i),
                     flat.begin() + static_cast<long>(i + dims));
  g.mean = hyper[0];
  g.signal = hyper[1];
  g.lengthscale = hyper[2];
  g.noise = hyper[3];
  return g;
}

}  // namespace nasforge::predictors
