// The sampling and evolutionary strategies: random, regularized evolution (REA) and NSGA-II.
#include <algorithm>
#include <deque>
#include <limits>
#include <unordered_set>

#include "internal/common.h"
#include "nasforge/strategies/pareto.h"

namespace nasforge::strategies {
namespace {

// Uniform feasible samples, skipping canonical repeats for a bounded number of tries.
class RandomSearch : public Strategy {
 public:
  explicit RandomSearch(const Problem& p) : p_(p), rng_(p.seed), prop_(p_, rng_) {}
  std::string name() const override { return "random"; }
  std::vector<Architecture> ask(size_t n) override {
    std::vector<Architecture> out;
    for (size_t i = 0; i < n; ++i) out.push_back(prop_.sample_unseen(seen_));
    return out;
  }
  void tell(const std::vector<Trial>&) override {}

 private:
  Problem p_;
  Rng rng_;
  Proposer prop_;
  std::unordered_set<uint64_t> seen_;
};

// Real et al.: a queue of `population` members; each child mutates the best of `sample` members
// drawn at random; the oldest member leaves when a child joins.
class Rea : public Strategy {
 public:
  Rea(const Problem& p, size_t population, size_t sample)
      : p_(p), rng_(p.seed), prop_(p_, rng_), population_(population), sample_(sample) {}
  std::string name() const override { return "rea"; }
  std::vector<Architecture> ask(size_t n) override {
    std::vector<Architecture> out;
    for (size_t i = 0; i < n; ++i) {
      if (asked_ < population_ || members_.empty()) {
        out.push_back(prop_.sample());
      } else {
        const Trial* best = nullptr;
        for (size_t s = 0; s < sample_; ++s) {
          const Trial& t = members_[rng_.uniform(members_.size())];
          if (!best || fitness(t) > fitness(*best)) best = &t;
        }
        out.push_back(prop_.mutate(best->arch));
      }
      ++asked_;
    }
    return out;
  }
  void tell(const std::vector<Trial>& trials) override {
    for (const Trial& t : trials) {
      members_.push_back(t);
      if (members_.size() > population_) members_.pop_front();
    }
  }

 private:
  Problem p_;
  Rng rng_;
  Proposer prop_;
  size_t population_, sample_, asked_ = 0;
  std::deque<Trial> members_;
};

}  // namespace

// Ranks trials for survival: feasible ones by non-dominated front then crowding distance;
// infeasible ones after them by violation; failed ones last. Returns the order, best first.
std::vector<size_t> survival_order(const std::vector<Trial>& pop) {
  std::vector<size_t> feasible, infeasible, failed;
  for (size_t i = 0; i < pop.size(); ++i) {
    if (!pop[i].ok || pop[i].score.empty())
      failed.push_back(i);
    else if (pop[i].violation > 0)
      infeasible.push_back(i);
    else
      feasible.push_back(i);
  }
  std::vector<Point> pts;
  for (size_t i : feasible) pts.push_back(pop[i].score);
  std::vector<size_t> order;
  for (const auto& front : nondominated_sort(pts)) {
    auto crowd = crowding_distance(pts, front);
    std::vector<size_t> idx(front.size());
    for (size_t k = 0; k < idx.size(); ++k) idx[k] = k;
    std::stable_sort(idx.begin(), idx.end(),
                     [&](size_t a, size_t b) { return crowd[a] > crowd[b]; });
    for (size_t k : idx) order.push_back(feasible[front[k]]);
  }
  std::stable_sort(infeasible.begin(), infeasible.end(),
                   [&](size_t a, size_t b) { return pop[a].violation < pop[b].violation; });
  order.insert(order.end(), infeasible.begin(), infeasible.end());
  order.insert(order.end(), failed.begin(), failed.end());
  return order;
}

namespace {

// Deb et al.: parents chosen by binary tournament on (rank, crowding); each child a crossover
// (with probability `crossover`) then a mutation; parents and children compete for the next
// generation's `population` places. Canonical repeats are dropped from the population.
class Nsga2 : public Strategy {
 public:
  Nsga2(const Problem& p, size_t population, double crossover)
      : p_(p), rng_(p.seed), prop_(p_, rng_), population_(population), crossover_(crossover) {}
  std::string name() const override { return "nsga2"; }

  std::vector<Architecture> ask(size_t n) override {
    std::vector<Architecture> out;
    for (size_t i = 0; i < n; ++i) {
      if (parents_.empty()) {
        out.push_back(prop_.sample());
        continue;
      }
      const Trial& a = tournament();
      Architecture child = a.arch;
      if (rng_.uniform01() < crossover_) child = prop_.crossover(a.arch, tournament().arch);
      out.push_back(prop_.mutate(child));
    }
    return out;
  }

  void tell(const std::vector<Trial>& trials) override {
    for (const Trial& t : trials) children_.push_back(t);
    if (children_.size() >= population_) next_generation();
  }

 private:
  const Trial& tournament() {
    size_t a = rng_.uniform(parents_.size()), b = rng_.uniform(parents_.size());
    return rank_[a] <= rank_[b] ? parents_[a] : parents_[b];  // rank_ already folds crowding
  }

  void next_generation() {
    std::vector<Trial> pool;
    std::unordered_set<uint64_t> seen;
    for (auto* group : {&parents_, &children_})
      for (const Trial& t : *group)
        if (seen.insert(p_.space->canonical_hash(t.arch)).second) pool.push_back(t);
    children_.clear();
    auto order = survival_order(pool);
    parents_.clear();
    rank_.clear();
    for (size_t k = 0; k < order.size() && k < population_; ++k) {
      parents_.push_back(pool[order[k]]);
      rank_.push_back(k);
    }
  }

  Problem p_;
  Rng rng_;
  Proposer prop_;
  size_t population_;
  double crossover_;
  std::vector<Trial> parents_, children_;
  std::vector<size_t> rank_;  // position in survival order: lower is better
};

}  // namespace

StatusOr<std::unique_ptr<Strategy>> make_random(const Problem& p) {
  return std::unique_ptr<Strategy>(new RandomSearch(p));
}

StatusOr<std::unique_ptr<Strategy>> make_rea(const Problem& p) {
  Knobs k(p, "rea");
  auto pop = k.integer("population", 2, 100000);
  auto sample = k.integer("sample", 1, 100000);
  if (!k.status().ok()) return k.status();
  if (sample > pop)
    return InvalidArgument("strategy rea: knob sample (" + std::to_string(sample) +
                           ") must not exceed population (" + std::to_string(pop) + ")");
  return std::unique_ptr<Strategy>(new Rea(p, pop, sample));
}

StatusOr<std::unique_ptr<Strategy>> make_nsga2(const Problem& p) {
  Knobs k(p, "nsga2");
  auto pop = k.integer("population", 2, 100000);
  auto cx = k.real("crossover", 0, 1);
  if (!k.status().ok()) return k.status();
  return std::unique_ptr<Strategy>(new Nsga2(p, pop, cx));
}

}  // namespace nasforge::strategies
