// search and explain: the search driver from the command line or a config file, and what the
// WL-kernel GP learnt from a finished run.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "cli.h"
#include "distributed_flags.h"
#include "nasforge/evaluation/search.h"
#include "nasforge/predictors/accuracy.h"
#include "nasforge/searchspace/dsl.h"
#include "nasforge/searchspace/files.h"
#include "nasforge/searchspace/yaml_ast.h"
#include "progress.h"
#include "run_report.h"
#include "search_common.h"
#include "search_workers.h"

namespace nasforge::cli {

namespace fs = std::filesystem;
using evaluation::ConstraintSpec;
using evaluation::MetricSpec;
using evaluation::ObjectiveSpec;
using evaluation::SearchConfig;

namespace {

// Reads --config FILE into flag values; flags on the command line win. Keys: space, strategy,
// options (mapping), metrics (mapping NAME: SOURCE), reports (mapping), objectives (mapping
// NAME: max|min), constraints (list of strings), budget, seed, batch, out, data, reference.
bool apply_config(const std::string& path, Args& a) {
  Diagnostics d;
  if (!fs::exists(path)) {
    std::cerr << path << ": error: no such config file\n";
    return false;
  }
  auto root = load_yaml_file(path, d);
  if (!root || !root->is_mapping()) {
    if (root)
      d.error(root->loc, "", "expected a mapping of search settings, got " + root->describe());
    std::cerr << d.str();
    return false;
  }
  const std::vector<std::string> scalars = {"space", "strategy", "budget", "seed",
                                            "batch", "out",      "data"};
  const std::vector<std::string> maps = {"options", "metrics", "reports", "objectives"};
  auto set = [&](const std::string& key, const std::string& v) {
    if (!a.has(key)) a.options[key] = v;
  };
  for (const auto& [k, v] : root->entries) {
    const std::string key = k.scalar;
    const bool scalar = std::find(scalars.begin(), scalars.end(), key) != scalars.end();
    const bool map = std::find(maps.begin(), maps.end(), key) != maps.end();
    if (scalar) {
      if (!v.is_scalar())
        d.error(v.loc, key, "expected a single value, got " + v.describe());
      else
        set(key, v.scalar);
    } else if (map) {
      if (!v.is_mapping()) {
        d.error(v.loc, key, "expected a mapping, got " + v.describe());
        continue;
      }
      const std::string flag = key == "options" ? "option" : key.substr(0, key.size() - 1);
      if (a.values.count(flag)) continue;  // the command line wins
      for (const auto& [mk, mv] : v.entries) {
        if (!mv.is_scalar()) {
          d.error(mv.loc, key + "." + mk.scalar, "expected a single value, got " + mv.describe());
          continue;
        }
        const std::string sep = key == "objectives" ? ":" : "=";
        a.values[flag].push_back(mk.scalar + sep + mv.scalar);
        a.options[flag] = a.values[flag].back();
      }
    } else if (key == "constraints" || key == "reference") {
      if (!v.is_sequence()) {
        d.error(v.loc, key, "expected a list, got " + v.describe());
        continue;
      }
      const std::string flag = key == "constraints" ? "constraint" : "reference";
      if (a.values.count(flag)) continue;
      for (const auto& item : v.items) {
        if (!item.is_scalar())
          d.error(item.loc, key, "expected a string, got " + item.describe());
        else
          a.values[flag].push_back(item.scalar), a.options[flag] = item.scalar;
      }
    } else {
      d.error(k.loc, key,
              "unknown key; expected space, strategy, options, metrics, reports, objectives, "
              "constraints, budget, seed, batch, out, data or reference");
    }
  }
  if (!d.ok()) {
    std::cerr << d.str();
    return false;
  }
  return true;
}

}  // namespace

std::string fmt(double v) {
  char buf[32];
  if (std::isnan(v)) return "-";
  if (v == std::floor(v) && std::abs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// The search configuration that the flags of `a` describe; nullopt after printing what is wrong.
std::optional<SearchConfig> search_config(const Command& cmd, const Args& a) {
  auto fail_config = [&](const std::string& what, const std::string& msg) {
    fail(what, msg);
    return std::nullopt;
  };
  SearchConfig c;
  auto space = load_space_or_report(a.get("space"));
  if (!space) return std::nullopt;
  c.space = std::make_shared<const SearchSpace>(std::move(*space));
  c.strategy = a.get("strategy", "random");
  for (const auto& o : a.all("option")) {
    const size_t eq = o.find('=');
    if (eq == std::string::npos || eq == 0)
      return fail_config(cmd.name, "--option: expected KNOB=VALUE, got '" + o + "'");
    c.options[o.substr(0, eq)] = o.substr(eq + 1);
  }
  for (const auto& m : a.all("metric")) {
    auto s = MetricSpec::parse(m);
    if (!s.ok()) return fail_config(cmd.name, "--metric: " + s.status().message());
    c.metrics.push_back(*s);
  }
  for (const auto& m : a.all("report")) {
    auto s = MetricSpec::parse(m);
    if (!s.ok()) return fail_config(cmd.name, "--report: " + s.status().message());
    c.reports.push_back(*s);
  }
  for (const auto& o : a.all("objective")) {
    auto s = ObjectiveSpec::parse(o);
    if (!s.ok()) return fail_config(cmd.name, "--objective: " + s.status().message());
    c.objectives.push_back(*s);
  }
  for (const auto& k : a.all("constraint")) {
    auto s = ConstraintSpec::parse(k);
    if (!s.ok()) return fail_config(cmd.name, "--constraint: " + s.status().message());
    c.constraints.push_back(*s);
  }
  if (a.has("reference")) {
    std::vector<double> ref;
    for (const auto& r : a.all("reference")) {
      auto v = parse_number(r);
      if (!v)
        return fail_config(cmd.name,
                           "--reference: expected a number per objective, got '" + r + "'");
      ref.push_back(*v);
    }
    c.reference = ref;
  }
  auto budget = parse_count("budget", a.get("budget"));
  if (!budget) return std::nullopt;
  c.budget = *budget;
  if (a.has("seed")) {
    auto s = parse_count("seed", a.get("seed"));
    if (!s) return std::nullopt;
    c.seed = *s;
  }
  if (a.has("batch")) {
    auto b = parse_count("batch", a.get("batch"));
    if (!b || *b == 0 || *b > 100000) {
      if (b) std::cerr << "--batch: expected an integer in [1, 100000]\n";
      return std::nullopt;
    }
    c.batch = *b;
  }
  c.out_dir = a.get("out");
  c.data = a.get("data");
  return c;
}

// The human-readable summary of a finished search: counts, the Pareto front, its hypervolume
// and the best architecture.
void print_search_result(const SearchConfig& cfg, const evaluation::SearchResult& r) {
  const evaluation::SearchResult* res = &r;
  if (!res->stopped.empty()) std::cerr << "note: " << res->stopped << "\n";
  if (res->workers_lost > 0)
    std::cerr << "note: " << res->workers_lost << " worker(s) lost; " << res->requeued
              << " trial(s) evaluated again by another worker\n";
  size_t infeasible = 0, failed = 0;
  for (const auto& t : res->trials) {
    infeasible += t.status == "infeasible";
    failed += t.status == "failed";
  }
  std::cout << res->trials.size() << " trials (" << res->reused << " replayed from "
            << (cfg.out_dir.empty() ? "memory" : cfg.out_dir + "/trials.sqlite") << ", "
            << res->repeats << " repeats not counted, " << infeasible << " infeasible, " << failed
            << " failed)\n";
  if (res->pareto.empty()) {
    std::cout << "no feasible architecture was found within the budget\n";
    return;
  }
  // The Pareto front as a table.
  std::vector<std::string> cols;
  for (const auto& o : cfg.objectives)
    cols.push_back(o.metric.name + (o.direction == Direction::kMaximize ? " (max)" : " (min)"));
  for (const auto& r : cfg.reports) cols.push_back(r.metric.name + " (report)");
  std::cout << "Pareto front (" << res->pareto.size() << "):\n  #  trial";
  for (const auto& col : cols) std::cout << "  " << col;
  std::cout << "  arch\n";
  for (size_t i = 0; i < res->pareto.size(); ++i) {
    const auto& t = res->trials[res->pareto[i]];
    std::printf("%3zu  %5lld", i + 1, static_cast<long long>(t.id));
    std::fflush(stdout);
    for (const auto& o : cfg.objectives) std::cout << "  " << fmt(t.metrics.at(o.metric.name));
    for (const auto& r : cfg.reports)
      std::cout << "  " << fmt(t.report.count(r.metric.name) ? t.report.at(r.metric.name) : NAN);
    std::cout << "  " << t.arch << "\n";
  }
  std::cout << "hypervolume " << fmt(res->hypervolume) << " (reference";
  for (size_t m = 0; m < res->reference.size(); ++m)
    std::cout << " " << cfg.objectives[m].metric.name << "=" << fmt(res->reference[m]);
  std::cout << (cfg.reference ? ")\n" : ", the worst feasible value of each objective found)\n");
  if (res->best) {
    const auto& t = res->trials[*res->best];
    std::cout << "best " << cfg.objectives[0].metric.name << ": "
              << fmt(t.metrics.at(cfg.objectives[0].metric.name));
    for (const auto& [k, v] : t.report) std::cout << ", " << k << " " << fmt(v);
    std::cout << "  " << t.arch << "\n";
  }
}

void print_bound_checks(const evaluation::FeasibilityReport& feas) {
  for (const auto& b : feas.checks)
    std::cerr << "constraint " << b.constraint << ": "
              << (b.best ? std::string(b.feasible ? "can be met" : "CANNOT be met") + "; best " +
                               fmt(*b.best) + " (" + b.how + ")"
                         : b.how)
              << "\n";
}

int execute_search(const Command& cmd, const SearchConfig& c, const std::string& space_file,
                   bool json, const std::vector<std::string>& report_also) {
  auto search = evaluation::Search::create(c);
  if (!search.ok()) return fail(cmd.name, search.status().message());
  const SearchConfig cfg = (*search)->config();

  auto feas = (*search)->check_feasibility();
  if (!json) print_bound_checks(feas);
  if (!feas.feasible) {
    std::cerr << "nasforge search: error: " << feas.message << "\n";
    return 2;
  }
  if (!c.out_dir.empty()) {  // the folder exists and is locked by the search (Search::create)
    const fs::path copy = fs::path(c.out_dir) / "space.yaml";
    if (!fs::exists(copy))
      if (Status st = copy_atomically(space_file, copy.string(), "space copy"); !st.ok())
        return fail(cmd.name, st.message());
  }
  ProgressBar bar(cfg.strategy + " on " + cfg.space->name(), static_cast<int64_t>(cfg.budget));
  std::string last;
  auto res = (*search)->run([&](uint64_t done, uint64_t, const std::string& line) {
    last = line;
    if (!json) bar.update(static_cast<int64_t>(done), line);
  });
  if (!res.ok()) return fail(cmd.name, res.status().message());
  if (!json) bar.finish(last);
  // Every trial failed: that is a broken setup (a missing table row, an unreadable source), not
  // a search that found nothing feasible.
  if (!res->trials.empty() &&
      std::all_of(res->trials.begin(), res->trials.end(),
                  [](const evaluation::TrialRecord& t) { return t.status == "failed"; }))
    return fail(cmd.name, "all " + std::to_string(res->trials.size()) +
                              " trials failed; the first, " + res->trials[0].arch + ": " +
                              res->trials[0].error);
  if (!c.out_dir.empty()) {
    search->reset();  // releases the folder, so that the report shows the run as finished
    std::vector<std::string> dirs = {c.out_dir};
    dirs.insert(dirs.end(), report_also.begin(), report_also.end());
    write_run_report(dirs, (fs::path(c.out_dir) / "report.html").string());
  }
  if (json) {
    std::cout << evaluation::result_json(cfg, *res) << "\n";
    if (!std::isfinite(res->hypervolume))
      std::cerr << "warning: the hypervolume is not finite (objective values too large?); "
                   "printed as null\n";
    return 0;
  }
  print_search_result(cfg, *res);
  return 0;
}

namespace {

int run_search(const Command& cmd, const Args& given) {
  Args a = given;
  if (a.has("config") && !apply_config(a.get("config"), a)) return 1;
  if (!a.positional.empty() && !a.has("space")) a.options["space"] = a.positional[0];
  if (is_differentiable(a.get("strategy"))) {
    if (a.has("workers"))
      return fail(cmd.name,
                  "--workers: the differentiable strategies train one supernet; run them "
                  "data-parallel with nasforge launch -n K -- search ... (docs/distributed.md)");
    return run_differentiable_search(cmd, a);
  }
  for (const char* need : {"space", "budget"})
    if (!a.has(need))
      return fail(cmd.name, std::string("expected --") + need + "\n" + command_help(cmd));
  auto c = search_config(cmd, a);
  if (!c || !configure_workers(cmd, a, *c)) return 1;
  if (auto rc = serve_if_worker(cmd, a, *c)) return *rc;
  if (!set_threads(a)) return 1;  // the driver's own: its cheap sources and feasibility checks
  return execute_search(cmd, *c, a.get("space"), a.has("json"));
}

int run_explain(const Command& cmd, const Args& a) {
  if (!a.has("run")) return fail(cmd.name, "expected --run DIR\n" + command_help(cmd));
  const fs::path dir = a.get("run");
  auto stored = evaluation::load_search(dir.string());
  if (!stored.ok()) return fail(cmd.name, stored.status().message());
  const SearchSpace& space = *stored->space;
  std::string metric = a.get("metric");
  std::vector<Architecture> x;
  std::vector<double> y;
  for (const auto& t : stored->trials) {
    if (t.status == "failed") continue;
    if (metric.empty() && !t.metrics.empty()) {
      metric = t.metrics.count("accuracy") ? "accuracy" : t.metrics.begin()->first;
    }
    auto it = t.metrics.find(metric);
    if (it == t.metrics.end()) continue;
    auto arch = space.parse(t.arch);
    if (!arch.ok())
      return fail(cmd.name, "trial " + std::to_string(t.id) + ": " + arch.status().message());
    x.push_back(*arch);
    y.push_back(it->second);
  }
  if (x.size() < 3)
    return fail(cmd.name, dir.string() + ": expected at least 3 trials with metric '" + metric +
                              "', got " + std::to_string(x.size()));
  predictors::WlGaussianProcess gp(space);
  if (Status st = gp.fit(x, y); !st.ok()) return fail(cmd.name, st.message());
  size_t top = 8;
  if (a.has("top")) {
    auto t = parse_count("top", a.get("top"));
    if (!t) return 1;
    top = *t;
  }
  auto motifs = gp.motifs(std::max<int>(2, static_cast<int>(x.size() / 20)));
  std::cout << "WL-kernel GP on " << x.size() << " trials of " << metric << ": h = " << gp.h()
            << ", " << (gp.normalised() ? "normalised" : "raw") << " kernel, noise "
            << fmt(gp.noise()) << ", log marginal likelihood " << fmt(gp.log_marginal_likelihood())
            << "\n";
  auto show = [&](bool positive) {
    std::cout << (positive ? "motifs that most raise " : "motifs that most lower ") << metric
              << ":\n";
    size_t shown = 0;
    for (const auto& m : motifs) {
      if ((m.effect > 0) != positive) continue;
      std::printf("  %+9.4f  in %3d trials  h%d  %s\n", m.effect, m.support, m.iteration,
                  m.label.c_str());
      if (++shown == top) break;
    }
    if (shown == 0) std::cout << "  (none)\n";
  };
  show(true);
  show(false);
  return 0;
}

NF_CMD(kSearch, "search", "Search a space under hard constraints; print the Pareto front.",
       "--space FILE --budget N [--strategy NAME] --metric NAME=SOURCE ... [--report NAME=SOURCE "
       "...] [--objective NAME:max|min ...] [--constraint EXPR ...] [--seed S] [--out DIR] "
       "[--workers K] [--json] | --config FILE | --strategy "
       "darts|gdas|sharpdarts|gold|hardcore|proxyless "
       "--data D --epochs E [--max-steps N] [--train-config T.yaml] --out DIR ...",
       {{"space", true, "the search space (YAML)"},
        {"config", true, "read these settings from a YAML file; flags given here win"},
        {"strategy", true,
         "random (default), rea, nsga2, pnas, epnas, bowl, reinforce, linas, list; the "
         "differentiable darts, gdas, sharpdarts, gold, hardcore, proxyless"},
        {"option", true, "a strategy knob KNOB=VALUE (repeatable; see nasforge list strategies)",
         true},
        {"metric", true, "NAME=SOURCE for an objective or constraint metric (repeatable)", true},
        {"report", true,
         "NAME=SOURCE recorded for the answer, never shown to the strategy (repeatable)", true},
        {"objective", true, "NAME:max or NAME:min (repeatable; default: the space's objectives)",
         true},
        {"constraint", true, "a hard constraint such as 'latency_ms@raspi4<=15' (repeatable)",
         true},
        {"reference", true, "hypervolume reference value, one per objective in order (repeatable)",
         true},
        {"budget", true, "distinct architectures to evaluate"},
        {"seed", true, "random seed (default 0)"},
        {"batch", true, "architectures per ask (default 1)"},
        {"out", true, "run folder: trials.sqlite (resumes when it exists) and space.yaml"},
        {"data", true,
         "data for train: sources and the differentiable strategies (fashion-mnist, "
         "cifar10:DIR, synthetic)"},
        {"epochs", true, "differentiable strategies: epochs of the search (overrides the config)"},
        {"max-steps", true, "differentiable strategies: stop after this many weight steps"},
        {"train-config", true,
         "differentiable strategies: the weights' training config YAML (docs/supernet.md)"},
        {"threads", true, "LibTorch threads (default: all cores; with --workers, per worker)"},
        {"workers", true,
         "evaluate in K worker processes, trials asked for while others run (docs/distributed.md)"},
        {"worker-timeout", true,
         "seconds without a worker's heartbeat before its trial goes to another (default 60)"},
        {"json", false, "print the result as JSON"}},
       run_search, 1, /*distributed=*/true, /*driver_led=*/true)
NF_CMD(kExplain, "explain",
       "Fit the WL-kernel GP on a search run and print the subtree motifs that most raise or "
       "lower the metric (NAS-BOWL).",
       "--run DIR [--metric NAME] [--top K]",
       {{"run", true, "a search run folder (--out of nasforge search)"},
        {"metric", true, "the metric to explain (default accuracy, else the first)"},
        {"top", true, "motifs to print each way (default 8)"}},
       run_explain)

}  // namespace
}  // namespace nasforge::cli
