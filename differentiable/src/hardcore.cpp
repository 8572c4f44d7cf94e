// HardCoRe-NAS: exact block subproblems, the feasible start and the derived architecture's repair.
#include "nasforge/differentiable/hardcore.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

namespace nasforge::differentiable {

namespace {

std::vector<at::Tensor> as_tensors(const std::vector<std::vector<double>>& probs) {
  std::vector<at::Tensor> out;
  for (const auto& p : probs) out.push_back(torch::tensor(p, torch::kFloat64));
  return out;
}

}  // namespace

double expected_value(const ExpectedCost& cost, const std::vector<std::vector<double>>& probs) {
  torch::NoGradGuard no_grad;
  return cost(as_tensors(probs)).item<double>();
}

std::optional<std::vector<double>> simplex_lp(const std::vector<double>& g,
                                              const std::vector<double>& c, double bound) {
  const size_t n = g.size();
  std::optional<std::vector<double>> best;
  double best_value = std::numeric_limits<double>::infinity();
  auto consider = [&](std::vector<double> s, double value) {
    if (value < best_value) {
      best_value = value;
      best = std::move(s);
    }
  };
  for (size_t i = 0; i < n; ++i) {
    if (c[i] > bound) continue;
    std::vector<double> s(n, 0.0);
    s[i] = 1.0;
    consider(s, g[i]);
    // An edge towards an infeasible vertex with a better objective, to where the bound is tight.
    for (size_t j = 0; j < n; ++j) {
      if (c[j] <= bound || g[j] >= g[i]) continue;
      const double t = (bound - c[i]) / (c[j] - c[i]);
      std::vector<double> e(n, 0.0);
      e[i] = 1.0 - t;
      e[j] = t;
      consider(e, g[i] + t * (g[j] - g[i]));
    }
  }
  return best;
}

void frank_wolfe_sweep(std::vector<std::vector<double>>& probs,
                       const std::vector<std::vector<double>>& grads, const ExpectedCost& cost,
                       double bound, double step) {
  const double aim = bound * (1.0 - 1e-9);
  for (size_t d = 0; d < probs.size(); ++d) {
    if (probs[d].size() < 2) continue;
    // E = A + sum_v p_v B_v with B = dE/dp_d: the block's cost at each vertex is A + B_v.
    auto ts = as_tensors(probs);
    ts[d].set_requires_grad(true);
    at::Tensor e = cost(ts);
    at::Tensor b = torch::autograd::grad({e}, {ts[d]}, {}, false, false, true)[0];
    std::vector<double> c(probs[d].size());
    double rest = e.item<double>();
    for (size_t v = 0; v < c.size(); ++v)
      rest -= probs[d][v] * b[static_cast<int64_t>(v)].item<double>();
    for (size_t v = 0; v < c.size(); ++v) c[v] = rest + b[static_cast<int64_t>(v)].item<double>();
    auto s = simplex_lp(grads[d], c, aim);
    if (!s) continue;  // cannot happen from a feasible point: its own support meets the bound
    for (size_t v = 0; v < c.size(); ++v) probs[d][v] += step * ((*s)[v] - probs[d][v]);
  }
}

std::vector<std::vector<double>> feasible_start(const SearchSpace& space, const ExpectedCost& cost,
                                                double bound, const Architecture& feasible) {
  std::vector<std::vector<double>> uniform, one_hot;
  for (size_t d = 0; d < space.decisions().size(); ++d) {
    const size_t n = space.decisions()[d].domain.size();
    uniform.emplace_back(n, 1.0 / static_cast<double>(n));
    one_hot.emplace_back(n, 0.0);
    one_hot.back()[feasible[d]] = 1.0;
  }
  auto mix = [&](double t) {
    auto p = uniform;
    for (size_t d = 0; d < p.size(); ++d)
      for (size_t v = 0; v < p[d].size(); ++v)
        p[d][v] = (1 - t) * uniform[d][v] + t * one_hot[d][v];
    return p;
  };
  const double aim = bound * (1.0 - 1e-9);
  if (expected_value(cost, uniform) <= aim) return uniform;
  double lo = 0, hi = 1;  // E(mix(hi)) meets the bound
  for (int i = 0; i < 50; ++i) {
    const double mid = (lo + hi) / 2;
    (expected_value(cost, mix(mid)) <= aim ? hi : lo) = mid;
  }
  return mix(hi);
}

Architecture repair_to_bound(const SearchSpace& space, Architecture a,
                             const std::vector<std::vector<double>>& probs,
                             const ExpectedCost& cost, double bound, const Architecture& feasible) {
  space.normalize(a);
  for (size_t round = 0; round < 10 * space.decisions().size() + 10; ++round) {
    const double now = cost.at(a);
    if (now <= bound) return a;
    double best_score = std::numeric_limits<double>::infinity();
    Architecture best = a;
    for (size_t d = 0; d < space.decisions().size(); ++d) {
      if (!space.is_active(a, static_cast<int>(d))) continue;
      for (uint32_t v = 0; v < space.decisions()[d].domain.size(); ++v) {
        if (v == a[d]) continue;
        Architecture b = a;
        b[d] = v;
        space.normalize(b);
        const double saved = now - cost.at(b);
        if (saved <= 0) continue;
        const double lost =
            std::log(std::max(probs[d][a[d]], 1e-12)) - std::log(std::max(probs[d][v], 1e-12));
        const double score = lost / saved;
        if (score < best_score) {
          best_score = score;
          best = b;
        }
      }
    }
    if (best == a) break;
    a = best;
  }
  return cost.at(a) <= bound ? a : feasible;
}

}  // namespace nasforge::differentiable
