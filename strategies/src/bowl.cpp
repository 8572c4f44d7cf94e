// NAS-BOWL (Ru et al., ICLR 2021): Bayesian optimisation with a Gaussian process on the
// Weisfeiler-Lehman graph kernel. Each round fits the WL-GP on the evaluated architectures
// (h, the kernel normalisation and the noise by marginal likelihood every few rounds, the
// cheap fixed-hyperparameter fit between), draws candidates by mutating the incumbents (one and
// two mutations) plus uniform samples, and proposes those with the highest expected
// improvement (or UCB) that have not been proposed before. Trials still pending (an
// asynchronous driver) enter the fit with a constant lie (internal/pending.h).
#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "internal/common.h"
#include "internal/pending.h"
#include "nasforge/predictors/accuracy.h"

namespace nasforge::strategies {
namespace {

class Bowl : public Strategy {
 public:
  Bowl(const Problem& p, size_t initial, bool ucb, double beta, size_t candidates,
       size_t incumbents)
      : p_(p),
        rng_(p.seed),
        prop_(p_, rng_),
        initial_(initial),
        ucb_(ucb),
        beta_(beta),
        candidates_(candidates),
        incumbents_(incumbents),
        gp_(*p.space),
        obs_(*p.space) {}

  std::string name() const override { return "bowl"; }

  std::vector<Architecture> ask(size_t n) override {
    auto out = propose(n);
    obs_.asked(out);
    return out;
  }

  void tell(const std::vector<Trial>& trials) override { obs_.told(trials); }

 private:
  static constexpr size_t kSearchEvery = 10;  // evaluations between hyperparameter searches

  std::vector<Architecture> propose(size_t n) {
    const SearchSpace& s = *p_.space;
    std::vector<Architecture> out;
    while (out.size() < n && asked_ < initial_) out.push_back(fresh(prop_.sample())), ++asked_;
    if (out.size() == n) return out;
    const auto& observed = obs_.x();
    const auto& scores = obs_.y();
    if (observed.size() < 2) {
      while (out.size() < n) out.push_back(fresh(prop_.sample())), ++asked_;
      return out;
    }
    fit();
    // Candidates: mutants of the best evaluated architectures, then uniform samples.
    std::vector<size_t> order(observed.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    std::vector<Architecture> cands;
    std::unordered_set<uint64_t> seen;
    auto add = [&](const Architecture& a) {
      const uint64_t h = s.canonical_hash(a);
      if (!proposed_.count(h) && seen.insert(h).second) cands.push_back(a);
    };
    const size_t top = std::min(incumbents_, order.size());
    for (size_t k = 0; k < candidates_ * 3 / 4 && top > 0; ++k) {
      Architecture m = prop_.mutate(observed[order[k % top]]);
      if (k % 2 == 1) m = prop_.mutate(m);
      add(m);
    }
    for (size_t tries = 0; cands.size() < candidates_ && tries < 2 * candidates_; ++tries)
      add(prop_.sample());
    auto preds = gp_.predict_batch(cands);
    const double best = *std::max_element(z_.begin(), z_.end());
    std::vector<double> acq(cands.size());
    for (size_t i = 0; i < cands.size(); ++i) {
      const double mu = preds[i].mean, sd = std::max(preds[i].std, 1e-9);
      if (ucb_) {
        acq[i] = mu + beta_ * sd;
      } else {
        const double z = (mu - best) / sd;
        acq[i] = (mu - best) * 0.5 * std::erfc(-z / std::sqrt(2.0)) +
                 sd * std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI);
      }
    }
    std::vector<size_t> idx(cands.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return acq[a] > acq[b]; });
    for (size_t i : idx) {
      if (out.size() == n) break;
      out.push_back(fresh(cands[i]));
    }
    while (out.size() < n) out.push_back(fresh(prop_.sample()));
    asked_ += out.size();
    return out;
  }

  // Fits the GP on the observations and the pending trials' lies; z_ holds the normal scores
  // of both (the lies, being the worst, never raise the incumbent).
  void fit() {
    if (fitted_on_ == obs_.key()) return;
    fitted_on_ = obs_.key();
    const auto [x, y] = obs_.with_lies();
    z_ = normal_scores(y);
    auto& o = gp_.options();
    if (obs_.x().size() >= searched_at_ + kSearchEvery || o.fixed_h < 0) {
      o.fixed_h = -1;
      o.norm = predictors::WlGaussianProcess::Options::Norm::kChoose;
      if (gp_.fit(x, z_).ok()) {
        o.fixed_h = gp_.h();
        o.fixed_noise = gp_.noise();
        o.norm = gp_.normalised() ? predictors::WlGaussianProcess::Options::Norm::kNormalised
                                  : predictors::WlGaussianProcess::Options::Norm::kRaw;
        searched_at_ = obs_.x().size();
      }
      return;
    }
    if (!gp_.fit(x, z_).ok()) {
      o.fixed_h = -1;
      o.norm = predictors::WlGaussianProcess::Options::Norm::kChoose;
      (void)gp_.fit(x, z_);
    }
  }

  Architecture fresh(Architecture a) {
    proposed_.insert(p_.space->canonical_hash(a));
    return a;
  }

  Problem p_;
  Rng rng_;
  Proposer prop_;
  size_t initial_;
  bool ucb_;
  double beta_;
  size_t candidates_, incumbents_, asked_ = 0, searched_at_ = 0;
  predictors::WlGaussianProcess gp_;
  std::unordered_set<uint64_t> proposed_;
  Observations obs_;
  std::vector<double> z_;  // normal scores of the last fit's values
  // x_.size() and the pending set at the last fit: refit only when something changed.
  std::pair<size_t, uint64_t> fitted_on_{0, 0};
};

}  // namespace

StatusOr<std::unique_ptr<Strategy>> make_bowl(const Problem& p) {
  Knobs k(p, "bowl");
  auto initial = k.integer("initial", 1, 100000);
  auto acq = k.choice("acquisition", {"ei", "ucb"});
  auto beta = k.real("beta", 0, 100);
  auto cands = k.integer("candidates", 1, 1000000);
  auto inc = k.integer("incumbents", 1, 100000);
  if (!k.status().ok()) return k.status();
  return std::unique_ptr<Strategy>(new Bowl(p, initial, acq == "ucb", beta, cands, inc));
}

}  // namespace nasforge::strategies
