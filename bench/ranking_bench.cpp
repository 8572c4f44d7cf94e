// Figure 3 of the supernet (issue B): does the supernet rank architectures like training them
// alone does? Trains a supernet, evaluates K random architectures with inherited weights (with
// and without BN recalibration), trains each of them from scratch, and prints Kendall's tau and
// Spearman's rho between the inherited and the stand-alone validation accuracies.
//
// usage: ranking_bench [REPO_ROOT] [--space FILE] [--archs 20] [--train 10000] [--valid 2000]
//                      [--supernet-epochs 6] [--alone-epochs 2] [--threads 2] [--seed 0]
//        ranking_bench [REPO_ROOT] --from docs/ranking_run.txt   (the statistics of a logged run)
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "bench_flags.h"
#include "nasforge/predictors/quality.h"
#include "nasforge/supernet/train.h"

using namespace nasforge;
using namespace nasforge::supernet;
using nasforge::predictors::kendall;
using nasforge::predictors::spearman;

namespace {

data::Dataset head(const data::Dataset& d, int64_t n) {
  n = std::min(n, d.size());
  return {d.images.slice(0, 0, n), d.labels.slice(0, 0, n)};
}

void train_epochs(SupernetTrainer& t, int64_t epochs) {
  while (t.epoch() < epochs) t.step();
}

// 95% percentile bootstrap intervals (2,000 resamples of the architectures, seeded) of Kendall's
// tau with and without recalibration and of their difference, then the figure line.
// `space`: the space's name; figures of a space other than the default carry it
// (ranking.kendall_recal_nasbench_macro).
void summarise(const std::vector<double>& recal, const std::vector<double>& raw,
               const std::vector<double>& alone, const std::string& space) {
  const std::string tag = space == "mobile-tiny" ? "" : "_" + space;
  const size_t n = alone.size();
  std::vector<double> t_recal, t_raw, t_diff;
  Rng rng(2026);
  for (int b = 0; b < 2000; ++b) {
    std::vector<double> r, w, a;
    for (size_t i = 0; i < n; ++i) {
      const size_t k = rng.uniform(n);
      r.push_back(recal[k]);
      w.push_back(raw[k]);
      a.push_back(alone[k]);
    }
    t_recal.push_back(kendall(r, a));
    t_raw.push_back(kendall(w, a));
    t_diff.push_back(t_recal.back() - t_raw.back());
  }
  auto ci = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return std::make_pair(v[v.size() * 25 / 1000], v[v.size() * 975 / 1000]);
  };
  const auto [rl, rh] = ci(t_recal);
  const auto [wl, wh] = ci(t_raw);
  const auto [dl, dh] = ci(t_diff);
  const double tr = kendall(recal, alone), tw = kendall(raw, alone);
  std::printf("Kendall tau, inherited vs stand-alone: %.3f with BN recalibration, %.3f without\n",
              tr, tw);
  std::printf("Spearman rho, inherited vs stand-alone: %.3f with BN recalibration, %.3f without\n",
              spearman(recal, alone), spearman(raw, alone));
  std::printf(
      "bootstrap 95%% intervals (n = %zu, 2000 resamples): tau with recalibration [%.3f, %.3f], "
      "without [%.3f, %.3f], difference %.3f [%.3f, %.3f]\n",
      n, rl, rh, wl, wh, tr - tw, dl, dh);
  std::printf("FIGURE ranking.kendall_recal%s: %.3f [%.3f, %.3f] (n = %zu; no target)\n",
              tag.c_str(), tr, rl, rh, n);
}

// Reads the per-architecture lines of a ranking_bench log (architecture, inherit, no-recal,
// alone) to recompute its statistics without training again.
int from_log(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "%s: cannot open\n", path.c_str());
    return 1;
  }
  std::vector<double> recal, raw, alone;
  std::string space = "mobile-tiny";
  for (std::string line; std::getline(in, line);) {
    std::istringstream ss(line);
    std::string arch;
    double r, w, a;
    if (line.rfind("space ", 0) == 0) {  // "space NAME, Fashion-MNIST ..."
      space = line.substr(6, line.find(',') - 6);
      continue;
    }
    // An architecture line: a canonical string (it has '='), then three accuracies.
    if ((ss >> arch >> r >> w >> a) && arch.find('=') != std::string::npos) {
      recal.push_back(r);
      raw.push_back(w);
      alone.push_back(a);
    }
  }
  if (alone.size() < 3) {
    std::fprintf(stderr, "%s: expected architecture lines, found %zu\n", path.c_str(),
                 alone.size());
    return 1;
  }
  std::printf("from %s: %zu architectures\n", path.c_str(), alone.size());
  summarise(recal, raw, alone, space);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::BenchFlags flags(argc, argv,
                                {{"space", "tests/data/design_mobile_tiny.yaml"},
                                 {"archs", "20"},
                                 {"train", "10000"},
                                 {"valid", "2000"},
                                 {"supernet-epochs", "6"},
                                 {"alone-epochs", "2"},
                                 {"threads", "2"},
                                 {"seed", "0"},
                                 {"from", ""}});
  if (!flags.str("from").empty()) return from_log(flags.root() + "/" + flags.str("from"));
  const int64_t archs = flags.num("archs"), train_n = flags.num("train"),
                valid_n = flags.num("valid"), super_epochs = flags.num("supernet-epochs"),
                alone_epochs = flags.num("alone-epochs"), threads = flags.num("threads");
  const uint64_t seed = static_cast<uint64_t>(flags.num("seed"));
  torch::set_num_threads(static_cast<int>(threads));
  auto space = flags.space();
  auto full = data::load_fashion_mnist(data::kFashionMnistDir, {10000, seed});
  if (!full.ok()) {
    std::fprintf(stderr, "%s\n", full.status().message().c_str());
    return 1;
  }
  data::Splits data = *full;
  // A space for another input (NAS-Bench-Macro's 3x32x32): pad and repeat the channel.
  const auto& in = space->input();
  if (Status st = data::fit_images(data, in.channels, in.height, in.width); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return 1;
  }
  data.train = head(data.train, train_n);
  data.valid = head(data.valid, valid_n);
  auto start = std::chrono::steady_clock::now();
  auto minutes = [&]() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 60;
  };
  std::printf(
      "space %s, Fashion-MNIST %lld train / %lld valid images (%lldx%lldx%lld), %lld threads\n",
      space->name().c_str(), static_cast<long long>(data.train.size()),
      static_cast<long long>(data.valid.size()), static_cast<long long>(data.train.images.size(1)),
      static_cast<long long>(data.train.images.size(2)),
      static_cast<long long>(data.train.images.size(3)), static_cast<long long>(threads));

  TrainConfig config;
  config.epochs = super_epochs;
  config.batch_size = 128;
  config.warmup_epochs = 0.5;
  config.seed = seed;
  SupernetTrainer trainer(Supernet(space, SupernetOptions().seed(seed)), data, config);
  train_epochs(trainer, super_epochs);
  std::printf("supernet: %lld epochs of uniform single paths (SPOS) in %.1f min\n",
              static_cast<long long>(super_epochs), minutes());

  Rng rng(seed + 1);
  std::vector<double> recal, raw, alone;
  std::printf("%-56s %9s %9s %9s\n", "architecture", "inherit", "no-recal", "alone");
  for (int64_t k = 0; k < archs; ++k) {
    Architecture a = space->sample(rng, SampleMode::kUniformDecision);
    recal.push_back(trainer.evaluate(a, data.valid, true).accuracy);
    raw.push_back(trainer.evaluate(a, data.valid, false).accuracy);
    TrainConfig solo = config;
    solo.epochs = alone_epochs;
    SupernetTrainer t(Supernet(space, SupernetOptions().seed(seed + 100 + k)), data, solo);
    t.fix_path(a);
    train_epochs(t, alone_epochs);
    alone.push_back(t.evaluate(a, data.valid, false).accuracy);
    std::printf("%-56s %9.4f %9.4f %9.4f   (%.1f min)\n", space->to_string(a).c_str(), recal.back(),
                raw.back(), alone.back(), minutes());
    std::fflush(stdout);
  }
  summarise(recal, raw, alone, space->name());
  return 0;
}
