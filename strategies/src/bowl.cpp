// NAS-BOWL (Ru et al., ICLR 2021): Bayesian optimisation with a Gaussian process on the
// Weisfeiler-Lehman graph kernel. Each round fits the WL-GP on the evaluated architectures
// (h, the kernel normalisation and the noise by marginal likelihood every few rounds, the
// cheap fixed-hyperparameter fit between), draws candidates by mutating the incumbents (one and
// two mutations) plus uniform samples, and proposes those with the highest expected
// improvement (or UCB) that have not been proposed before.
#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "internal/common.h"
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
        gp_(*p.space) {}

  std::string name() const override { return "bowl"; }

  std::vector<Architecture> ask(size_t n) override {
    const SearchSpace& s = *p_.space;
    std::vector<Architecture> out;
    while (out.size() < n && asked_ < initial_) out.push_back(fresh(prop_.sample())), ++asked_;
    if (out.size() == n) return out;
    if (x_.size() < 2) {
      while (out.size() < n) out.push_back(fresh(prop_.sample())), ++asked_;
      return out;
    }
    fit();
    // Candidates: mutants of the best evaluated architectures, then uniform samples.
    std::vector<size_t> order(x_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return y_[a] > y_[b]; });
    std::vector<Architecture> cands;
    std::unordered_set<uint64_t> seen;
    auto add = [&](const Architecture& a) {
      const uint64_t h = s.canonical_hash(a);
      if (!proposed_.count(h) && seen.insert(h).second) cands.push_back(a);
    };
    const size_t top = std::min(incumbents_, order.size());
    for (size_t k = 0; k < candidates_ * 3 / 4 && top > 0; ++k) {
      Architecture m = prop_.mutate(x_[order[k % top]]);
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

  void tell(const std::vector<Trial>& trials) override {
    // A repeat (the driver tells it back with its first result) adds nothing to the model.
    for (const Trial& t : trials)
      if (t.feasible() && told_.insert(p_.space->canonical_hash(t.arch)).second) {
        x_.push_back(t.arch);
        y_.push_back(t.score[0]);
      }
  }

 private:
  static constexpr size_t kSearchEvery = 10;  // evaluations between hyperparameter searches

  void fit() {
    if (fitted_on_ == x_.size()) return;
    fitted_on_ = x_.size();
    z_ = normal_scores(y_);
    auto& o = gp_.options();
    if (x_.size() >= searched_at_ + kSearchEvery || o.fixed_h < 0) {
      o.fixed_h = -1;
      o.norm = predictors::WlGaussianProcess::Options::Norm::kChoose;
      if (gp_.fit(x_, z_).ok()) {
        o.fixed_h = gp_.h();
        o.fixed_noise = gp_.noise();
        o.norm = gp_.normalised() ? predictors::WlGaussianProcess::Options::Norm::kNormalised
                                  : predictors::WlGaussianProcess::Options::Norm::kRaw;
        searched_at_ = x_.size();
      }
      return;
    }
    if (!gp_.fit(x_, z_).ok()) {
      o.fixed_h = -1;
      o.norm = predictors::WlGaussianProcess::Options::Norm::kChoose;
      (void)gp_.fit(x_, z_);
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
  std::unordered_set<uint64_t> proposed_, told_;
  std::vector<Architecture> x_;
  std::vector<double> y_, z_;
  size_t fitted_on_ = 0;  // x_.size() at the last fit: refit only when something new arrived
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
