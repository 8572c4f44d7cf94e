// The DARTS family's figures (issue I), each against a baseline measured in the same run.
//
//   --figure nb201: every differentiable strategy, --seeds seeds each, searches a NAS-Bench-201
//     cell; the derived cell is looked up in the published CIFAR-10 table (test accuracy).
//     Baselines: random cells drawn in the same run, looked up the same way, and the table's
//     optimum. Also the skip share of each derived cell (DARTS's collapse).
//   --figure hardcore: HardCoRe and GOLD on --space (default zoo/mobilenet.yaml) under a CPU
//     latency bound at the median of a lut measured in the same run: how often E[latency]
//     broke the bound during the search, each derived network measured end to end against the
//     bound, and inherited accuracy beside nsga2's best under the same bound on the same
//     supernet.
//   --figure cost: wall time of a DARTS search epoch (first and second order) against one SPOS
//     supernet epoch on the same space, data and batch, interleaved; peak RSS of each phase.
//
// usage: darts_bench [ROOT] --figure nb201|hardcore|cost [--space FILE] [--data fashion-mnist]
//          [--train 2000] [--valid 1000] [--epochs 2] [--batch 64] [--seeds 3]
//          [--strategies darts,gdas,sharpdarts,gold,hardcore,proxyless] [--nsga2_budget 30]
//          [--knobs KNOB=VALUE,...]   (knobs every method takes, such as arch_warmup=2)
//          [--threads 2]
#include <sys/resource.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "bench_flags.h"
#include "nasforge/differentiable/cost_model.h"
#include "nasforge/differentiable/relaxation.h"
#include "nasforge/differentiable/search.h"
#include "nasforge/evaluation/search.h"
#include "nasforge/hardware/device.h"
#include "nasforge/hardware/profile.h"
#include "nasforge/latency/predictors.h"
#include "nasforge/predictors/table.h"
#include "nasforge/searchspace/files.h"
#include "nasforge/supernet/run.h"

using namespace nasforge;
using namespace nasforge::differentiable;
using nasforge::predictors::Predictor;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

// A fresh folder under $TMPDIR for one run's checkpoints.
std::string temp_dir() {
  std::string t = (std::filesystem::temp_directory_path() / "darts_bench_XXXXXX").string();
  if (!mkdtemp(t.data())) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  return t;
}

data::Splits load(const bench::BenchFlags& f, const SearchSpace& space) {
  auto d = supernet::load_data_for(f.str("data"), space, 0, f.num("valid"));
  if (!d.ok()) {
    std::fprintf(stderr, "%s\n", d.status().message().c_str());
    std::exit(1);
  }
  d->train = {d->train.images.slice(0, 0, f.num("train")),
              d->train.labels.slice(0, 0, f.num("train"))};
  return *d;
}

std::pair<double, double> mean_std(const std::vector<double>& v) {
  double m = 0, s = 0;
  for (double x : v) m += x / static_cast<double>(v.size());
  for (double x : v) s += (x - m) * (x - m);
  return {m, v.size() > 1 ? std::sqrt(s / static_cast<double>(v.size() - 1)) : 0.0};
}

SearchOptions options_for(Method m, const bench::BenchFlags& f, const SearchSpace& space,
                          uint64_t seed) {
  SearchOptions o;
  o.method = m;
  std::map<std::string, std::string> knobs = {{"hessian_iters", "4"}};
  for (const auto& kv : f.list("knobs")) {  // --knobs arch_warmup=2,... for every method
    const size_t eq = kv.find('=');
    if (eq != std::string::npos) knobs[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto parsed = MethodKnobs::make(m, knobs);
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s\n", parsed.status().message().c_str());
    std::exit(2);
  }
  o.knobs = *parsed;
  o.train.batch_size = f.num("batch");
  o.train.epochs = f.num("epochs");
  o.train.lr = 0.025;  // DARTS's weight schedule
  o.train.weight_decay = 3e-4;
  o.train.grad_clip = 5;
  o.train.label_smoothing = 0;
  o.train.seed = seed;
  o.train.bn_recalibration_batches = 4;
  if (m == Method::kGold || m == Method::kHardCore || m == Method::kProxyless) {
    auto cost = make_cost(space, "params", "count", std::nullopt);
    o.cost = *cost;
    if (m == Method::kHardCore) {  // a bound at the uniform distribution's expected size
      std::vector<std::vector<double>> uniform;
      for (const auto& d : space.decisions())
        uniform.emplace_back(d.domain.size(), 1.0 / static_cast<double>(d.domain.size()));
      std::vector<at::Tensor> t;
      for (const auto& u : uniform) t.push_back(torch::tensor(u, torch::kFloat64));
      o.cost->bound = (*o.cost->model)(t).item<double>();
      Architecture small(std::vector<uint32_t>(space.decisions().size(), 1));  // all skip
      space.normalize(small);
      o.feasible = small;
    }
  }
  return o;
}

int figure_nb201(const bench::BenchFlags& f) {
  auto space = f.space();
  Diagnostics d;
  auto nb201 = load_space(f.root() + "/zoo/nb201.yaml", d);
  auto table =
      predictors::ArchTable::load(f.root() + "/data/nasbench201/nb201_cifar10.csv.gz", *nb201);
  if (!table.ok()) {
    std::fprintf(stderr, "%s\n", table.status().message().c_str());
    return 1;
  }
  const size_t col = *table->column("test_acc");
  auto lookup = [&](const std::string& arch) {
    auto it = table->row_of.find(arch);
    return it == table->row_of.end() ? std::nan("") : table->values[col][it->second];
  };
  const auto data = load(f, *space);
  std::printf(
      "NAS-Bench-201 cells searched on %s (%lld train / %lld valid images of %s, %lld "
      "epochs, batch %lld), looked up in the CIFAR-10 table (test_acc, 200 epochs)\n",
      space->name().c_str(), static_cast<long long>(data.train.size()),
      static_cast<long long>(data.valid.size()), data.name.c_str(),
      static_cast<long long>(f.num("epochs")), static_cast<long long>(f.num("batch")));
  if (!f.str("knobs").empty()) std::printf("knobs: %s\n", f.str("knobs").c_str());
  double optimum = 0;
  for (double v : table->values[col]) optimum = std::max(optimum, v);
  Rng rng(2026);
  std::vector<double> random;
  for (int64_t i = 0; i < 3 * f.num("seeds"); ++i)
    random.push_back(lookup(space->to_string(space->sample(rng))));
  const auto [rm, rs] = mean_std(random);
  std::printf(
      "baseline: random cells %.2f +- %.2f (n = %zu); table optimum %.2f; published: "
      "DARTS 54.30, GDAS 93.51, random search 93.70, optimum 94.37\n",
      rm, rs, random.size(), optimum);
  for (const auto& name : f.list("strategies")) {
    const auto method = parse_method(name);
    if (!method) {
      std::fprintf(stderr, "unknown strategy %s\n", name.c_str());
      return 2;
    }
    std::vector<double> accs, skips;
    for (int64_t seed = 0; seed < f.num("seeds"); ++seed) {
      auto t0 = std::chrono::steady_clock::now();
      auto s = DifferentiableSearch::create(space, data, options_for(*method, f, *space, seed));
      if (!s.ok()) return 1;
      const std::string dir = temp_dir();
      if (Status st = (*s)->run(dir); !st.ok()) {
        std::fprintf(stderr, "%s\n", st.message().c_str());
        return 1;
      }
      std::filesystem::remove_all(dir);
      const std::string arch = space->to_string((*s)->derived().back());
      const double acc = lookup(arch);
      const double skip = (*s)->history().back().parameter_free;
      accs.push_back(acc);
      skips.push_back(skip);
      std::printf("  %-10s seed %lld  %6.2f  skip/none share %.2f  hessian %.3g  %s  (%.1f min)\n",
                  name.c_str(), static_cast<long long>(seed), acc, skip,
                  (*s)->history().back().hessian, arch.c_str(), seconds_since(t0) / 60);
      std::fflush(stdout);
    }
    const auto [m, sd] = mean_std(accs);
    const auto [sk, _] = mean_std(skips);
    const bool aim = name == "gdas" || name == "sharpdarts";
    std::printf("FIGURE darts.nb201_%s: %.2f +- %.2f (n = %zu; skip/none share %.2f; %s)\n",
                name.c_str(), m, sd, accs.size(), sk,
                aim ? (m >= 93.0 ? "aim >= 93.0 met" : "aim >= 93.0 missed") : "no target");
  }
  return 0;
}

// A run folder that the supernet: source reads (the checkpoint is the search's).
void write_run_folder(const std::string& dir, const bench::BenchFlags& f,
                      const supernet::TrainConfig& c) {
  std::filesystem::create_directories(dir);
  for (const Status& st :
       {copy_atomically(f.root() + "/" + f.str("space"), dir + "/space.yaml", "space"),
        write_atomically(dir + "/train.yaml", c.str(), "train.yaml"),
        write_atomically(dir + "/run.yaml",
                         "data: " + f.str("data") + "\nvalid_size: " + f.str("valid") + "\n",
                         "run.yaml")})
    if (!st.ok()) {
      std::fprintf(stderr, "darts_bench: %s\n", st.message().c_str());
      std::exit(1);
    }
}

// The search driver over `config`; exits on an error.
evaluation::SearchResult drive(evaluation::SearchConfig config) {
  auto s = evaluation::Search::create(std::move(config));
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.status().message().c_str());
    std::exit(1);
  }
  auto r = (*s)->run();
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.status().message().c_str());
    std::exit(1);
  }
  return *r;
}

// What figure_hardcore shares between its methods.
struct BoundSetting {
  std::shared_ptr<const SearchSpace> space;
  std::string work, lut_source, constraint;
  double bound = 0;
  Architecture cheapest;
  hardware::Device* device = nullptr;
  const Predictor* lut = nullptr;
};

// One constrained method: trained, its derived architectures priced by the lut and measured
// end to end, then evaluated with inherited weights. Returns the best inherited accuracy.
double run_constrained(Method m, const bench::BenchFlags& f, const BoundSetting& b,
                       const data::Splits& data) {
  const std::string name = info_of(m).name;
  SearchOptions o = options_for(Method::kDarts, f, *b.space, 0);
  o.method = m;
  o.knobs = *MethodKnobs::make(m, {{"hessian_iters", "0"}});
  o.cost = *make_cost(*b.space, "latency_ms@cpu", b.lut_source, b.bound);
  o.feasible = b.cheapest;
  const std::string dir = b.work + "/" + name;
  write_run_folder(dir, f, o.train);
  auto t0 = std::chrono::steady_clock::now();
  auto s = DifferentiableSearch::create(b.space, data, o);
  if (!s.ok() || !(*s)->run(dir).ok()) std::exit(1);
  double max_ratio = 0;
  for (const auto& r : (*s)->history()) max_ratio = std::max(max_ratio, r.max_cost_ratio);
  const int64_t violations = (*s)->history().back().violations;
  const auto derived = (*s)->derived();
  std::string lines;
  size_t measured_over = 0, lut_over = 0;
  for (const auto& a : derived) {
    lines += b.space->to_string(a) + "\n";
    auto meas = b.device->measure_network(*b.space, a);
    const double lut_ms = b.lut->predict(a).mean;
    lut_over += lut_ms > b.bound;
    measured_over += meas.ok() && meas->median_ms > b.bound;
    std::printf("  %-8s derived: lut %.3f ms, measured %.3f ms (bound %.3f)  %s\n", name.c_str(),
                lut_ms, meas.ok() ? meas->median_ms : std::nan(""), b.bound,
                b.space->to_string(a).c_str());
  }
  if (Status st = write_atomically(b.work + "/" + name + ".txt", lines, "derived"); !st.ok()) {
    std::fprintf(stderr, "darts_bench: %s\n", st.message().c_str());
    std::exit(1);
  }
  evaluation::SearchConfig c;
  c.space = b.space;
  c.strategy = "list";
  c.options = {{"file", b.work + "/" + name + ".txt"}};
  c.metrics = {*evaluation::MetricSpec::parse("accuracy=supernet:" + dir),
               *evaluation::MetricSpec::parse("latency_ms@cpu=" + b.lut_source)};
  c.objectives = {*evaluation::ObjectiveSpec::parse("accuracy:max")};
  c.constraints = {*evaluation::ConstraintSpec::parse(b.constraint)};
  c.budget = derived.size();
  const auto r = drive(c);
  const double best = r.best ? r.trials[*r.best].metrics.at("accuracy") : std::nan("");
  std::printf(
      "  %-8s %.1f min; E[latency] broke the bound at %lld steps (max E/bound %.4f); derived "
      "%zu, over the bound by lut %zu, measured %zu; best inherited accuracy %.2f%%\n",
      name.c_str(), seconds_since(t0) / 60, static_cast<long long>(violations), max_ratio,
      derived.size(), lut_over, measured_over, best);
  const char* sp = b.space->name().c_str();
  if (m == Method::kHardCore) {
    std::printf("FIGURE darts.hardcore_violations_%s: %lld (target 0: %s)\n", sp,
                static_cast<long long>(violations), violations == 0 ? "met" : "missed");
    std::printf("FIGURE darts.hardcore_measured_over_bound_%s: %zu of %zu (target 0: %s)\n", sp,
                measured_over, derived.size(), measured_over == 0 ? "met" : "missed");
  } else {
    std::printf(
        "FIGURE darts.gold_violations_%s: %lld (a penalty, not a constraint: no target); %zu "
        "of %zu derived over the bound by lut\n",
        sp, static_cast<long long>(violations), lut_over, derived.size());
  }
  return best;
}

int figure_hardcore(const bench::BenchFlags& f) {
  BoundSetting b;
  b.space = f.space();
  b.work = temp_dir();
  hardware::DeviceOptions dopt;
  dopt.threads = 1;
  dopt.measure.time_limit_s = 0.3;
  dopt.measure.rel_ci = 0.05;
  auto dev = hardware::make_device("cpu", dopt);
  if (!dev.ok()) return 1;
  auto profile = hardware::build_profile(*b.space, **dev, b.work + "/cpu.json");
  if (!profile.ok()) {
    std::fprintf(stderr, "%s\n", profile.status().message().c_str());
    return 1;
  }
  latency::PredictorContext ctx;
  ctx.space = b.space.get();
  ctx.profile = &*profile;
  auto lut = latency::make_predictor("lut", ctx);
  if (!lut.ok() || !(*lut)->save(b.work + "/lut.json").ok()) return 1;
  Rng rng(99);
  std::vector<double> ms;
  b.cheapest = b.space->sample(rng);
  for (int i = 0; i < 400; ++i) {
    Architecture a = b.space->sample(rng);
    ms.push_back((*lut)->predict(a).mean);
    if (ms.back() < (*lut)->predict(b.cheapest).mean) b.cheapest = a;
  }
  std::sort(ms.begin(), ms.end());
  b.bound = ms[ms.size() / 2];
  b.device = dev->get();
  b.lut = lut->get();
  b.lut_source = "predictor:" + b.work + "/lut.json";
  b.constraint = "latency_ms@cpu<=" + std::to_string(b.bound);
  std::printf(
      "%s on cpu: %zu units profiled; lut latency over 400 random architectures %.3f .. "
      "%.3f ms, bound at the median %.3f ms\n",
      b.space->name().c_str(), profile->entries.size(), ms.front(), ms.back(), b.bound);
  const auto data = load(f, *b.space);
  const double hardcore_accuracy = run_constrained(Method::kHardCore, f, b, data);
  run_constrained(Method::kGold, f, b, data);
  evaluation::SearchConfig c;
  c.space = b.space;
  c.strategy = "nsga2";
  c.metrics = {*evaluation::MetricSpec::parse("accuracy=supernet:" + b.work + "/hardcore"),
               *evaluation::MetricSpec::parse("latency_ms@cpu=" + b.lut_source)};
  c.objectives = {*evaluation::ObjectiveSpec::parse("accuracy:max"),
                  *evaluation::ObjectiveSpec::parse("latency_ms@cpu:min")};
  c.constraints = {*evaluation::ConstraintSpec::parse(b.constraint)};
  c.budget = static_cast<uint64_t>(f.num("nsga2_budget"));
  const auto r = drive(c);
  const double nsga2_accuracy = r.best ? r.trials[*r.best].metrics.at("accuracy") : std::nan("");
  std::printf(
      "FIGURE darts.hardcore_vs_nsga2_accuracy_%s: %.2f vs %.2f (inherited accuracy on "
      "HardCoRe's supernet under the same bound; nsga2 budget %lld; no target)\n",
      b.space->name().c_str(), hardcore_accuracy, nsga2_accuracy,
      static_cast<long long>(f.num("nsga2_budget")));
  std::filesystem::remove_all(b.work);
  return 0;
}

int figure_cost(const bench::BenchFlags& f) {
  auto space = f.space();
  const auto data = load(f, *space);
  supernet::TrainConfig c;
  c.batch_size = f.num("batch");
  c.epochs = 1;
  c.bn_recalibration_batches = 0;
  std::printf("one epoch of %lld images at batch %lld on %s, %d threads\n",
              static_cast<long long>(data.train.size()), static_cast<long long>(c.batch_size),
              space->name().c_str(), torch::get_num_threads());
  double spos = 0, first = 0, second = 0, rss_spos = 0, rss_first = 0, rss_second = 0;
  for (int round = 0; round < 2; ++round) {  // interleaved, the second round counts
    auto t0 = std::chrono::steady_clock::now();
    supernet::SupernetTrainer trainer(supernet::Supernet(space), data, c);
    while (trainer.step()) {
    }
    spos = seconds_since(t0);
    if (round == 0) rss_spos = peak_rss_mb();
    for (int order : {1, 2}) {
      SearchOptions o;
      o.method = Method::kDarts;
      o.knobs = *MethodKnobs::make(Method::kDarts,
                                   {{"order", std::to_string(order)}, {"hessian_iters", "0"}});
      o.train = c;
      auto s = DifferentiableSearch::create(space, data, o);
      if (!s.ok()) return 1;
      const std::string dir = temp_dir();
      t0 = std::chrono::steady_clock::now();
      if (!(*s)->run(dir).ok()) return 1;
      (order == 1 ? first : second) = seconds_since(t0);
      if (round == 0) (order == 1 ? rss_first : rss_second) = peak_rss_mb();
      std::filesystem::remove_all(dir);
    }
  }
  std::printf("SPOS epoch %.1f s; DARTS epoch %.1f s (first order), %.1f s (second order)\n", spos,
              first, second);
  std::printf(
      "peak RSS of the process (it only grows; the first round runs SPOS, then first order, then "
      "second order): %.0f MB after SPOS, %.0f MB after first order, %.0f MB after second "
      "order\n",
      rss_spos, rss_first, rss_second);
  std::printf("FIGURE darts.epoch_vs_spos_%s: %.2f (first order), %.2f (second order; no target)\n",
              space->name().c_str(), first / spos, second / spos);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bench::BenchFlags f(argc, argv,
                      {{"figure", "nb201"},
                       {"space", "bench/spaces/nb201_n1.yaml"},
                       {"data", "fashion-mnist"},
                       {"train", "2000"},
                       {"valid", "1000"},
                       {"epochs", "2"},
                       {"batch", "64"},
                       {"seeds", "3"},
                       {"strategies", "darts,gdas,sharpdarts,gold,hardcore,proxyless"},
                       {"nsga2_budget", "30"},
                       {"knobs", ""},
                       {"threads", "2"}});
  torch::set_num_threads(static_cast<int>(f.num("threads")));
  if (f.str("figure") == "nb201") return figure_nb201(f);
  if (f.str("figure") == "cost") return figure_cost(f);
  if (f.str("figure") == "hardcore") return figure_hardcore(f);
  std::fprintf(stderr, "--figure: expected nb201, hardcore or cost, got %s\n",
               f.str("figure").c_str());
  return 2;
}
