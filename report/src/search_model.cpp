// A search folder's part of the report model: trials, the feasible front, best so far and
// hypervolume after every trial, architecture diagrams and predictor quality.
#include <algorithm>
#include <filesystem>
#include <map>

#include "diagram.h"
#include "model.h"
#include "nasforge/predictors/quality.h"
#include "nasforge/searchspace/folder_lock.h"
#include "nasforge/searchspace/json.h"
#include "nasforge/strategies/pareto.h"

namespace nasforge::report {
namespace {

using evaluation::TrialRecord;

// Diagrams for every trial up to this many; past it, the front's and the best's only.
constexpr size_t kDiagramLimit = 2000;

double sign_of(const evaluation::ObjectiveSpec& o) {
  return o.direction == Direction::kMaximize ? 1.0 : -1.0;
}

bool feasible(const TrialRecord& t) { return t.status == "ok"; }

std::string trial_json(const TrialRecord& t) {
  return "{\"id\": " + std::to_string(t.id) + ", \"arch\": " + json_quote(t.arch) +
         ", \"status\": " + json_quote(t.status) +
         ", \"metrics\": " + evaluation::metrics_json(t.metrics) +
         ", \"report\": " + evaluation::metrics_json(t.report) +
         ", \"violation\": " + json_number(t.violation) +
         ", \"seconds\": " + json_number(t.seconds) +
         (t.error.empty() ? "" : ", \"error\": " + json_quote(t.error)) + "}";
}

std::string number_list(const std::vector<std::optional<double>>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + (v[i] ? json_number(*v[i]) : std::string("null"));
  return s + "]";
}

// Best feasible value of each objective after each trial, in the objective's own units.
std::string best_so_far_json(const SearchRun& r) {
  const auto& objectives = r.stored.objectives;
  std::string s = "{";
  for (size_t m = 0; m < objectives.size(); ++m) {
    std::vector<std::optional<double>> best;
    std::optional<double> cur;
    const double sign = sign_of(objectives[m]);
    for (const auto& t : r.stored.trials) {
      if (feasible(t)) {
        const double v = t.metrics.at(objectives[m].metric.name);
        if (!cur || sign * v > sign * *cur) cur = v;
      }
      best.push_back(cur);
    }
    s += (m ? ", " : "") + json_quote(objectives[m].metric.name) + ": " + number_list(best);
  }
  return s + "}";
}

// The hypervolume of the feasible front after each trial, against `reference`; recomputed only
// when a trial joins the front.
std::vector<double> hypervolume_curve(const SearchRun& r, const std::vector<double>& reference) {
  const auto& objectives = r.stored.objectives;
  strategies::Point ref(objectives.size());
  for (size_t m = 0; m < objectives.size(); ++m) ref[m] = sign_of(objectives[m]) * reference[m];
  std::vector<strategies::Point> front;
  std::vector<double> out;
  double hv = 0;
  for (const auto& t : r.stored.trials) {
    if (feasible(t)) {
      strategies::Point p(objectives.size());
      for (size_t m = 0; m < objectives.size(); ++m)
        p[m] = sign_of(objectives[m]) * t.metrics.at(objectives[m].metric.name);
      const bool dominated = std::any_of(front.begin(), front.end(), [&](const auto& q) {
        return strategies::dominates(q, p) || q == p;
      });
      if (!dominated) {
        front.erase(std::remove_if(front.begin(), front.end(),
                                   [&](const auto& q) { return strategies::dominates(p, q); }),
                    front.end());
        front.push_back(p);
        hv = strategies::hypervolume(front, ref);
      }
    }
    out.push_back(hv);
  }
  return out;
}

// Each latency metric a predictor gave, against a metric or report the run measured on the
// same device (measure:DEVICE): the points, Kendall's tau, Spearman and the mean relative error.
std::string predictor_json(const SearchRun& r) {
  auto sources = r.stored.sources;
  sources.insert(r.stored.report_sources.begin(), r.stored.report_sources.end());
  std::string s = "[";
  for (const auto& [pname, psrc] : sources) {
    if (psrc.rfind("predictor:", 0) != 0) continue;
    const auto at = pname.find('@');
    if (at == std::string::npos) continue;
    const std::string device = pname.substr(at + 1);
    for (const auto& [mname, msrc] : sources) {
      if (msrc != "measure:" + device) continue;
      std::vector<double> pred, meas;
      std::string points = "[";
      for (const auto& t : r.stored.trials) {
        auto get = [&](const std::string& n) -> std::optional<double> {
          if (auto i = t.metrics.find(n); i != t.metrics.end()) return i->second;
          if (auto i = t.report.find(n); i != t.report.end()) return i->second;
          return std::nullopt;
        };
        auto p = get(pname), m = get(mname);
        if (!p || !m) continue;
        pred.push_back(*p);
        meas.push_back(*m);
        points += (points.size() > 1 ? ", " : "") + std::string("[") + json_number(*p) + ", " +
                  json_number(*m) + ", " + std::to_string(t.id) + "]";
      }
      double rel = 0;
      for (size_t i = 0; i < pred.size(); ++i) rel += std::abs(pred[i] - meas[i]) / meas[i];
      const bool enough = pred.size() >= 2;
      s += (s.size() > 1 ? ", " : "") + std::string("{\"predicted\": ") + json_quote(pname) +
           ", \"measured\": " + json_quote(mname) + ", \"source\": " + json_quote(psrc) +
           ", \"points\": " + points +
           "], \"kendall\": " + (enough ? json_number(predictors::kendall(pred, meas)) : "null") +
           ", \"spearman\": " + (enough ? json_number(predictors::spearman(pred, meas)) : "null") +
           ", \"mape\": " + (pred.empty() ? "null" : json_number(rel / pred.size())) + "}";
    }
  }
  return s + "]";
}

std::string diagrams_json(const SearchRun& r) {
  const auto& trials = r.stored.trials;
  std::vector<bool> keep(trials.size(), trials.size() <= kDiagramLimit);
  for (size_t i : r.stored.pareto) keep[i] = true;
  std::string s = "{";
  for (size_t i = 0; i < trials.size(); ++i) {
    if (!keep[i]) continue;
    auto a = r.stored.space->parse(trials[i].arch);
    if (!a.ok()) continue;  // a trial of an older space version: the table still lists it
    s += (s.size() > 1 ? ", " : "") + json_quote(std::to_string(trials[i].id)) + ": " +
         diagram_json(*r.stored.space, *a);
  }
  return s + "}";
}

std::string state_of(const SearchRun& r) {
  const auto& c = r.stored.config;
  const std::string budget = c.count("budget") ? c.at("budget") : "?";
  const std::string done = std::to_string(r.stored.trials.size()) + " of " + budget + " trials";
  if (r.running) return "running (" + *r.running + "): " + done + " so far";
  if (std::to_string(r.stored.trials.size()) == budget) return "finished: " + done;
  return "stopped: " + done + " (the same command resumes it)";
}

}  // namespace

std::string run_name(const std::string& dir) {
  auto p = std::filesystem::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

StatusOr<SearchRun> load_search_run(const std::string& dir) {
  SearchRun r;
  r.dir = dir;
  r.name = run_name(dir);
  r.running = FolderLock::holder(dir);
  auto s = evaluation::load_search(dir);
  if (!s.ok()) return s.status();
  r.stored = std::move(*s);
  auto strategy = r.stored.config.find("strategy");
  r.baseline = strategy != r.stored.config.end() && strategy->second == "random";
  return r;
}

std::vector<double> shared_reference(const std::vector<const SearchRun*>& runs) {
  const auto& objectives = runs.front()->stored.objectives;
  std::vector<std::optional<double>> worst(objectives.size());
  for (const SearchRun* r : runs)
    for (const auto& t : r->stored.trials)
      if (feasible(t))
        for (size_t m = 0; m < objectives.size(); ++m) {
          const double v = t.metrics.at(objectives[m].metric.name);
          if (!worst[m] || sign_of(objectives[m]) * v < sign_of(objectives[m]) * *worst[m])
            worst[m] = v;
        }
  std::vector<double> out;
  for (const auto& w : worst) out.push_back(w.value_or(0));
  return out;
}

std::string search_run_json(const SearchRun& r, const std::vector<double>& reference) {
  const auto& st = r.stored;
  const auto& c = st.config;
  auto conf = [&](const char* k) { return c.count(k) ? c.at(k) : std::string(); };
  std::string s =
      "{\"kind\": \"search\", \"name\": " + json_quote(r.name) + ", \"dir\": " + json_quote(r.dir) +
      ", \"space\": " + json_quote(st.space->name()) +
      ", \"strategy\": " + json_quote(conf("strategy")) +
      ", \"budget\": " + json_quote(conf("budget")) + ", \"seed\": " + json_quote(conf("seed")) +
      ", \"baseline\": " + (r.baseline ? "true" : "false") +
      ", \"running\": " + (r.running ? "true" : "false") +
      ", \"state\": " + json_quote(state_of(r)) + ", \"objectives\": [";
  for (size_t m = 0; m < st.objectives.size(); ++m) {
    const auto& o = st.objectives[m];
    s += std::string(m ? ", " : "") + "{\"name\": " + json_quote(o.metric.name) +
         ", \"direction\": " + (o.direction == Direction::kMaximize ? "\"max\"" : "\"min\"") +
         ", \"unit\": " + json_quote(o.metric.unit()) + "}";
  }
  s += "], \"constraints\": [";
  for (size_t k = 0; k < st.constraints.size(); ++k) {
    const auto& b = st.constraints[k];
    s += std::string(k ? ", " : "") + "{\"metric\": " + json_quote(b.metric.name) +
         ", \"min\": " + (b.min ? json_number(*b.min) : "null") +
         ", \"max\": " + (b.max ? json_number(*b.max) : "null") +
         ", \"text\": " + json_quote(b.str()) + "}";
  }
  s += "], \"trials\": [";
  for (size_t i = 0; i < st.trials.size(); ++i) s += (i ? ", " : "") + trial_json(st.trials[i]);
  s += "], \"front\": [";
  for (size_t i = 0; i < st.pareto.size(); ++i)
    s += (i ? ", " : "") + std::to_string(st.trials[st.pareto[i]].id);
  s += "], \"best_so_far\": " + best_so_far_json(r) + ", \"reference\": [";
  for (size_t m = 0; m < reference.size(); ++m) s += (m ? ", " : "") + json_number(reference[m]);
  s += "], \"hypervolume\": [";
  const auto hv = hypervolume_curve(r, reference);
  for (size_t i = 0; i < hv.size(); ++i) s += (i ? ", " : "") + json_number(hv[i]);
  s += "], \"predictor\": " + predictor_json(r) + ", \"diagrams\": " + diagrams_json(r) + "}";
  return s;
}

}  // namespace nasforge::report
