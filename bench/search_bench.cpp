// The search engine's figures on NAS-Bench-201 (data/nasbench201), every strategy through the
// same driver a user runs:
//   --part single  best-valid architecture's test accuracy, mean +- std over seeds, and the
//                  mean best-so-far curve (signal valid_acc, or valid_acc_12ep with --signal)
//   --part multi   valid_acc max and latency_ms@raspi4 min: hypervolume as a fraction of the
//                  true front's, computed from the full tables
//   --part speed   WL-GP fit + predict (200 training architectures, 2000 candidates), and the
//                  driver's overhead per ask/tell round trip with a table metric
#include <tbb/parallel_for.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <numeric>
#include <sstream>

#include "bench_flags.h"
#include "nasforge/evaluation/search.h"
#include "nasforge/predictors/accuracy.h"
#include "nasforge/predictors/table.h"
#include "nasforge/strategies/pareto.h"

using namespace nasforge;
using evaluation::MetricSpec;
using evaluation::ObjectiveSpec;
using evaluation::SearchConfig;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Runs `seeds` searches of each strategy in parallel and hands each result to `use`.
// Seeds start at --first-seed (default 1000): the strategies' default knobs were chosen on seeds
// 0-9, so the reported runs do not reuse them.
uint64_t first_seed = 1000;

void run_seeds(const SearchConfig& base, const std::shared_ptr<evaluation::SourceFactory>& f,
               int64_t seeds,
               const std::function<void(int64_t, const evaluation::SearchResult&)>& use) {
  std::vector<std::unique_ptr<evaluation::Search>> searches;
  for (int64_t s = 0; s < seeds; ++s) {
    SearchConfig c = base;
    c.seed = first_seed + static_cast<uint64_t>(s);
    auto made = evaluation::Search::create(c, f);
    if (!made.ok()) {
      std::fprintf(stderr, "%s\n", made.status().message().c_str());
      std::exit(1);
    }
    searches.push_back(std::move(*made));
  }
  std::vector<std::optional<evaluation::SearchResult>> results(static_cast<size_t>(seeds));
  tbb::parallel_for(int64_t{0}, seeds, [&](int64_t s) {
    auto r = searches[static_cast<size_t>(s)]->run();
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().message().c_str());
      std::exit(1);
    }
    results[static_cast<size_t>(s)] = std::move(*r);
  });
  for (int64_t s = 0; s < seeds; ++s) use(s, *results[static_cast<size_t>(s)]);
}

// --options "knob=value,knob=value" for every strategy run (for tuning one strategy).
std::map<std::string, std::string> options(const bench::BenchFlags& f) {
  std::map<std::string, std::string> out;
  for (const auto& kv : f.list("options")) {
    const size_t eq = kv.find('=');
    if (eq != std::string::npos) out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

double mean(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}
double stdev(const std::vector<double>& v) {
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() > 1 ? v.size() - 1 : 1));
}

void single(const bench::BenchFlags& f, const std::shared_ptr<const SearchSpace>& space) {
  const std::string csv = f.root() + "/" + f.str("table");
  SearchConfig base;
  base.space = space;
  base.metrics = {*MetricSpec::parse("accuracy=table:" + csv + ":" + f.str("signal"))};
  base.reports = {*MetricSpec::parse("test_acc=table:" + csv + ":test_acc")};
  base.objectives = {*ObjectiveSpec::parse("accuracy:max")};
  base.budget = static_cast<uint64_t>(f.num("budget"));
  base.options = options(f);
  auto factory =
      std::make_shared<evaluation::SourceFactory>(evaluation::SourceContext{space, "", 0, 1});
  std::printf("NAS-Bench-201 CIFAR-10: signal %s, report test_acc, budget %lld, %lld seeds\n",
              f.str("signal").c_str(), static_cast<long long>(base.budget),
              static_cast<long long>(f.num("seeds")));
  std::printf("%-10s %8s %7s %9s %9s   best-so-far test acc at 10/25/50/100/150 queries\n",
              "strategy", "mean", "std", "repeats", "seconds");
  for (const auto& name : f.list("strategies")) {
    base.strategy = name;
    std::vector<double> finals;
    std::vector<size_t> marks = {10, 25, 50, 100, 150};
    std::vector<std::vector<double>> curve(marks.size());
    double repeats = 0;
    const auto t0 = Clock::now();
    run_seeds(base, factory, f.num("seeds"), [&](int64_t, const evaluation::SearchResult& r) {
      double best = -1, test = 0;
      size_t k = 0;
      for (size_t i = 0; i < r.trials.size(); ++i) {
        const auto& t = r.trials[i];
        if (t.status == "ok" && t.metrics.at("accuracy") > best) {
          best = t.metrics.at("accuracy");
          test = t.report.at("test_acc");
        }
        while (k < marks.size() && i + 1 == marks[k]) curve[k++].push_back(test);
      }
      finals.push_back(test);
      repeats += static_cast<double>(r.repeats);
    });
    std::printf("%-10s %8.2f %7.2f %9.1f %9.1f  ", name.c_str(), mean(finals), stdev(finals),
                repeats / static_cast<double>(finals.size()), seconds_since(t0));
    for (const auto& c : curve) std::printf(" %6.2f", c.empty() ? NAN : mean(c));
    std::printf("\n");
    // The targets set for the 200-epoch signal at budget 150 (docs/benchmarks.md).
    static const std::map<std::string, double> kTargets = {
        {"rea", 94.20}, {"pnas", 94.20}, {"epnas", 94.20}, {"bowl", 94.30}, {"reinforce", 94.00}};
    if (auto it = kTargets.find(name); it != kTargets.end() && f.str("signal") == "valid_acc")
      std::printf(
          "FIGURE search.%s_test_acc: %.2f +- %.2f over %zu seeds, budget %llu, target "
          ">= %.2f: %s\n",
          name.c_str(), mean(finals), stdev(finals), finals.size(),
          static_cast<unsigned long long>(base.budget), it->second,
          mean(finals) >= it->second ? "met" : "missed");
    std::fflush(stdout);
  }
}

void multi(const bench::BenchFlags& f, const std::shared_ptr<const SearchSpace>& space) {
  const std::string acc_csv = f.root() + "/" + f.str("table");
  const std::string lat_csv = f.root() + "/" + f.str("latency-table");
  const std::string device = f.str("device");
  // The true front, from the full tables.
  auto acc = predictors::ArchTable::load(acc_csv, *space);
  auto lat = predictors::ArchTable::load(lat_csv, *space);
  if (!acc.ok() || !lat.ok()) {
    std::fprintf(stderr, "%s\n", (!acc.ok() ? acc.status() : lat.status()).message().c_str());
    std::exit(1);
  }
  const size_t ac = *acc->column(f.str("signal")), lc = *lat->column(device);
  std::vector<strategies::Point> all;
  double worst_acc = 1e300, worst_lat = -1e300;
  for (size_t r = 0; r < acc->rows(); ++r) {
    const double a = acc->values[ac][r];
    const double l = lat->values[lc][lat->row_of.at(space->to_string(acc->archs[r]))];
    all.push_back({a, -l});
    worst_acc = std::min(worst_acc, a);
    worst_lat = std::max(worst_lat, l);
  }
  // Two reference points: the table's worst of each objective (generous: most of the volume is
  // easy), and the true front's own nadir (stringent: only the front's region counts).
  const strategies::Point wide = {worst_acc, -worst_lat};
  strategies::Point nadir = {1e300, 1e300};
  auto front = strategies::pareto_front(all);
  for (size_t i : front)
    for (int m = 0; m < 2; ++m) nadir[m] = std::min(nadir[m], all[i][m]);
  // Reference C: the table's median of each objective, the region better than a typical
  // architecture on both (the most discriminating of the three).
  std::vector<double> accs, lats;
  for (const auto& p : all) accs.push_back(p[0]), lats.push_back(p[1]);
  std::nth_element(accs.begin(), accs.begin() + accs.size() / 2, accs.end());
  std::nth_element(lats.begin(), lats.begin() + lats.size() / 2, lats.end());
  const strategies::Point median = {accs[accs.size() / 2], lats[lats.size() / 2]};
  const double true_median = strategies::hypervolume(all, median);
  const double true_wide = strategies::hypervolume(all, wide);
  const double true_nadir = strategies::hypervolume(all, nadir);
  std::printf(
      "multi-objective: %s max, latency_ms@%s min, budget %lld, %lld seeds; true front: "
      "%zu points\n",
      f.str("signal").c_str(), device.c_str(), static_cast<long long>(f.num("budget")),
      static_cast<long long>(f.num("seeds")), front.size());
  std::printf("reference A (table's worst): accuracy %.3f, latency %.3f ms; true HV %.4f\n",
              worst_acc, worst_lat, true_wide);
  std::printf("reference B (true front's nadir): accuracy %.3f, latency %.3f ms; true HV %.4f\n",
              nadir[0], -nadir[1], true_nadir);
  std::printf("reference C (table's median): accuracy %.3f, latency %.3f ms; true HV %.4f\n",
              median[0], -median[1], true_median);
  SearchConfig base;
  base.space = space;
  base.metrics = {*MetricSpec::parse("accuracy=table:" + acc_csv + ":" + f.str("signal")),
                  *MetricSpec::parse("latency_ms@" + device + "=table:" + lat_csv + ":" + device)};
  base.objectives = {*ObjectiveSpec::parse("accuracy:max"),
                     *ObjectiveSpec::parse("latency_ms@" + device + ":min")};
  base.budget = static_cast<uint64_t>(f.num("budget"));
  base.reference = std::vector<double>{worst_acc, worst_lat};
  base.options = options(f);
  auto factory =
      std::make_shared<evaluation::SourceFactory>(evaluation::SourceContext{space, "", 0, 1});
  std::printf("%-10s %9s %7s %7s %9s %7s %7s %9s %7s %7s %9s\n", "strategy", "HV-A frac", "std",
              "min", "HV-B frac", "std", "min", "HV-C frac", "std", "min", "seconds");
  for (const auto& name : f.list("strategies")) {
    base.strategy = name;
    std::vector<double> fa, fb, fc;
    const auto t0 = Clock::now();
    run_seeds(base, factory, f.num("seeds"), [&](int64_t, const evaluation::SearchResult& r) {
      std::vector<strategies::Point> pts;
      for (const auto& t : r.trials)
        if (t.status == "ok")
          pts.push_back({t.metrics.at("accuracy"), -t.metrics.at("latency_ms@" + device)});
      fa.push_back(strategies::hypervolume(pts, wide) / true_wide);
      fb.push_back(strategies::hypervolume(pts, nadir) / true_nadir);
      fc.push_back(strategies::hypervolume(pts, median) / true_median);
    });
    std::printf("%-10s %9.4f %7.4f %7.4f %9.4f %7.4f %7.4f %9.4f %7.4f %7.4f %9.1f\n", name.c_str(),
                mean(fa), stdev(fa), *std::min_element(fa.begin(), fa.end()), mean(fb), stdev(fb),
                *std::min_element(fb.begin(), fb.end()), mean(fc), stdev(fc),
                *std::min_element(fc.begin(), fc.end()), seconds_since(t0));
    std::fflush(stdout);
  }
}

void speed(const bench::BenchFlags& f, const std::shared_ptr<const SearchSpace>& space) {
  const std::string csv = f.root() + "/" + f.str("table");
  auto table = predictors::ArchTable::load(csv, *space);
  if (!table.ok()) {
    std::fprintf(stderr, "%s\n", table.status().message().c_str());
    std::exit(1);
  }
  const size_t col = *table->column(f.str("signal"));
  auto rows = table->sample_rows(2200, 7);
  std::vector<Architecture> train, cand;
  std::vector<double> y;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i < 200) {
      train.push_back(table->archs[rows[i]]);
      y.push_back(table->values[col][rows[i]]);
    } else {
      cand.push_back(table->archs[rows[i]]);
    }
  }
  std::vector<double> fit_s, pred_s;
  for (int rep = 0; rep < 5; ++rep) {
    predictors::WlGaussianProcess gp(*space);
    auto t0 = Clock::now();
    if (!gp.fit(train, y).ok()) std::exit(1);
    fit_s.push_back(seconds_since(t0));
    t0 = Clock::now();
    auto p = gp.predict_batch(cand);
    pred_s.push_back(seconds_since(t0));
    if (rep == 0)
      std::printf("WL-GP chose h=%d, %s kernel\n", gp.h(), gp.normalised() ? "normalised" : "raw");
  }
  std::sort(fit_s.begin(), fit_s.end());
  std::sort(pred_s.begin(), pred_s.end());
  std::printf(
      "WL-GP fit on 200 (h and normalisation by marginal likelihood): median %.3f s; "
      "predict 2000: median %.3f s; total %.3f s (target <= 1 s)\n",
      fit_s[2], pred_s[2], fit_s[2] + pred_s[2]);
  // Driver overhead: random search with a table metric over many trials, per trial.
  SearchConfig c;
  c.space = space;
  c.metrics = {*MetricSpec::parse("accuracy=table:" + csv + ":" + f.str("signal"))};
  c.objectives = {*ObjectiveSpec::parse("accuracy:max")};
  c.budget = 5000;
  c.strategy = "random";
  auto factory =
      std::make_shared<evaluation::SourceFactory>(evaluation::SourceContext{space, "", 0, 1});
  for (const bool stored : {false, true}) {
    if (stored) {
      c.out_dir = "runs/bench/search_speed";
      std::filesystem::remove_all(c.out_dir);
      c.budget = 500;
    }
    auto s = evaluation::Search::create(c, factory);
    const auto t0 = Clock::now();
    auto r = (*s)->run();
    const double secs = seconds_since(t0);
    std::printf(
        "driver, random + table metric, %s: %.1f us per ask/tell round trip (%llu trials)\n",
        stored ? "each trial committed to SQLite (WAL, synchronous=FULL)" : "in memory",
        1e6 * secs / static_cast<double>(r->trials.size()),
        static_cast<unsigned long long>(r->trials.size()));
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::BenchFlags f(argc, argv,
                      {{"part", "single"},
                       {"space", "zoo/nb201.yaml"},
                       {"table", "data/nasbench201/nb201_cifar10.csv.gz"},
                       {"latency-table", "data/nasbench201/nb201_latency_ms.csv.gz"},
                       {"device", "raspi4"},
                       {"signal", "valid_acc"},
                       {"strategies", "random,rea,nsga2,pnas,epnas,bowl,reinforce,linas"},
                       {"budget", "150"},
                       {"seeds", "100"},
                       {"options", ""},
                       {"first-seed", "1000"}});
  first_seed = static_cast<uint64_t>(f.num("first-seed"));
  torch::set_num_threads(1);
  auto space = f.space();
  const std::string part = f.str("part");
  if (part == "single") {
    single(f, space);
  } else if (part == "multi") {
    multi(f, space);
  } else if (part == "speed") {
    speed(f, space);
  } else {
    std::fprintf(stderr, "--part: expected single, multi or speed, got '%s'\n", part.c_str());
    return 2;
  }
  return 0;
}
