// One run of the search loop (internal/search_run.h).
#include "internal/search_run.h"

#include <algorithm>
#include <cmath>

#include "internal/trial_eval.h"
#include "nasforge/strategies/pareto.h"

namespace nasforge::evaluation {

namespace {

// The feasible trials' objective values, negated where minimised (larger is better);
// `feasible` receives their indices.
std::vector<strategies::Point> signed_points(const std::vector<TrialRecord>& trials,
                                             const std::vector<ObjectiveSpec>& objectives,
                                             std::vector<size_t>& feasible) {
  std::vector<strategies::Point> pts;
  for (size_t i = 0; i < trials.size(); ++i) {
    if (trials[i].status != "ok") continue;
    strategies::Point p;
    for (const auto& o : objectives) {
      const double v = trials[i].metrics.at(o.metric.name);
      p.push_back(o.direction == Direction::kMaximize ? v : -v);
    }
    feasible.push_back(i);
    pts.push_back(std::move(p));
  }
  return pts;
}

// The non-dominated points, best first on the first objective, as indices into the trials.
std::vector<size_t> sorted_front(const std::vector<strategies::Point>& pts,
                                 const std::vector<size_t>& feasible) {
  std::vector<size_t> front = strategies::pareto_front(pts);
  std::stable_sort(front.begin(), front.end(),
                   [&](size_t a, size_t b) { return pts[a][0] > pts[b][0]; });
  for (size_t& k : front) k = feasible[k];
  return front;
}

}  // namespace

namespace {

// A trial read back from a store must carry what replaying it needs: a known status and, unless
// it failed, a finite value for every metric. A damaged or edited store is refused, naming the
// trial, instead of failing later inside a lookup.
Status check_stored_trial(const TrialRecord& r, const SearchConfig& c, const std::string& path) {
  const std::string trial = path + ": trial " + std::to_string(r.id) + " (" + r.arch + ")";
  if (r.status != "ok" && r.status != "infeasible" && r.status != "failed")
    return InvalidArgument(trial + ": expected status ok, infeasible or failed, got '" + r.status +
                           "' (the store is damaged; use another --out)");
  if (r.status == "failed") return Status::Ok();
  for (const auto& m : c.metrics) {
    auto it = r.metrics.find(m.metric.name);
    if (it == r.metrics.end() || !std::isfinite(it->second))
      return InvalidArgument(trial + ": expected a finite value for metric " + m.metric.name +
                             ", got " + (it == r.metrics.end() ? "none" : "a non-finite one") +
                             " (the store is damaged or edited; use another --out)");
  }
  return Status::Ok();
}

}  // namespace

// A strategy's view of a trial: its objectives, larger is better.
strategies::Trial to_trial(const TrialRecord& r, const Architecture& a,
                           const std::vector<ObjectiveSpec>& objectives) {
  strategies::Trial t;
  t.arch = a;
  t.ok = r.status != "failed";
  t.violation = r.violation;
  if (t.ok)
    for (const auto& o : objectives) {
      double v = r.metrics.at(o.metric.name);
      t.score.push_back(o.direction == Direction::kMaximize ? v : -v);
    }
  return t;
}

void BestLine::see(const TrialRecord& r) {
  if (r.status != "ok") return;
  const double v = r.metrics.at(o_.metric.name);
  if (best_ && !(o_.direction == Direction::kMaximize ? v > *best_ : v < *best_)) return;
  best_ = v;
  char buf[64];
  std::snprintf(buf, sizeof buf, "best %s %.4g", o_.metric.name.c_str(), v);
  line_ = buf;
}

namespace {

// The answer of a finished search, from its trials: the feasible Pareto front, the best trial
// on the first objective, and the hypervolume against the given reference, else against the
// worst feasible value of each objective.
void summarise(const SearchConfig& c, SearchResult& res) {
  std::vector<size_t> feasible;
  const std::vector<strategies::Point> pts = signed_points(res.trials, c.objectives, feasible);
  res.pareto = sorted_front(pts, feasible);
  if (!feasible.empty()) {
    size_t b = 0;
    for (size_t k = 1; k < pts.size(); ++k)
      if (pts[k][0] > pts[b][0]) b = k;
    res.best = feasible[b];
  }
  strategies::Point ref(c.objectives.size(), 0.0);
  for (size_t m = 0; m < c.objectives.size(); ++m) {
    const double sign = c.objectives[m].direction == Direction::kMaximize ? 1 : -1;
    if (c.reference) {
      ref[m] = sign * (*c.reference)[m];
    } else {
      ref[m] = pts.empty() ? 0 : pts[0][m];
      for (const auto& p : pts) ref[m] = std::min(ref[m], p[m]);
    }
    res.reference.push_back(sign * ref[m]);
  }
  res.hypervolume = strategies::hypervolume(pts, ref);
}

}  // namespace

StatusOr<std::unique_ptr<SearchRun>> SearchRun::begin(const SearchConfig& c,
                                                      const strategies::Feasibility* cheap,
                                                      FeasibilityReport feasibility,
                                                      ProgressFn progress) {
  std::unique_ptr<SearchRun> run(new SearchRun(c));
  run->progress_ = std::move(progress);
  if (!c.out_dir.empty()) {
    auto st = TrialStore::open(c.out_dir + "/trials.sqlite", config_lines(c), {"budget"});
    if (!st.ok()) return st.status();
    run->store_ = std::move(*st);
    auto rows = run->store_->all();
    if (!rows.ok()) return rows.status();
    for (auto& r : *rows) {
      NF_RETURN_IF_ERROR(check_stored_trial(r, c, c.out_dir + "/trials.sqlite"));
      run->stored_.emplace(r.hash, std::move(r));
    }
  }
  strategies::Problem problem;
  problem.space = c.space.get();
  problem.objectives = c.objectives.size();
  problem.feasibility = cheap;
  if (cheap) problem.witness = feasibility.witness;
  problem.seed = c.seed;
  problem.options = c.options;
  auto strategy = strategies::make_strategy(c.strategy, problem);
  if (!strategy.ok()) return strategy.status();
  run->strategy_ = std::move(*strategy);
  run->res_.feasibility = std::move(feasibility);
  // A space smaller than the budget is searched whole, then the search ends.
  run->budget_ = c.budget;
  run->small_space_ = c.space->size().to_u64(&run->size_) && run->size_ < run->budget_;
  if (run->small_space_) run->budget_ = run->size_;
  return run;
}

std::optional<strategies::Trial> SearchRun::recorded(const std::string& hash,
                                                     const Architecture& a) const {
  auto it = index_.find(hash);
  if (it == index_.end()) return std::nullopt;
  return to_trial(res_.trials[it->second], a, c_.objectives);
}

const TrialRecord* SearchRun::stored(const std::string& hash) const {
  auto it = stored_.find(hash);
  return it == stored_.end() ? nullptr : &it->second;
}

StatusOr<strategies::Trial> SearchRun::record(TrialRecord r, const Architecture& a, bool replayed) {
  if (replayed)
    ++res_.reused;
  else if (store_)
    NF_RETURN_IF_ERROR(store_->insert(r));
  ++res_.evaluated;
  if (r.id == 0) r.id = static_cast<int64_t>(res_.evaluated);
  index_.emplace(r.hash, res_.trials.size());
  res_.trials.push_back(r);
  best_.see(r);
  if (progress_) progress_(res_.evaluated, budget_, best_.line());
  return to_trial(res_.trials.back(), a, c_.objectives);
}

std::string SearchRun::exhausted(uint64_t run_of_repeats) const {
  const uint64_t cap = 20 * budget_ + 1000;  // proposals, repeats included
  // Stop when this many proposals in a row were repeats: the strategy has run out of new
  // architectures it would propose (a feasible region smaller than the budget, say).
  const uint64_t max_run =
      100 + 2 * std::max<uint64_t>(c_.batch, c_.workers.count + c_.workers.external);
  if (res_.proposals < cap && run_of_repeats < max_run) return "";
  return "the strategy proposed " + std::to_string(res_.proposals) + " architectures, only " +
         std::to_string(res_.evaluated) + " of them new" +
         (run_of_repeats >= max_run
              ? ", the last " + std::to_string(run_of_repeats) + " all repeats"
              : "") +
         "; stopping (the space, or what the constraints leave of it, may be exhausted)";
}

SearchResult SearchRun::finish() {
  if (small_space_ && res_.stopped.empty())
    res_.stopped = "the space holds " + std::to_string(size_) +
                   " architectures, fewer than the budget; every one was evaluated";
  summarise(c_, res_);
  return std::move(res_);
}

std::vector<size_t> feasible_front(const std::vector<TrialRecord>& trials,
                                   const std::vector<ObjectiveSpec>& objectives) {
  std::vector<size_t> feasible;
  const std::vector<strategies::Point> pts = signed_points(trials, objectives, feasible);
  return sorted_front(pts, feasible);
}

}  // namespace nasforge::evaluation
