// The strategy registry, knob parsing and feasible proposing.
#include <algorithm>
#include <cmath>

#include "internal/common.h"
#include "nasforge/searchspace/diagnostics.h"
#include "nasforge/searchspace/metrics.h"

namespace nasforge::strategies {

const std::vector<StrategyInfo>& strategy_infos() {
  static const std::vector<StrategyInfo> infos = {
      {"random",
       "uniform random architectures (feasible ones, without repeats); the baseline every "
       "comparison needs",
       "Li & Talwalkar, Random Search and Reproducibility for NAS, UAI 2019; Yu et al., "
       "Evaluating the Search Phase of NAS, ICLR 2020",
       true,
       {}},
      {"rea",
       "regularized evolution: tournament selection, one mutation per child, the oldest member "
       "removed",
       "Real et al., Regularized Evolution for Image Classifier Architecture Search, AAAI 2019",
       false,
       {{"population", "20", "members kept (the oldest leaves when a child joins)"},
        {"sample", "5", "tournament size"}}},
      {"nsga2",
       "NSGA-II: non-dominated sorting, crowding distance, constrained domination; crossover "
       "and mutation",
       "Deb et al., A Fast and Elitist Multiobjective Genetic Algorithm: NSGA-II, IEEE TEC 2002",
       true,
       {{"population", "20", "parents per generation"},
        {"crossover", "0.5", "probability that a child is a crossover before its mutation"}}},
      {"pnas",
       "progressive SMBO: grows architectures decision group by group (cells: node by node), "
       "ranks expansions with an MLP-ensemble surrogate, keeps the top K",
       "Liu et al., Progressive Neural Architecture Search, ECCV 2018",
       false,
       {{"beam", "16", "partial architectures kept per level (K)"},
        {"initial", "20", "random architectures evaluated before the first surrogate"},
        {"completions", "8", "random completions that score a partial architecture"}}},
      {"epnas",
       "progressive SMBO that samples expansions in proportion to predicted quality instead of "
       "the greedy top K",
       "Perez-Rua et al., Efficient Progressive Neural Architecture Search, BMVC 2018",
       false,
       {{"beam", "16", "partial architectures kept per level (K)"},
        {"initial", "20", "random architectures evaluated before the first surrogate"},
        {"completions", "8", "random completions that score a partial architecture"},
        {"temperature", "0.5", "softmax temperature over standardised predicted quality"}}},
      {"bowl",
       "Bayesian optimisation with a Gaussian process on the Weisfeiler-Lehman graph kernel; "
       "candidates mutate the incumbents plus random samples",
       "Ru et al., Interpretable Neural Architecture Search via Bayesian Optimisation with "
       "Weisfeiler-Lehman Kernels, ICLR 2021",
       false,
       {{"initial", "10", "random architectures before the first GP"},
        {"acquisition", "ei", "ei (expected improvement) or ucb"},
        {"beta", "2", "UCB exploration weight"},
        {"candidates", "200", "candidates per round (mutants of the incumbents + random)"},
        {"incumbents", "10", "best architectures whose mutants are candidates"}}},
      {"reinforce",
       "an LSTM controller (LibTorch) that emits one decision at a time, trained with REINFORCE "
       "and an exponential-moving-average baseline",
       "Zoph & Le, Neural Architecture Search with Reinforcement Learning, ICLR 2017",
       false,
       {{"lr", "0.03", "Adam learning rate"},
        {"hidden", "64", "LSTM hidden size"},
        {"baseline_decay", "0.9", "decay of the reward's moving average"},
        {"entropy", "0.01", "entropy bonus weight"}}},
      {"linas",
       "NSGA-II on predictors re-fitted every iteration on the evaluated set; evaluates the "
       "predicted front (hardware-aware, DyNAS-T)",
       "Cummings et al., A Hardware-Aware Framework for Accelerating Neural Architecture Search "
       "Across Modalities (LINAS), 2022",
       true,
       {{"population", "50", "population of the inner NSGA-II on predicted objectives"},
        {"generations", "30", "inner generations per iteration"},
        {"initial", "30", "random architectures before the first predictors"},
        {"predictor", "mlp", "predictor per objective: mlp, gp or wl-gp"}}},
      {"list",
       "the architectures of a file, one per line (# comments), in order: re-scores a given "
       "set; the differentiable searches record their derived architectures with it",
       "-",
       true,
       {{"file", "", "the file of architecture strings"}},
       /*proposes=*/false},
  };
  return infos;
}

const StrategyInfo& info_of(const std::string& name) {
  for (const auto& i : strategy_infos())
    if (i.name == name) return i;
  return strategy_infos().front();
}

StatusOr<std::unique_ptr<Strategy>> make_strategy(const std::string& name, const Problem& p) {
  if (p.space == nullptr) return InvalidArgument("a strategy needs its search space");
  if (p.objectives == 0) return InvalidArgument("a strategy needs at least one objective");
  if (p.feasibility && !p.witness)
    return InvalidArgument("a feasibility check needs a feasible witness architecture");
  std::vector<std::string> names;
  const StrategyInfo* info = nullptr;
  for (const auto& i : strategy_infos()) {
    names.push_back(i.name);
    if (i.name == name) info = &i;
  }
  if (!info) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    std::string near = closest_match(name, names);
    return NotFound("unknown strategy '" + name + "'" +
                    (near.empty() ? "" : " (did you mean '" + near + "'?)") +
                    "; the strategies are " + list);
  }
  for (const auto& [k, v] : p.options) {
    bool known = false;
    std::vector<std::string> knobs;
    for (const auto& kb : info->knobs) {
      knobs.push_back(kb.name);
      known |= kb.name == k;
    }
    if (!known) {
      std::string list;
      for (const auto& n : knobs) list += (list.empty() ? "" : ", ") + n;
      return InvalidArgument("strategy " + name + " has no knob '" + k + "'" +
                             (knobs.empty() ? "; it has none" : "; its knobs are " + list));
    }
  }
  if (!info->multi_objective && p.objectives != 1)
    return InvalidArgument("strategy " + name + " optimises one objective, but " +
                           std::to_string(p.objectives) +
                           " were given; use nsga2, linas or random for several, or turn the "
                           "others into constraints");
  if (name == "random") return make_random(p);
  if (name == "rea") return make_rea(p);
  if (name == "nsga2") return make_nsga2(p);
  if (name == "pnas") return make_pnas(p, false);
  if (name == "epnas") return make_pnas(p, true);
  if (name == "bowl") return make_bowl(p);
  if (name == "reinforce") return make_reinforce(p);
  if (name == "list") return make_list(p);
  return make_linas(p);
}

Knobs::Knobs(const Problem& p, const std::string& strategy) : p_(p), info_(info_of(strategy)) {}

std::string Knobs::raw(const std::string& name) {
  auto it = p_.options.find(name);
  if (it != p_.options.end()) return it->second;
  for (const auto& k : info_.knobs)
    if (k.name == name) return k.default_value;
  return "";
}

void Knobs::bad(const std::string& name, const std::string& value, const std::string& expected) {
  if (status_.ok())
    status_ = InvalidArgument("strategy " + info_.name + ": knob " + name + ": expected " +
                              expected + ", got '" + value + "'");
}

int64_t Knobs::integer(const std::string& name, int64_t min, int64_t max) {
  const std::string v = raw(name);
  auto x = parse_number(v);
  if (!x || *x != std::floor(*x) || *x < min || *x > max) {
    bad(name, v, "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return min;
  }
  return static_cast<int64_t>(*x);
}

double Knobs::real(const std::string& name, double min, double max) {
  const std::string v = raw(name);
  auto x = parse_number(v);
  if (!x || !(*x >= min && *x <= max)) {
    bad(name, v, "a number in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return min;
  }
  return *x;
}

std::string Knobs::choice(const std::string& name, const std::vector<std::string>& allowed) {
  const std::string v = raw(name);
  if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return v;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : " or ") + a;
  bad(name, v, list);
  return allowed.front();
}

Architecture Proposer::repair(Architecture a) const {
  if (feasible(a)) return a;
  const Architecture& w = *p_.witness;
  // Decisions are copied from the witness in a random order, so that repeated repairs of
  // similar candidates land on different feasible architectures, not all on one.
  std::vector<size_t> order(a.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng_.uniform(i)]);
  for (size_t d : order) {
    if (a[d] == w[d]) continue;
    a[d] = w[d];
    Architecture n = a;
    space_.normalize(n);
    if (feasible(n)) return n;
  }
  return w;
}

Architecture Proposer::make(const std::function<Architecture()>& gen) const {
  Architecture last;
  for (int i = 0; i < kTries; ++i) {
    last = gen();
    if (feasible(last)) return last;
  }
  return repair(last);
}

Architecture Proposer::sample() const {
  return make([&] { return space_.sample(rng_); });
}

std::vector<double> normal_scores(const std::vector<double>& y) {
  const size_t n = y.size();
  std::vector<size_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return y[a] < y[b]; });
  std::vector<double> z(n);
  for (size_t r = 0; r < n; ++r) {
    size_t e = r;
    while (e + 1 < n && y[idx[e + 1]] == y[idx[r]]) ++e;
    const double q = (0.5 * static_cast<double>(r + e) + 0.5) / static_cast<double>(n);
    double lo = -8, hi = 8;  // the normal quantile of q, by bisection
    for (int it = 0; it < 60; ++it) {
      const double mid = 0.5 * (lo + hi);
      (0.5 * std::erfc(-mid / std::sqrt(2.0)) < q ? lo : hi) = mid;
    }
    for (size_t k = r; k <= e; ++k) z[idx[k]] = 0.5 * (lo + hi);
    r = e;
  }
  return z;
}

Architecture Proposer::sample_unseen(std::unordered_set<uint64_t>& seen) const {
  Architecture a = sample();
  for (int t = 0; t < kTries && seen.count(space_.canonical_hash(a)); ++t) a = sample();
  seen.insert(space_.canonical_hash(a));
  return a;
}

Architecture Proposer::mutate(const Architecture& a) const {
  const uint64_t from = space_.canonical_hash(a);
  Architecture fallback;
  bool have = false;
  for (int i = 0; i < kTries; ++i) {
    Architecture m = space_.mutate(a, rng_);
    if (!feasible(m)) continue;
    if (space_.canonical_hash(m) != from) return m;
    if (!have) fallback = m, have = true;
  }
  return have ? fallback : repair(space_.mutate(a, rng_));
}

Architecture Proposer::crossover(const Architecture& a, const Architecture& b) const {
  return make([&] { return space_.crossover(a, b, rng_); });
}

}  // namespace nasforge::strategies
