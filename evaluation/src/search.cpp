// The search driver (search.h).
#include "nasforge/evaluation/search.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>
#include <unordered_map>

#include "internal/feasibility.h"
#include "nasforge/searchspace/dsl.h"
#include "nasforge/searchspace/folder_lock.h"
#include "nasforge/searchspace/json.h"
#include "nasforge/searchspace/yaml_ast.h"
#include "nasforge/strategies/pareto.h"
#include "nasforge/strategies/strategy.h"

namespace nasforge::evaluation {

std::string ConstraintSpec::str() const {
  auto num = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return std::string(buf);
  };
  if (min && max) return num(*min) + " <= " + metric.name + " <= " + num(*max);
  return metric.name + (max ? " <= " + num(*max) : " >= " + num(*min));
}

StatusOr<ConstraintSpec> ConstraintSpec::parse(const std::string& text) {
  size_t at = std::string::npos, len = 2;
  bool upper = true;
  for (const char* op : {"<=", ">="}) {
    size_t p = text.find(op);
    if (p != std::string::npos) at = p, upper = op[0] == '<';
  }
  if (at == std::string::npos) {
    if (text.find_first_of("<>=") != std::string::npos)
      return InvalidArgument("constraint '" + text +
                             "': use <= or >= (bounds are inclusive), e.g. latency_ms@cpu<=2.5");
    return InvalidArgument("expected a constraint METRIC<=VALUE or METRIC>=VALUE, got '" + text +
                           "'");
  }
  auto trim = [](std::string s) {
    s.erase(0, s.find_first_not_of(' '));
    s.erase(s.find_last_not_of(' ') + 1);
    return s;
  };
  auto name = MetricName::parse(trim(text.substr(0, at)));
  if (!name.ok()) return name.status().WithContext("constraint '" + text + "'");
  const std::string num = trim(text.substr(at + len));
  auto v = parse_number(num);
  if (!v)
    return InvalidArgument("constraint '" + text +
                           "': expected a number after the operator, got '" + num + "'");
  ConstraintSpec c;
  c.metric = *name;
  (upper ? c.max : c.min) = *v;
  return c;
}

double ConstraintSpec::violation(double v) const {
  if (!std::isfinite(v)) return 1;
  double out = 0;
  if (max && v > *max) out += (v - *max) / std::max(std::abs(*max), 1e-12);
  if (min && v < *min) out += (*min - v) / std::max(std::abs(*min), 1e-12);
  return out;
}

StatusOr<ObjectiveSpec> ObjectiveSpec::parse(const std::string& text) {
  const size_t colon = text.rfind(':');
  const std::string dir = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (dir != "max" && dir != "min")
    return InvalidArgument("expected an objective NAME:max or NAME:min, got '" + text + "'");
  auto name = MetricName::parse(text.substr(0, colon));
  if (!name.ok()) return name.status().WithContext("objective '" + text + "'");
  return ObjectiveSpec{*name, dir == "max" ? Direction::kMaximize : Direction::kMinimize};
}

struct Search::Impl {
  std::shared_ptr<SourceFactory> factory;
  std::map<std::string, std::shared_ptr<MetricSource>> sources;  // signal and constraint metrics
  std::vector<std::pair<std::string, std::shared_ptr<MetricSource>>> reports;
  std::unique_ptr<CheapFeasibility> cheap;
  std::optional<FeasibilityReport> feasibility;  // computed once, by the first check
  FolderLock lock;  // the output folder's, held while the search exists (one writer per folder)
  explicit Impl(std::shared_ptr<SourceFactory> f) : factory(std::move(f)) {}
};

Search::Search(SearchConfig c) : config_(std::move(c)) {}
Search::~Search() = default;

StatusOr<std::unique_ptr<Search>> Search::create(SearchConfig c,
                                                 std::shared_ptr<SourceFactory> factory) {
  if (!c.space) return InvalidArgument("a search needs its space");
  const SearchSpace& space = *c.space;
  if (c.objectives.empty())
    for (const Objective& o : space.objectives())
      c.objectives.push_back({*MetricName::parse(o.metric.str()), o.direction});
  if (c.objectives.empty())
    return InvalidArgument("no objective: give --objective NAME:max|min, or objectives: in " +
                           space.file());
  for (const Constraint& k : space.constraints()) {
    ConstraintSpec s;
    s.metric = *MetricName::parse(k.metric.str());
    s.min = k.min;
    s.max = k.max;
    c.constraints.push_back(s);
  }
  if (c.budget == 0) return InvalidArgument("--budget: expected at least 1");
  if (c.batch == 0) c.batch = 1;
  std::unique_ptr<Search> s(new Search(c));
  SourceContext ctx;
  ctx.space = c.space;
  ctx.seed = c.seed;
  ctx.data = c.data;
  if (factory && factory->context().space->fingerprint() != c.space->fingerprint())
    return InvalidArgument("a shared source factory must be made for the search's own space");
  s->impl_ = std::make_unique<Impl>(factory ? factory : std::make_shared<SourceFactory>(ctx));
  Impl& im = *s->impl_;
  if (!c.out_dir.empty()) {
    auto lock = FolderLock::acquire(c.out_dir, "nasforge search");
    if (!lock.ok()) return lock.status();
    im.lock = std::move(*lock);
  }
  std::set<std::string> named;
  for (const auto& m : c.metrics) {
    if (!named.insert(m.metric.name).second)
      return InvalidArgument("--metric " + m.metric.name + " is given twice");
    auto src = im.factory->make(m);
    if (!src.ok()) return src.status();
    im.sources[m.metric.name] = *src;
  }
  auto need = [&](const MetricName& n, const std::string& role) -> Status {
    if (im.sources.count(n.name)) return Status::Ok();
    if (n.typed && (n.typed->kind == MetricKind::kParams || n.typed->kind == MetricKind::kMacs)) {
      auto src = im.factory->make({n, "count"});
      if (!src.ok()) return src.status();
      im.sources[n.name] = *src;
      return Status::Ok();
    }
    std::vector<std::string> supplied;
    for (const auto& [name, _] : im.sources) supplied.push_back(name);
    const std::string near = closest_match(n.name, supplied);
    return InvalidArgument(role + " " + n.name + " has no source" +
                           (near.empty() ? "" : " (the sources supply " + near + ")") +
                           "; add --metric " + n.name +
                           "=SOURCE (table:CSV:COLUMN, predictor:FILE, measure:DEVICE, "
                           "supernet:DIR, train:EPOCHS)");
  };
  std::set<std::string> objective_names;
  for (const auto& o : c.objectives) {
    if (!objective_names.insert(o.metric.name).second)
      return InvalidArgument("objective " + o.metric.name + " is given twice");
    NF_RETURN_IF_ERROR(need(o.metric, "objective"));
  }
  for (const auto& k : c.constraints) NF_RETURN_IF_ERROR(need(k.metric, "constraint"));
  for (const auto& r : c.reports) {
    if (im.sources.count(r.metric.name) || !named.insert(r.metric.name).second)
      return InvalidArgument("--report " + r.metric.name +
                             " is also a metric the search sees; give it another name");
    auto src = im.factory->make(r);
    if (!src.ok()) return src.status().WithContext("--report");
    im.reports.emplace_back(r.metric.name, *src);
  }
  if (c.reference && c.reference->size() != c.objectives.size())
    return InvalidArgument("--reference: expected one value per objective (" +
                           std::to_string(c.objectives.size()) + "), got " +
                           std::to_string(c.reference->size()));
  std::vector<std::pair<ConstraintSpec, MetricSource*>> cheap;
  for (const auto& k : c.constraints)
    if (im.sources[k.metric.name]->cheap()) cheap.emplace_back(k, im.sources[k.metric.name].get());
  if (!cheap.empty()) im.cheap = std::make_unique<CheapFeasibility>(space, std::move(cheap));
  s->config_ = std::move(c);
  return s;
}

FeasibilityReport Search::check_feasibility() {
  if (impl_->feasibility) return *impl_->feasibility;
  std::vector<std::pair<ConstraintSpec, MetricSource*>> all;
  for (const auto& k : config_.constraints)
    all.emplace_back(k, impl_->sources[k.metric.name].get());
  impl_->feasibility =
      evaluation::check_feasibility(*config_.space, all, impl_->cheap.get(), config_.seed);
  return *impl_->feasibility;
}

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

std::vector<std::pair<std::string, std::string>> config_lines(const SearchConfig& c) {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("space_fingerprint", c.space->fingerprint());
  out.emplace_back("strategy", c.strategy);
  std::string opts;
  for (const auto& [k, v] : c.options) opts += k + "=" + v + " ";
  out.emplace_back("strategy_options", opts);
  out.emplace_back("seed", std::to_string(c.seed));
  out.emplace_back("batch", std::to_string(c.batch));
  std::string m, r, o, k;
  for (const auto& x : c.metrics) m += x.metric.name + "=" + x.source + " ";
  for (const auto& x : c.reports) r += x.metric.name + "=" + x.source + " ";
  for (const auto& x : c.objectives)
    o += x.metric.name + (x.direction == Direction::kMaximize ? ":max " : ":min ");
  for (const auto& x : c.constraints) k += x.str() + "; ";
  out.emplace_back("metrics", m);
  // The same as a JSON list, which a source path with spaces survives; readers prefer it.
  std::string sources = "[";
  for (const auto& x : c.metrics)
    sources += (sources.size() > 1 ? ", " : "") + json_quote(x.metric.name + "=" + x.source);
  out.emplace_back("metric_sources", sources + "]");
  out.emplace_back("reports", r);
  out.emplace_back("objectives", o);
  out.emplace_back("constraints", k);
  out.emplace_back("budget", std::to_string(c.budget));
  return out;
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

// Evaluates a new architecture on every metric source, then its constraints and reports.
TrialRecord evaluate_new(Search::Impl& impl, const SearchConfig& c, const Architecture& a,
                         const std::string& hash) {
  TrialRecord r;
  r.arch = c.space->to_string(a);
  r.hash = hash;
  r.started_unix =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto t0 = std::chrono::steady_clock::now();
  for (auto& [name, src] : impl.sources) {
    auto v = src->evaluate(a);
    if (v.ok() && !std::isfinite(*v))
      v = InvalidArgument(std::string("expected a finite number, got ") + (std::isnan(*v) ? "NaN"
                                                                           : *v > 0       ? "+inf"
                                                                                    : "-inf"));
    if (!v.ok()) {
      r.status = "failed";
      r.error = name + ": " + v.status().message();
      break;
    }
    r.metrics[name] = *v;
  }
  if (r.status != "failed") {
    for (const auto& k : c.constraints) r.violation += k.violation(r.metrics[k.metric.name]);
    if (r.violation > 0) r.status = "infeasible";
    for (auto& [name, src] : impl.reports) {
      auto v = src->evaluate(a);
      r.report[name] = v.ok() ? *v : NAN;
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

// The progress line's "best METRIC VALUE", kept up to date as trials arrive.
class BestLine {
 public:
  explicit BestLine(const ObjectiveSpec& o) : o_(o) {}
  void see(const TrialRecord& r) {
    if (r.status != "ok") return;
    const double v = r.metrics.at(o_.metric.name);
    if (best_ && !(o_.direction == Direction::kMaximize ? v > *best_ : v < *best_)) return;
    best_ = v;
    char buf[64];
    std::snprintf(buf, sizeof buf, "best %s %.4g", o_.metric.name.c_str(), v);
    line_ = buf;
  }
  const std::string& line() const { return line_; }

 private:
  const ObjectiveSpec& o_;
  std::optional<double> best_;
  std::string line_;
};

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

StatusOr<SearchResult> Search::run(
    const std::function<void(uint64_t, uint64_t, const std::string&)>& progress) {
  const SearchConfig& c = config_;
  SearchResult res;
  res.feasibility = check_feasibility();
  if (!res.feasibility.feasible) return FailedPrecondition(res.feasibility.message);

  std::unique_ptr<TrialStore> store;
  std::unordered_map<std::string, TrialRecord> stored;  // by hash, from an earlier run
  if (!c.out_dir.empty()) {
    auto st = TrialStore::open(c.out_dir + "/trials.sqlite", config_lines(c), {"budget"});
    if (!st.ok()) return st.status();
    store = std::move(*st);
    auto rows = store->all();
    if (!rows.ok()) return rows.status();
    for (auto& r : *rows) {
      NF_RETURN_IF_ERROR(check_stored_trial(r, c, c.out_dir + "/trials.sqlite"));
      stored.emplace(r.hash, std::move(r));
    }
  }

  strategies::Problem problem;
  problem.space = c.space.get();
  problem.objectives = c.objectives.size();
  problem.feasibility = impl_->cheap.get();
  if (impl_->cheap) problem.witness = res.feasibility.witness;
  problem.seed = c.seed;
  problem.options = c.options;
  auto strategy = strategies::make_strategy(c.strategy, problem);
  if (!strategy.ok()) return strategy.status();

  std::unordered_map<std::string, size_t> index;  // hash -> position in res.trials
  BestLine best(c.objectives[0]);
  // A space smaller than the budget is searched whole, then the search ends.
  uint64_t budget = c.budget, size = 0;
  const bool small_space = c.space->size().to_u64(&size) && size < budget;
  if (small_space) budget = size;
  const uint64_t cap = 20 * budget + 1000;  // proposals, repeats included
  // Stop when this many proposals in a row were repeats: the strategy has run out of new
  // architectures it would propose (a feasible region smaller than the budget, say).
  const uint64_t kMaxRunOfRepeats = 100 + 2 * c.batch;
  uint64_t run_of_repeats = 0;
  while (res.evaluated < budget) {
    if (res.proposals >= cap || run_of_repeats >= kMaxRunOfRepeats) {
      res.stopped = "the strategy proposed " + std::to_string(res.proposals) +
                    " architectures, only " + std::to_string(res.evaluated) + " of them new" +
                    (run_of_repeats >= kMaxRunOfRepeats
                         ? ", the last " + std::to_string(run_of_repeats) + " all repeats"
                         : "") +
                    "; stopping (the space, or what the constraints leave of it, may be "
                    "exhausted)";
      break;
    }
    auto archs = (*strategy)->ask(std::min<uint64_t>(c.batch, budget - res.evaluated));
    if (archs.empty()) {
      res.stopped = "the strategy has nothing more to propose";
      break;
    }
    std::vector<strategies::Trial> told;
    for (const Architecture& a : archs) {
      ++res.proposals;
      const std::string h = c.space->canonical_hash_hex(a);
      if (auto it = index.find(h); it != index.end()) {  // a repeat: free, same result
        ++res.repeats;
        ++run_of_repeats;
        told.push_back(to_trial(res.trials[it->second], a, c.objectives));
        continue;
      }
      run_of_repeats = 0;
      if (res.evaluated >= budget) break;
      TrialRecord r;
      if (auto it = stored.find(h); it != stored.end()) {
        r = it->second;  // evaluated by an earlier run: replayed, not re-evaluated
        ++res.reused;
      } else {
        r = evaluate_new(*impl_, c, a, h);
        if (store) NF_RETURN_IF_ERROR(store->insert(r));
      }
      ++res.evaluated;
      if (r.id == 0) r.id = static_cast<int64_t>(res.evaluated);
      index.emplace(h, res.trials.size());
      res.trials.push_back(r);
      told.push_back(to_trial(r, a, c.objectives));
      best.see(r);
      if (progress) progress(res.evaluated, budget, best.line());
    }
    (*strategy)->tell(told);
  }
  if (small_space && res.stopped.empty())
    res.stopped = "the space holds " + std::to_string(size) +
                  " architectures, fewer than the budget; every one was evaluated";
  summarise(c, res);
  return res;
}

std::vector<size_t> feasible_front(const std::vector<TrialRecord>& trials,
                                   const std::vector<ObjectiveSpec>& objectives) {
  std::vector<size_t> feasible;
  const std::vector<strategies::Point> pts = signed_points(trials, objectives, feasible);
  return sorted_front(pts, feasible);
}

StatusOr<StoredSearch> load_search(const std::string& dir) {
  namespace fs = std::filesystem;
  for (const char* f : {"space.yaml", "trials.sqlite"})
    if (!fs::exists(fs::path(dir) / f))
      return NotFound(dir + ": expected a search folder (nasforge search --out) with " + f +
                      ", got none");
  StoredSearch out;
  Diagnostics diags;
  auto space = load_space((fs::path(dir) / "space.yaml").string(), diags);
  if (!space) return InvalidArgument(diags.str());
  out.space = std::make_shared<const SearchSpace>(std::move(*space));
  auto snapshot = TrialStore::read_snapshot((fs::path(dir) / "trials.sqlite").string());
  if (!snapshot.ok()) return snapshot.status();
  auto* config = &snapshot->config;
  out.trials = std::move(snapshot->trials);
  std::istringstream objectives((*config)["objectives"]), metrics((*config)["metrics"]);
  for (std::string word; objectives >> word;) {
    auto o = ObjectiveSpec::parse(word);
    if (!o.ok())
      return InvalidArgument(dir + "/trials.sqlite: objectives: " + o.status().message());
    out.objectives.push_back(*o);
  }
  if (out.objectives.empty())
    return InvalidArgument(dir +
                           "/trials.sqlite: expected the search's objectives in its "
                           "configuration, got none");
  auto add_source = [&](const std::string& spec) {
    const auto eq = spec.find('=');
    if (eq != std::string::npos) out.sources[spec.substr(0, eq)] = spec.substr(eq + 1);
  };
  if (auto it = config->find("metric_sources"); it != config->end()) {
    Diagnostics d;
    auto list = parse_yaml(it->second, dir + "/trials.sqlite (metric_sources)", d);
    if (!list || !list->is_sequence())
      return InvalidArgument(dir + "/trials.sqlite: metric_sources: expected a JSON list, got '" +
                             it->second + "'");
    for (const auto& item : list->items) add_source(item.scalar);
  } else {  // a store written before metric_sources: space-separated NAME=SOURCE words
    for (std::string word; metrics >> word;) add_source(word);
  }
  for (const auto& t : out.trials)
    for (const auto& o : out.objectives)
      if (t.status == "ok" && !t.metrics.count(o.metric.name))
        return InvalidArgument(dir + "/trials.sqlite: trial " + std::to_string(t.id) +
                               " has no value for objective " + o.metric.name);
  out.pareto = feasible_front(out.trials, out.objectives);
  return out;
}

std::string result_json(const SearchConfig& c, const SearchResult& r) {
  auto trial = [&](const TrialRecord& t) {
    return "{\"arch\": " + json_quote(t.arch) + ", \"hash\": " + json_quote(t.hash) +
           ", \"metrics\": " + metrics_json(t.metrics) + ", \"report\": " + metrics_json(t.report) +
           "}";
  };
  std::string s = "{\"best\": ";
  s += r.best ? trial(r.trials[*r.best]) : "null";
  s += ", \"pareto\": [";
  for (size_t i = 0; i < r.pareto.size(); ++i) s += (i ? ", " : "") + trial(r.trials[r.pareto[i]]);
  s += "], \"hypervolume\": " + json_number(r.hypervolume) + ", \"reference\": {";
  for (size_t m = 0; m < r.reference.size(); ++m)
    s += (m ? ", " : "") + json_quote(c.objectives[m].metric.name) + ": " +
         json_number(r.reference[m]);
  s += "}, \"trials\": " + std::to_string(r.trials.size()) +
       ", \"reused\": " + std::to_string(r.reused) + ", \"repeats\": " + std::to_string(r.repeats) +
       "}";
  return s;
}

}  // namespace nasforge::evaluation
