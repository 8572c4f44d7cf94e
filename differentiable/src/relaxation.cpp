// The architecture distribution, Max-W weighting, derivation and the distribution's diagnostics.
#include "nasforge/differentiable/relaxation.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace nasforge::differentiable {

namespace {

bool is_none(const Domain& d, size_t v) { return v < d.names.size() && d.names[v] == "none"; }

bool is_parameter_free(const Domain& d, size_t v) {
  if (v >= d.names.size()) return false;
  const std::string& n = d.names[v];
  return n == "none" || n == "skip_connect" || n == "identity" || n == "zero";
}

// The most probable live value, `none` only when nothing else is live.
uint32_t best_value(const Domain& d, const std::vector<double>& p, const std::vector<bool>& alive) {
  int best = -1;
  for (int pass = 0; pass < 2 && best < 0; ++pass)
    for (size_t v = 0; v < p.size(); ++v) {
      if (!alive[v] || (pass == 0 && is_none(d, v))) continue;
      if (best < 0 || p[v] > p[static_cast<size_t>(best)]) best = static_cast<int>(v);
    }
  return static_cast<uint32_t>(std::max(best, 0));
}

}  // namespace

ArchDistribution::ArchDistribution(const SearchSpace& space, Parameterization p, double init_std,
                                   Rng& rng)
    : param_(p) {
  for (const auto& d : space.decisions()) {
    const size_t n = d.domain.size();
    std::vector<float> v(n);
    for (auto& x : v) {
      if (p == Parameterization::kSimplex) {
        x = static_cast<float>(1.0 / static_cast<double>(n));
      } else {  // Box-Muller from the seeded generator
        const double u1 = std::max(rng.uniform01(), 1e-12), u2 = rng.uniform01();
        x = static_cast<float>(init_std * std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2));
      }
    }
    theta_.push_back(torch::tensor(v).set_requires_grad(true));
    alive_.emplace_back(n, true);
  }
}

void ArchDistribution::prune(size_t decision, size_t value) { alive_[decision][value] = false; }

size_t ArchDistribution::alive_count(size_t decision) const {
  return static_cast<size_t>(std::count(alive_[decision].begin(), alive_[decision].end(), true));
}

std::vector<at::Tensor> ArchDistribution::probs(double temperature) const {
  std::vector<at::Tensor> out;
  for (size_t d = 0; d < theta_.size(); ++d) {
    if (param_ == Parameterization::kSimplex) {
      out.push_back(theta_[d]);
      continue;
    }
    const bool all_alive = alive_count(d) == alive_[d].size();
    at::Tensor z = theta_[d] / temperature;
    if (!all_alive) {
      std::vector<float> mask(alive_[d].size());
      for (size_t v = 0; v < mask.size(); ++v) mask[v] = alive_[d][v] ? 0.f : -INFINITY;
      z = z + torch::tensor(mask);
    }
    out.push_back(torch::softmax(z, 0));
  }
  return out;
}

std::vector<std::vector<double>> ArchDistribution::probs_values() const {
  torch::NoGradGuard no_grad;
  std::vector<std::vector<double>> out;
  for (const auto& p : probs()) {
    auto c = p.to(torch::kFloat64).contiguous();
    out.emplace_back(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  }
  return out;
}

supernet::ArchWeights max_w(const std::vector<at::Tensor>& probs) {
  supernet::ArchWeights w;
  for (const auto& p : probs) w.probs.push_back(1.0 - p.max() + p);
  return w;
}

Architecture derive(const SearchSpace& space, const std::vector<std::vector<double>>& probs,
                    const std::vector<std::vector<bool>>& alive) {
  const auto& ds = space.decisions();
  Architecture a(std::vector<uint32_t>(ds.size(), 0));
  for (size_t d = 0; d < ds.size(); ++d) a[d] = best_value(ds[d].domain, probs[d], alive[d]);
  // DARTS's top-k per node of a choose-k cell, from the joint of the input set and the ops.
  for (const auto& cell : space.cells()) {
    for (const auto& ch : cell.choices) {
      const auto& set_p = probs[static_cast<size_t>(ch.inputs)];
      const Domain& ops = ds[static_cast<size_t>(ch.ops[0])].domain;
      std::vector<std::vector<double>> coef(static_cast<size_t>(ch.node),
                                            std::vector<double>(ops.size(), 0.0));
      for (size_t s = 0; s < ch.input_sets.size(); ++s)
        for (size_t slot = 0; slot < ch.input_sets[s].size(); ++slot) {
          const auto& op_p = probs[static_cast<size_t>(ch.ops[slot])];
          const auto& op_alive = alive[static_cast<size_t>(ch.ops[slot])];
          for (size_t o = 0; o < ops.size(); ++o)
            if (op_alive[o] && alive[static_cast<size_t>(ch.inputs)][s])
              coef[static_cast<size_t>(ch.input_sets[s][slot])][o] += set_p[s] * op_p[o];
        }
      std::vector<std::pair<double, int>> strength;
      for (int j = 0; j < ch.node; ++j) {
        double best = -1;
        for (size_t o = 0; o < ops.size(); ++o)
          if (!is_none(ops, o)) best = std::max(best, coef[static_cast<size_t>(j)][o]);
        strength.emplace_back(-best, j);  // strongest first, ties to the lower index
      }
      std::sort(strength.begin(), strength.end());
      const size_t k = ch.input_sets.empty() ? 0 : ch.input_sets[0].size();
      std::vector<int> chosen;
      for (size_t i = 0; i < k && i < strength.size(); ++i) chosen.push_back(strength[i].second);
      std::sort(chosen.begin(), chosen.end());
      auto it = std::find(ch.input_sets.begin(), ch.input_sets.end(), chosen);
      if (it == ch.input_sets.end()) continue;  // keep the per-decision argmax
      a[static_cast<size_t>(ch.inputs)] = static_cast<uint32_t>(it - ch.input_sets.begin());
      for (size_t slot = 0; slot < chosen.size(); ++slot) {
        const auto& c = coef[static_cast<size_t>(chosen[slot])];
        std::vector<bool> live(ops.size(), true);
        a[static_cast<size_t>(ch.ops[slot])] = best_value(ops, c, live);
      }
    }
  }
  space.normalize(a);
  return a;
}

double mean_entropy(const std::vector<std::vector<double>>& probs) {
  double sum = 0;
  size_t n = 0;
  for (const auto& p : probs) {
    if (p.size() < 2) continue;
    double h = 0;
    for (double x : p)
      if (x > 0) h -= x * std::log(x);
    sum += h / std::log(static_cast<double>(p.size()));
    ++n;
  }
  return n ? sum / static_cast<double>(n) : 0.0;
}

double parameter_free_share(const SearchSpace& space,
                            const std::vector<std::vector<double>>& probs) {
  size_t offered = 0, taken = 0;
  for (size_t d = 0; d < probs.size(); ++d) {
    const Domain& dom = space.decisions()[d].domain;
    bool offers = false;
    for (size_t v = 0; v < dom.size(); ++v) offers = offers || is_parameter_free(dom, v);
    if (!offers) continue;
    ++offered;
    const size_t arg =
        static_cast<size_t>(std::max_element(probs[d].begin(), probs[d].end()) - probs[d].begin());
    taken += is_parameter_free(dom, arg);
  }
  return offered ? static_cast<double>(taken) / static_cast<double>(offered) : -1.0;
}

}  // namespace nasforge::differentiable
