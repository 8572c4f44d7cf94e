// Progressive SMBO (PNAS, Liu et al. 2018) and its sampled variant (EPNAS, Perez-Rua et al. 2018).
//
// The decisions are grouped by label prefix ("search.node2.*", "stage1.block2.*"), so a cell is
// grown node by node and a block stage block by block. A pass starts from the empty partial
// architecture; at level l every partial in the beam is expanded by every value combination of
// group l, each expansion is scored by the surrogate (an MLP ensemble fitted on everything
// evaluated so far) averaged over random completions, and the beam keeps the best K (PNAS) or K
// drawn in proportion to exp(z / T) of the standardised score (EPNAS). For each kept partial the
// best-predicted completion not yet evaluated is evaluated; the surrogate is refitted and the
// next level begins. When the last group is fixed a new pass starts with the refined surrogate.
// Trials still pending (an asynchronous driver) enter the fit with a constant lie
// (internal/pending.h).
#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <unordered_set>

#include "internal/common.h"
#include "internal/pending.h"
#include "nasforge/predictors/accuracy.h"

namespace nasforge::strategies {
namespace {

std::vector<std::vector<int>> decision_groups(const SearchSpace& s) {
  std::vector<std::vector<int>> groups;
  std::map<std::string, size_t> index;
  for (size_t d = 0; d < s.decisions().size(); ++d) {
    const std::string& label = s.decisions()[d].label;
    const size_t dot = label.rfind('.');
    const std::string prefix = dot == std::string::npos ? label : label.substr(0, dot);
    auto it = index.find(prefix);
    if (it == index.end()) {
      index.emplace(prefix, groups.size());
      groups.push_back({static_cast<int>(d)});
    } else {
      groups[it->second].push_back(static_cast<int>(d));
    }
  }
  return groups;
}

class Progressive : public Strategy {
 public:
  Progressive(const Problem& p, bool sampled, size_t beam, size_t initial, size_t completions,
              double temperature)
      : p_(p),
        rng_(p.seed),
        prop_(p_, rng_),
        sampled_(sampled),
        beam_size_(beam),
        initial_(initial),
        completions_(completions),
        temperature_(temperature),
        groups_(decision_groups(*p.space)) {}

  std::string name() const override { return sampled_ ? "epnas" : "pnas"; }

  std::vector<Architecture> ask(size_t n) override {
    std::vector<Architecture> out;
    while (out.size() < n) {
      if (queue_.empty()) refill();
      if (queue_.empty()) {  // nothing new to propose: fall back to a random feasible one
        out.push_back(prop_.sample());
        continue;
      }
      out.push_back(queue_.front());
      queue_.pop_front();
    }
    for (const auto& a : out) proposed_.insert(p_.space->canonical_hash(a));
    obs_.asked(out);
    return out;
  }

  void tell(const std::vector<Trial>& trials) override { obs_.told(trials); }

 private:
  static constexpr size_t kMaxCombos = 256;

  // Queues the next level's evaluations (or the initial random ones).
  void refill() {
    const SearchSpace& s = *p_.space;
    if (asked_initial_ < initial_ || obs_.x().size() < 2) {
      for (; asked_initial_ < initial_; ++asked_initial_)
        queue_.push_back(prop_.sample_unseen(proposed_));
      if (queue_.empty()) queue_.push_back(prop_.sample_unseen(proposed_));
      return;
    }
    const auto key = obs_.key();
    if (!surrogate_ || fitted_on_ != key) {  // refit only when something changed
      surrogate_ =
          predictors::make_accuracy_predictor(predictors::AccuracyModel::kMlp, s, rng_.next());
      fitted_on_ = key;
      const auto [x, y] = obs_.with_lies();
      if (!surrogate_->fit(x, normal_scores(y)).ok()) {
        surrogate_.reset();
        return;
      }
    }

    if (groups_.empty()) {  // a space without decisions: its one architecture, again
      queue_.push_back(prop_.sample_unseen(proposed_));
      return;
    }
    if (level_ == 0) beam_ = {Architecture(std::vector<uint32_t>(s.decisions().size(), 0))};
    // Expand every partial by every combination of the next group.
    const auto& group = groups_[level_];
    std::vector<Architecture> cands;
    std::unordered_set<Architecture, ArchitectureHash> seen;
    for (const auto& partial : beam_)
      for (const auto& combo : combos(group)) {
        Architecture c = partial;
        for (size_t k = 0; k < group.size(); ++k) c[group[k]] = combo[k];
        if (seen.insert(fixed_part(c, level_ + 1)).second) cands.push_back(c);
      }
    // Score each by the mean prediction over feasible completions; remember the best completion
    // that has not been proposed yet.
    std::vector<double> score(cands.size(), -1e300);
    std::vector<Architecture> pick(cands.size());
    std::vector<bool> has_pick(cands.size(), false);
    const bool last = level_ + 1 == groups_.size();
    for (size_t i = 0; i < cands.size(); ++i) {
      std::vector<Architecture> comps;
      for (size_t c = 0; c < (last ? 1 : completions_); ++c) {
        Architecture a = complete(cands[i], level_ + 1);
        if (prop_.feasible(a)) comps.push_back(std::move(a));
      }
      if (comps.empty()) continue;
      auto preds = surrogate_->predict_batch(comps);
      double sum = 0, best = -1e300;
      for (size_t c = 0; c < comps.size(); ++c) {
        sum += preds[c].mean;
        if (preds[c].mean > best && !proposed_.count(s.canonical_hash(comps[c]))) {
          best = preds[c].mean;
          pick[i] = comps[c];
          has_pick[i] = true;
        }
      }
      score[i] = sum / static_cast<double>(comps.size());
    }
    auto keep = select(score);
    beam_.clear();
    std::unordered_set<uint64_t> queued;
    for (size_t i : keep) {
      beam_.push_back(cands[i]);
      if (has_pick[i] && queued.insert(s.canonical_hash(pick[i])).second) queue_.push_back(pick[i]);
    }
    level_ = last ? 0 : level_ + 1;
  }

  // Indices of the candidates to keep: the top K, or K drawn without replacement in proportion
  // to exp(z / T).
  std::vector<size_t> select(const std::vector<double>& score) {
    std::vector<size_t> idx;
    for (size_t i = 0; i < score.size(); ++i)
      if (score[i] > -1e300) idx.push_back(i);
    const size_t k = std::min(beam_size_, idx.size());
    if (!sampled_) {
      std::stable_sort(idx.begin(), idx.end(),
                       [&](size_t a, size_t b) { return score[a] > score[b]; });
      idx.resize(k);
      return idx;
    }
    double mean = 0, var = 0;
    for (size_t i : idx) mean += score[i] / static_cast<double>(idx.size());
    for (size_t i : idx)
      var += (score[i] - mean) * (score[i] - mean) / static_cast<double>(idx.size());
    const double sd = var > 0 ? std::sqrt(var) : 1;
    std::vector<double> w;
    for (size_t i : idx) w.push_back(std::exp((score[i] - mean) / sd / temperature_));
    std::vector<size_t> out;
    while (out.size() < k) {
      double total = 0;
      for (double x : w) total += x;
      double r = rng_.uniform01() * total;
      size_t j = 0;
      while (j + 1 < w.size() && (r -= w[j]) > 0) ++j;
      out.push_back(idx[j]);
      idx.erase(idx.begin() + static_cast<long>(j));
      w.erase(w.begin() + static_cast<long>(j));
    }
    return out;
  }

  // Every value combination of a group (or kMaxCombos random ones when there are more).
  std::vector<std::vector<uint32_t>> combos(const std::vector<int>& group) {
    const auto& ds = p_.space->decisions();
    double total = 1;
    for (int d : group) total *= static_cast<double>(ds[d].domain.size());
    std::vector<std::vector<uint32_t>> out;
    if (total <= kMaxCombos) {
      std::vector<uint32_t> c(group.size(), 0);
      while (true) {
        out.push_back(c);
        size_t k = 0;
        while (k < group.size() && ++c[k] == ds[group[k]].domain.size()) c[k++] = 0;
        if (k == group.size()) break;
      }
      return out;
    }
    for (size_t i = 0; i < kMaxCombos; ++i) {
      std::vector<uint32_t> c;
      for (int d : group) c.push_back(static_cast<uint32_t>(rng_.uniform(ds[d].domain.size())));
      out.push_back(std::move(c));
    }
    return out;
  }

  // The decisions of the first `levels` groups (others zeroed), normalised.
  Architecture fixed_part(Architecture a, size_t levels) const {
    for (size_t g = levels; g < groups_.size(); ++g)
      for (int d : groups_[g]) a[d] = 0;
    p_.space->normalize(a);
    return a;
  }

  // Fills the groups past `levels` uniformly at random.
  Architecture complete(Architecture a, size_t levels) {
    const auto& ds = p_.space->decisions();
    for (size_t g = levels; g < groups_.size(); ++g)
      for (int d : groups_[g]) a[d] = static_cast<uint32_t>(rng_.uniform(ds[d].domain.size()));
    p_.space->normalize(a);
    return a;
  }

  Problem p_;
  Rng rng_;
  Proposer prop_;
  bool sampled_;
  size_t beam_size_, initial_, completions_;
  double temperature_;
  std::vector<std::vector<int>> groups_;
  size_t level_ = 0, asked_initial_ = 0;
  std::vector<Architecture> beam_;
  std::deque<Architecture> queue_;
  std::unordered_set<uint64_t> proposed_;
  std::unique_ptr<predictors::Predictor> surrogate_;
  Observations obs_{*p_.space};
  std::pair<size_t, uint64_t> fitted_on_{0, 0};  // x_.size() and pending set at the fit
};

}  // namespace

StatusOr<std::unique_ptr<Strategy>> make_pnas(const Problem& p, bool sampled) {
  Knobs k(p, sampled ? "epnas" : "pnas");
  auto beam = k.integer("beam", 1, 100000);
  auto initial = k.integer("initial", 2, 100000);
  auto completions = k.integer("completions", 1, 1000);
  double temperature = sampled ? k.real("temperature", 1e-3, 1e3) : 1;
  if (!k.status().ok()) return k.status();
  return std::unique_ptr<Strategy>(
      new Progressive(p, sampled, beam, initial, completions, temperature));
}

}  // namespace nasforge::strategies
