// The Weisfeiler-Lehman-kernel Gaussian process of NAS-BOWL (Ru et al., ICLR 2021).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "internal/accuracy.h"
#include "nasforge/predictors/accuracy.h"
#include "nasforge/predictors/models.h"

namespace nasforge::predictors {

std::vector<std::vector<std::string>> wl_labels(const LabelledDag& dag, int h) {
  const size_t n = dag.labels.size();
  std::vector<std::vector<int>> preds(n);
  for (auto [from, to] : dag.edges) preds[to].push_back(from);
  std::vector<std::vector<std::string>> out{dag.labels};
  for (int i = 1; i <= h; ++i) {
    const auto& prev = out.back();
    std::vector<std::string> next(n);
    for (size_t v = 0; v < n; ++v) {
      std::vector<const std::string*> in;
      for (int u : preds[v]) in.push_back(&prev[u]);
      std::sort(in.begin(), in.end(),
                [](const std::string* a, const std::string* b) { return *a < *b; });
      std::string s = prev[v] + "(";
      for (size_t k = 0; k < in.size(); ++k) s += (k ? "," : "") + *in[k];
      next[v] = s + ")";
    }
    out.push_back(std::move(next));
  }
  return out;
}

std::vector<WlGaussianProcess::Sparse> WlGaussianProcess::features(const Architecture& a) const {
  const int h = std::max(opt_.max_h, 0);
  auto labels = wl_labels(space_.dag(a), h);
  std::vector<Sparse> out(labels.size());
  uint32_t local = 0x80000000u;  // ids for motifs outside the vocabulary: they match nothing
  std::map<std::string, uint32_t> unseen;
  for (size_t i = 0; i < labels.size(); ++i) {
    std::map<uint32_t, double> counts;
    for (const auto& l : labels[i]) {
      const std::string key = std::to_string(i) + ":" + l;
      auto it = vocab_.find(key);
      uint32_t id;
      if (it != vocab_.end()) {
        id = it->second;
      } else {
        auto u = unseen.emplace(key, local);
        if (u.second) ++local;
        id = u.first->second;
      }
      counts[id] += 1;
    }
    out[i].assign(counts.begin(), counts.end());
  }
  return out;
}

double WlGaussianProcess::dot(const std::vector<Sparse>& a, const std::vector<Sparse>& b,
                              int h) const {
  double s = 0;
  for (int i = 0; i <= h; ++i) {
    const Sparse &x = a[i], &y = b[i];
    size_t p = 0, q = 0;
    while (p < x.size() && q < y.size()) {
      if (x[p].first == y[q].first) {
        s += x[p++].second * y[q++].second;
      } else if (x[p].first < y[q].first) {
        ++p;
      } else {
        ++q;
      }
    }
  }
  return s;
}

Status WlGaussianProcess::fit(const std::vector<Architecture>& archs,
                              const std::vector<double>& y) {
  if (archs.size() != y.size() || archs.empty())
    return InvalidArgument("wl-gp: expected as many values as architectures, and at least one");
  archs_ = archs;
  y_ = y;
  const size_t n = archs.size();
  // The vocabulary: every motif of the training set.
  vocab_.clear();
  vocab_labels_.clear();
  vocab_iter_.clear();
  for (const auto& a : archs) {
    auto labels = wl_labels(space_.dag(a), std::max(opt_.max_h, 0));
    for (size_t i = 0; i < labels.size(); ++i)
      for (const auto& l : labels[i]) {
        const std::string key = std::to_string(i) + ":" + l;
        if (vocab_.emplace(key, static_cast<uint32_t>(vocab_labels_.size())).second) {
          vocab_labels_.push_back(l);
          vocab_iter_.push_back(static_cast<int>(i));
        }
      }
  }
  train_.clear();
  for (const auto& a : archs) train_.push_back(features(a));
  ymean_ = 0;
  for (double v : y) ymean_ += v / static_cast<double>(n);
  double var = 0;
  for (double v : y) var += (v - ymean_) * (v - ymean_) / static_cast<double>(n);
  ystd_ = var > 1e-24 ? std::sqrt(var) : 1;
  std::vector<double> z(n);
  for (size_t i = 0; i < n; ++i) z[i] = (y[i] - ymean_) / ystd_;

  std::vector<bool> norms;
  if (opt_.norm != Options::Norm::kRaw) norms.push_back(true);
  if (opt_.norm != Options::Norm::kNormalised) norms.push_back(false);
  lml_ = -std::numeric_limits<double>::infinity();
  bool found = false;
  std::vector<double> gram(n * n);
  const int h_lo = opt_.fixed_h >= 0 ? std::min(opt_.fixed_h, opt_.max_h) : 0;
  const int h_hi = opt_.fixed_h >= 0 ? h_lo : std::max(opt_.max_h, 0);
  std::vector<double> noises = {1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.3};
  if (opt_.fixed_h >= 0) noises = {opt_.fixed_noise};
  for (int h = h_lo; h <= h_hi; ++h) {
    for (size_t i = 0; i < n; ++i)
      for (size_t j = i; j < n; ++j)
        gram[i * n + j] = gram[j * n + i] = dot(train_[i], train_[j], h);
    double mean_diag = 0;
    for (size_t i = 0; i < n; ++i) mean_diag += gram[i * n + i] / static_cast<double>(n);
    for (bool norm : norms) {
      for (double nz : noises) {
        std::vector<double> k(n * n);
        for (size_t i = 0; i < n; ++i)
          for (size_t j = 0; j < n; ++j) {
            double v = gram[i * n + j];
            v = norm ? v / std::sqrt(gram[i * n + i] * gram[j * n + j]) : v / mean_diag;
            k[i * n + j] = v + (i == j ? nz : 0);
          }
        if (!cholesky(k, n)) continue;
        std::vector<double> alpha = z;
        cholesky_solve(k, n, alpha);
        double lml = -0.5 * static_cast<double>(n) * std::log(2 * M_PI);
        for (size_t i = 0; i < n; ++i) lml -= 0.5 * z[i] * alpha[i] + std::log(k[i * n + i]);
        if (lml > lml_) {
          lml_ = lml;
          h_ = h;
          normalised_ = norm;
          noise_ = nz;
          scale_ = norm ? 1 : 1 / mean_diag;
          alpha_ = std::move(alpha);
          chol_ = std::move(k);
          found = true;
        }
      }
    }
  }
  if (!found) return InvalidArgument("wl-gp: no kernel setting gave a positive definite matrix");
  self_.resize(n);
  for (size_t i = 0; i < n; ++i) self_[i] = dot(train_[i], train_[i], h_);
  return Status::Ok();
}

Prediction WlGaussianProcess::predict(const Architecture& a) const {
  const size_t n = train_.size();
  if (n == 0) return {ymean_, ystd_};
  auto f = features(a);
  const double self = dot(f, f, h_);
  std::vector<double> k(n);
  double m = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = dot(f, train_[i], h_);
    k[i] =
        normalised_ ? (self > 0 && self_[i] > 0 ? d / std::sqrt(self * self_[i]) : 0) : d * scale_;
    m += k[i] * alpha_[i];
  }
  // Posterior variance: k(x,x) - |L^-1 k|^2, by forward substitution.
  double kxx = normalised_ ? 1.0 : self * scale_;
  for (size_t i = 0; i < n; ++i) {
    double s = k[i];
    for (size_t j = 0; j < i; ++j) s -= chol_[i * n + j] * k[j];
    k[i] = s / chol_[i * n + i];
    kxx -= k[i] * k[i];
  }
  return {ymean_ + ystd_ * m, ystd_ * std::sqrt(std::max(kxx, 1e-12))};
}

std::vector<Motif> WlGaussianProcess::motifs(int min_support) const {
  const size_t n = train_.size(), v = vocab_labels_.size();
  std::vector<Motif> out;
  if (n == 0) return out;
  // mu(x) = sum_j alpha_j k(x, x_j). With the normalised kernel, d mu / d phi_f(x) =
  // W_f / |x| - phi_f(x) m(x) / |x|^2, where W_f = sum_j alpha_j phi_f(x_j) / |x_j| and m(x) is
  // the centred mean; with the raw kernel it is scale * sum_j alpha_j phi_f(x_j).
  std::vector<double> w(v, 0.0), sum(v, 0.0), lo(v, 0.0), hi(v, 0.0);
  std::vector<int> support(v, 0);
  for (size_t j = 0; j < n; ++j)
    for (int i = 0; i <= h_; ++i)
      for (auto [id, c] : train_[j][i])
        w[id] += alpha_[j] * c * (normalised_ ? 1 / std::sqrt(self_[j]) : scale_);
  for (size_t x = 0; x < n; ++x) {
    double m = 0;
    for (size_t j = 0; j < n; ++j) {
      double d = dot(train_[x], train_[j], h_);
      m += alpha_[j] * (normalised_ ? d / std::sqrt(self_[x] * self_[j]) : d * scale_);
    }
    const double norm = std::sqrt(self_[x]);
    for (int i = 0; i <= h_; ++i)
      for (auto [id, c] : train_[x][i]) {
        sum[id] += normalised_ ? w[id] / norm - c * m / (norm * norm) : w[id];
        lo[id] = support[id] == 0 ? c : std::min(lo[id], c);
        hi[id] = std::max(hi[id], c);
        ++support[id];
      }
  }
  for (size_t id = 0; id < v; ++id) {
    if (support[id] < min_support || vocab_iter_[id] > h_) continue;
    // A motif every architecture has the same number of times tells nothing apart.
    if (support[id] == static_cast<int>(n) && lo[id] == hi[id]) continue;
    out.push_back({vocab_labels_[id], vocab_iter_[id], ystd_ * sum[id] / support[id], support[id]});
  }
  std::sort(out.begin(), out.end(), [](const Motif& a, const Motif& b) {
    if (std::abs(a.effect) != std::abs(b.effect)) return std::abs(a.effect) > std::abs(b.effect);
    return a.iteration != b.iteration ? a.iteration < b.iteration : a.label < b.label;
  });
  // A deeper motif found in exactly the same architectures with the same effect is the same
  // pattern refined (a leaf's "()" suffix): keep the shallowest.
  std::vector<Motif> kept;
  for (const auto& m : out) {
    bool same = false;
    for (const auto& k : kept)
      same |= k.support == m.support &&
              std::abs(k.effect - m.effect) < 1e-9 * (1 + std::abs(k.effect)) &&
              m.label.compare(0, k.label.size(), k.label) == 0;
    if (!same) kept.push_back(m);
  }
  return kept;
}

std::string WlGaussianProcess::to_json() const {
  std::ostringstream o;
  o << "{\"predictor\": \"wl-gp\", \"space_fingerprint\": \"" << space_.fingerprint()
    << "\", \"max_h\": " << opt_.max_h << ", \"norm\": \""
    << (opt_.norm == Options::Norm::kChoose       ? "choose"
        : opt_.norm == Options::Norm::kNormalised ? "normalised"
                                                  : "raw")
    << "\", \"chosen_h\": " << h_ << ", \"chosen_normalised\": " << (normalised_ ? 1 : 0)
    << ", \"chosen_noise\": " << json_numbers({noise_}) << ", "
    << training_set_json(space_, archs_, y_) << "}\n";
  return o.str();
}

}  // namespace nasforge::predictors
