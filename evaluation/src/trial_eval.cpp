// One trial's evaluation (internal/trial_eval.h).
#include "internal/trial_eval.h"

#include <chrono>
#include <cmath>
#include <set>

#include "nasforge/searchspace/json.h"

namespace nasforge::evaluation {

StatusOr<SearchConfig> prepare_config(SearchConfig c) {
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
  std::set<std::string> objective_names;
  for (const auto& o : c.objectives)
    if (!objective_names.insert(o.metric.name).second)
      return InvalidArgument("objective " + o.metric.name + " is given twice");
  if (c.reference && c.reference->size() != c.objectives.size())
    return InvalidArgument("--reference: expected one value per objective (" +
                           std::to_string(c.objectives.size()) + "), got " +
                           std::to_string(c.reference->size()));
  return c;
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
  // Each also as a JSON list, which a source path with spaces survives; readers prefer it.
  auto json_list = [](const std::vector<MetricSpec>& specs) {
    std::string list = "[";
    for (const auto& x : specs)
      list += (list.size() > 1 ? ", " : "") + json_quote(x.metric.name + "=" + x.source);
    return list + "]";
  };
  out.emplace_back("metrics", m);
  out.emplace_back("metric_sources", json_list(c.metrics));
  out.emplace_back("reports", r);
  out.emplace_back("report_sources", json_list(c.reports));
  out.emplace_back("objectives", o);
  out.emplace_back("constraints", k);
  out.emplace_back("budget", std::to_string(c.budget));
  return out;
}

std::string worker_agreement(const SearchConfig& c) {
  std::string out;
  for (const auto& [k, v] : config_lines(c))
    if (k != "budget") out += k + ": " + v + "\n";
  return out;
}

StatusOr<std::unique_ptr<TrialEvaluator>> TrialEvaluator::create(
    const SearchConfig& c, std::shared_ptr<SourceFactory> factory) {
  std::unique_ptr<TrialEvaluator> ev(new TrialEvaluator(c));
  ev->factory_ = std::move(factory);
  auto& sources = ev->sources_;
  std::set<std::string> named;
  for (const auto& m : c.metrics) {
    if (!named.insert(m.metric.name).second)
      return InvalidArgument("--metric " + m.metric.name + " is given twice");
    auto src = ev->factory_->make(m);
    if (!src.ok()) return src.status();
    sources[m.metric.name] = *src;
  }
  auto need = [&](const MetricName& n, const std::string& role) -> Status {
    if (sources.count(n.name)) return Status::Ok();
    if (n.typed && (n.typed->kind == MetricKind::kParams || n.typed->kind == MetricKind::kMacs)) {
      auto src = ev->factory_->make({n, "count"});
      if (!src.ok()) return src.status();
      sources[n.name] = *src;
      return Status::Ok();
    }
    std::vector<std::string> supplied;
    for (const auto& [name, _] : sources) supplied.push_back(name);
    const std::string near = closest_match(n.name, supplied);
    return InvalidArgument(role + " " + n.name + " has no source" +
                           (near.empty() ? "" : " (the sources supply " + near + ")") +
                           "; add --metric " + n.name +
                           "=SOURCE (table:CSV:COLUMN, predictor:FILE, measure:DEVICE, "
                           "supernet:DIR, train:EPOCHS)");
  };
  for (const auto& o : c.objectives) NF_RETURN_IF_ERROR(need(o.metric, "objective"));
  for (const auto& k : c.constraints) NF_RETURN_IF_ERROR(need(k.metric, "constraint"));
  for (const auto& r : c.reports) {
    if (sources.count(r.metric.name) || !named.insert(r.metric.name).second)
      return InvalidArgument("--report " + r.metric.name +
                             " is also a metric the search sees; give it another name");
    auto src = ev->factory_->make(r);
    if (!src.ok()) return src.status().WithContext("--report");
    ev->reports_.emplace_back(r.metric.name, *src);
  }
  return ev;
}

TrialRecord TrialEvaluator::evaluate(const Architecture& a, const std::string& hash) {
  TrialRecord r;
  r.arch = c_.space->to_string(a);
  r.hash = hash;
  r.started_unix =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto t0 = std::chrono::steady_clock::now();
  for (auto& [name, src] : sources_) {
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
    for (const auto& k : c_.constraints) r.violation += k.violation(r.metrics[k.metric.name]);
    if (r.violation > 0) r.status = "infeasible";
    for (auto& [name, src] : reports_) {
      auto v = src->evaluate(a);
      r.report[name] = v.ok() ? *v : NAN;
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace nasforge::evaluation
