// LINAS (Cummings et al. 2022, Intel's DyNAS-T): NSGA-II run on predictors instead of on
// evaluations. Each iteration fits one predictor per objective on every architecture evaluated
// so far, evolves a population on the predicted objectives for a few generations (seeded with
// the evaluated front), and queues for evaluation the best of the final population, in NSGA-II
// survival order, that have not been proposed before.
#include <algorithm>
#include <deque>
#include <unordered_set>

#include "internal/common.h"
#include "internal/pending.h"
#include "nasforge/predictors/accuracy.h"

namespace nasforge::strategies {
namespace {

class Linas : public Strategy {
 public:
  Linas(const Problem& p, size_t population, size_t generations, size_t initial,
        predictors::AccuracyModel model)
      : p_(p),
        rng_(p.seed),
        prop_(p_, rng_),
        population_(population),
        generations_(generations),
        initial_(initial),
        model_(model) {}

  std::string name() const override { return "linas"; }

  std::vector<Architecture> ask(size_t n) override {
    std::vector<Architecture> out;
    while (out.size() < n) {
      if (queue_.empty()) refill(std::max<size_t>(n, kPerIteration));
      Architecture a = queue_.empty() ? prop_.sample() : queue_.front();
      if (!queue_.empty()) queue_.pop_front();
      proposed_.insert(p_.space->canonical_hash(a));
      out.push_back(std::move(a));
    }
    pending_.asked(out);
    return out;
  }

  void tell(const std::vector<Trial>& trials) override {
    pending_.told(trials);
    for (const Trial& t : trials) evaluated_.push_back(t);
  }

 private:
  static constexpr size_t kPerIteration = 10;

  void refill(size_t count) {
    const SearchSpace& s = *p_.space;
    std::vector<Architecture> x;
    std::vector<std::vector<double>> y(p_.objectives);
    for (const Trial& t : evaluated_)
      if (t.ok && !t.score.empty()) {
        x.push_back(t.arch);
        for (size_t m = 0; m < p_.objectives; ++m) y[m].push_back(t.score[m]);
      }
    if (proposed_.size() < initial_ || x.size() < 2) {
      for (size_t i = 0; i < count; ++i) queue_.push_back(prop_.sample_unseen(proposed_));
      return;
    }
    std::vector<std::unique_ptr<predictors::Predictor>> models;
    for (size_t m = 0; m < p_.objectives; ++m) {
      auto made = predictors::make_accuracy_predictor(model_, s, rng_.next());
      // Pending trials (an asynchronous driver) enter with a constant lie per objective.
      const auto [xm, ym] = pending_.with_lies(x, y[m]);
      if (!made->fit(xm, normal_scores(ym)).ok()) {
        for (size_t i = 0; i < count; ++i) queue_.push_back(prop_.sample_unseen(proposed_));
        return;
      }
      models.push_back(std::move(made));
    }
    auto predicted = [&](const std::vector<Architecture>& archs) {
      std::vector<Trial> out(archs.size());
      std::vector<std::vector<predictors::Prediction>> p;
      for (const auto& model : models) p.push_back(model->predict_batch(archs));
      for (size_t i = 0; i < archs.size(); ++i) {
        out[i].arch = archs[i];
        for (size_t m = 0; m < models.size(); ++m) out[i].score.push_back(p[m][i].mean);
      }
      return out;
    };
    // The inner population starts from the evaluated feasible front, topped up with samples.
    std::vector<Architecture> start;
    for (size_t i : survival_order(evaluated_)) {
      if (start.size() >= population_ / 2) break;
      if (evaluated_[i].feasible()) start.push_back(evaluated_[i].arch);
    }
    while (start.size() < population_) start.push_back(prop_.sample());
    std::vector<Trial> pop = predicted(start);
    for (size_t g = 0; g < generations_; ++g) {
      std::vector<Architecture> kids;
      auto order = survival_order(pop);
      std::vector<size_t> rank(pop.size());
      for (size_t k = 0; k < order.size(); ++k) rank[order[k]] = k;
      auto pick = [&]() -> const Architecture& {
        size_t a = rng_.uniform(pop.size()), b = rng_.uniform(pop.size());
        return pop[rank[a] <= rank[b] ? a : b].arch;
      };
      for (size_t k = 0; k < population_; ++k) {
        Architecture c = pick();
        if (rng_.uniform01() < 0.5) c = prop_.crossover(c, pick());
        kids.push_back(prop_.mutate(c));
      }
      auto kid_trials = predicted(kids);
      std::vector<Trial> pool;
      std::unordered_set<uint64_t> seen;
      for (auto* group : {&pop, &kid_trials})
        for (const Trial& t : *group)
          if (seen.insert(s.canonical_hash(t.arch)).second) pool.push_back(t);
      std::vector<Trial> next;
      for (size_t i : survival_order(pool)) {
        if (next.size() == population_) break;
        next.push_back(pool[i]);
      }
      pop = std::move(next);
    }
    for (size_t i : survival_order(pop)) {
      if (queue_.size() >= count) break;
      const uint64_t h = s.canonical_hash(pop[i].arch);
      if (proposed_.count(h)) continue;
      proposed_.insert(h);
      queue_.push_back(pop[i].arch);
    }
    while (queue_.size() < count) queue_.push_back(prop_.sample_unseen(proposed_));
  }

  Problem p_;
  Rng rng_;
  Proposer prop_;
  size_t population_, generations_, initial_;
  predictors::AccuracyModel model_;
  std::vector<Trial> evaluated_;
  std::deque<Architecture> queue_;
  std::unordered_set<uint64_t> proposed_;
  PendingTrials pending_{*p_.space};
};

}  // namespace

StatusOr<std::unique_ptr<Strategy>> make_linas(const Problem& p) {
  Knobs k(p, "linas");
  auto pop = k.integer("population", 2, 100000);
  auto gens = k.integer("generations", 1, 100000);
  auto initial = k.integer("initial", 2, 100000);
  auto pred = k.choice("predictor", {"mlp", "gp", "wl-gp"});
  if (!k.status().ok()) return k.status();
  // choice() accepted only the three names, so the parse cannot fail.
  return std::unique_ptr<Strategy>(
      new Linas(p, pop, gens, initial, *predictors::parse_accuracy_model(pred)));
}

}  // namespace nasforge::strategies
