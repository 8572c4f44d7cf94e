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
#include "internal/search_run.h"
#include "internal/trial_eval.h"
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
  std::unique_ptr<TrialEvaluator> evaluator;
  std::unique_ptr<CheapFeasibility> cheap;
  std::optional<FeasibilityReport> feasibility;  // computed once, by the first check
  FolderLock lock;  // the output folder's, held while the search exists (one writer per folder)
};

Search::Search(SearchConfig c) : config_(std::move(c)) {}
Search::~Search() = default;

StatusOr<std::unique_ptr<Search>> Search::create(SearchConfig given,
                                                 std::shared_ptr<SourceFactory> factory) {
  auto prepared = prepare_config(std::move(given));
  if (!prepared.ok()) return prepared.status();
  std::unique_ptr<Search> s(new Search(std::move(*prepared)));
  const SearchConfig& c = s->config_;
  SourceContext ctx;
  ctx.space = c.space;
  ctx.seed = c.seed;
  ctx.data = c.data;
  if (factory && factory->context().space->fingerprint() != c.space->fingerprint())
    return InvalidArgument("a shared source factory must be made for the search's own space");
  s->impl_ = std::make_unique<Impl>();
  Impl& im = *s->impl_;
  if (!c.out_dir.empty()) {
    auto lock = FolderLock::acquire(c.out_dir, "nasforge search");
    if (!lock.ok()) return lock.status();
    im.lock = std::move(*lock);
  }
  auto ev = TrialEvaluator::create(c, factory ? factory : std::make_shared<SourceFactory>(ctx));
  if (!ev.ok()) return ev.status();
  im.evaluator = std::move(*ev);
  std::vector<std::pair<ConstraintSpec, MetricSource*>> cheap;
  for (const auto& k : c.constraints)
    if (MetricSource* src = im.evaluator->source(k.metric.name); src->cheap())
      cheap.emplace_back(k, src);
  if (!cheap.empty()) im.cheap = std::make_unique<CheapFeasibility>(*c.space, std::move(cheap));
  return s;
}

FeasibilityReport Search::check_feasibility() {
  if (impl_->feasibility) return *impl_->feasibility;
  std::vector<std::pair<ConstraintSpec, MetricSource*>> all;
  for (const auto& k : config_.constraints)
    all.emplace_back(k, impl_->evaluator->source(k.metric.name));
  impl_->feasibility =
      evaluation::check_feasibility(*config_.space, all, impl_->cheap.get(), config_.seed);
  return *impl_->feasibility;
}

StatusOr<SearchResult> Search::run(const ProgressFn& progress) {
  const SearchConfig& c = config_;
  FeasibilityReport feasibility = check_feasibility();
  if (!feasibility.feasible) return FailedPrecondition(feasibility.message);
  auto begun = SearchRun::begin(c, impl_->cheap.get(), std::move(feasibility), progress);
  if (!begun.ok()) return begun.status();
  SearchRun& run = **begun;
  if (c.workers.count > 0 || c.workers.external > 0) return run_parallel(run);
  SearchResult& res = run.result();
  strategies::Strategy& strategy = run.strategy();
  const uint64_t budget = run.budget();
  uint64_t run_of_repeats = 0;
  while (res.evaluated < budget) {
    if (std::string why = run.exhausted(run_of_repeats); !why.empty()) {
      res.stopped = why;
      break;
    }
    auto archs = strategy.ask(std::min<uint64_t>(c.batch, budget - res.evaluated));
    if (archs.empty()) {
      res.stopped = "the strategy has nothing more to propose";
      break;
    }
    std::vector<strategies::Trial> told;
    for (const Architecture& a : archs) {
      ++res.proposals;
      const std::string h = c.space->canonical_hash_hex(a);
      if (auto seen = run.recorded(h, a)) {  // a repeat: free, same result
        ++res.repeats;
        ++run_of_repeats;
        told.push_back(*seen);
        continue;
      }
      run_of_repeats = 0;
      if (res.evaluated >= budget) break;
      const TrialRecord* earlier = run.stored(h);
      auto t = earlier ? run.record(*earlier, a, true)
                       : run.record(impl_->evaluator->evaluate(a, h), a, false);
      if (!t.ok()) return t.status();
      told.push_back(*t);
    }
    strategy.tell(told);
  }
  return run.finish();
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
  std::istringstream objectives((*config)["objectives"]);
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
  // NAME=SOURCE pairs from the JSON list under `list_key`, or from the space-separated words
  // under `words_key` that stores written before the lists hold.
  auto read_sources = [&](const char* list_key, const char* words_key,
                          std::map<std::string, std::string>& into) -> Status {
    auto add = [&](const std::string& spec) {
      const auto eq = spec.find('=');
      if (eq != std::string::npos) into[spec.substr(0, eq)] = spec.substr(eq + 1);
    };
    if (auto it = config->find(list_key); it != config->end()) {
      Diagnostics d;
      auto list = parse_yaml(it->second, dir + "/trials.sqlite (" + list_key + ")", d);
      if (!list || !list->is_sequence())
        return InvalidArgument(dir + "/trials.sqlite: " + list_key +
                               ": expected a JSON list, got '" + it->second + "'");
      for (const auto& item : list->items) add(item.scalar);
      return Status::Ok();
    }
    std::istringstream words((*config)[words_key]);
    for (std::string word; words >> word;) add(word);
    return Status::Ok();
  };
  NF_RETURN_IF_ERROR(read_sources("metric_sources", "metrics", out.sources));
  NF_RETURN_IF_ERROR(read_sources("report_sources", "reports", out.report_sources));
  // "latency_ms@cpu <= 12.5; 1 <= params <= 2e+06; " as ConstraintSpec::str() wrote them.
  const std::string& constraints = (*config)["constraints"];
  for (size_t at = 0; at < constraints.size();) {
    size_t end = constraints.find(';', at);
    if (end == std::string::npos) end = constraints.size();
    std::string text = constraints.substr(at, end - at);
    at = end + 1;
    text.erase(0, text.find_first_not_of(' '));
    if (text.empty()) continue;
    const size_t first = text.find("<="), second = text.rfind("<=");
    StatusOr<ConstraintSpec> c = ConstraintSpec::parse(text);
    if (first != second) {  // two-sided: "MIN <= METRIC <= MAX"
      c = ConstraintSpec::parse(text.substr(first + 2));
      auto lower = parse_number(text.substr(0, text.find(' ')));
      if (c.ok() && lower) c->min = *lower;
    }
    if (!c.ok())
      return InvalidArgument(dir + "/trials.sqlite: constraints: " + c.status().message());
    out.constraints.push_back(*c);
  }
  for (const auto& t : out.trials)
    for (const auto& o : out.objectives)
      if (t.status == "ok" && !t.metrics.count(o.metric.name))
        return InvalidArgument(dir + "/trials.sqlite: trial " + std::to_string(t.id) +
                               " has no value for objective " + o.metric.name);
  out.pareto = feasible_front(out.trials, out.objectives);
  out.config = std::move(*config);
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
