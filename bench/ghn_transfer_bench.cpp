// Graph hypernetworks on architectures they have never seen (issue 16; the protocol of GHN-2's
// "unseen architectures" experiments): hypernetworks trained on one space predict the weights of
// ARCHS architectures sampled from another space with the same ops, and each network's
// validation accuracy (batch norm recalibrated on training batches) is set against the same
// network at its own initialisation, recalibrated the same way: the baseline measured here.
// usage: ghn_transfer_bench REPO_ROOT --ghn DIR[,DIR...] --space zoo/proxyless.yaml
//          --data fashion-mnist+pad [--archs 20] [--valid 1000] [--seed 0] [--threads 2]
// --valid: the first N images of the run's validation split (all: 0), the same for every column.
// Each DIR is a train-ghn run folder; the data must be the dataset it trained on (padded to the
// space's input), so that the validation split is the run's held-out images.
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "bench_flags.h"
#include "nasforge/hypernets/run.h"
#include "nasforge/searchspace/rng.h"
#include "nasforge/supernet/train.h"

using namespace nasforge;

namespace {

struct Column {
  std::string name;
  std::vector<double> acc;  // per architecture, %
};

std::pair<double, double> mean_se(const std::vector<double>& v) {
  double m = 0, s = 0;
  for (double x : v) m += x / static_cast<double>(v.size());
  for (double x : v) s += (x - m) * (x - m);
  return {m, v.size() > 1
                 ? std::sqrt(s / static_cast<double>(v.size() - 1) / static_cast<double>(v.size()))
                 : 0.0};
}

}  // namespace

int main(int argc, char** argv) {
  bench::BenchFlags flags(argc, argv,
                          {{"ghn", ""},
                           {"space", "zoo/proxyless.yaml"},
                           {"data", "fashion-mnist+pad"},
                           {"archs", "20"},
                           {"valid", "1000"},
                           {"threads", "2"},
                           {"seed", "0"}});
  torch::set_num_threads(static_cast<int>(flags.num("threads")));  // a program's own main
  const auto space = flags.space();
  const auto dirs = flags.list("ghn");
  if (dirs.empty()) {
    std::fprintf(stderr, "--ghn: expected one or more train-ghn run folders\n");
    return 2;
  }
  std::vector<std::unique_ptr<hypernets::LoadedGhn>> ghns;
  for (const auto& dir : dirs) {
    auto g = hypernets::open_ghn(dir, space, flags.str("data"));
    if (!g.ok()) {
      std::fprintf(stderr, "%s\n", g.status().message().c_str());
      return 1;
    }
    ghns.push_back(std::move(*g));
  }
  // The baseline shares the first run's data, so every column reads the same validation images.
  const data::Splits& data = ghns[0]->data;
  data::Dataset valid = data.valid;
  if (const int64_t v = flags.num("valid"); v > 0 && v < valid.size()) {
    valid.images = valid.images.narrow(0, 0, v);
    valid.labels = valid.labels.narrow(0, 0, v);
  }
  supernet::TrainConfig init = ghns[0]->run.run.config;  // its recalibration batches and size
  init.seed = static_cast<uint64_t>(flags.num("seed"));

  std::vector<Column> cols;
  for (const auto& g : ghns)
    cols.push_back({std::string(hypernets::ghn_kind_name(g->run.options.kind)) + " from " +
                        g->run.run.space->name() + (g->transfer ? "" : " (same space)"),
                    {}});
  cols.push_back({"initialisation", {}});
  Rng rng(static_cast<uint64_t>(flags.num("seed")));
  const int64_t n = flags.num("archs");
  std::printf(
      "%lld architectures of %s, accuracy (%%) on %lld held-out validation images, BN "
      "recalibrated on %lld training batches\n",
      static_cast<long long>(n), space->name().c_str(), static_cast<long long>(valid.size()),
      static_cast<long long>(init.bn_recalibration_batches));
  for (int64_t i = 0; i < n; ++i) {
    const Architecture a = space->sample(rng);
    for (size_t g = 0; g < ghns.size(); ++g)
      cols[g].acc.push_back(100.0 * ghns[g]->trainer->evaluate(a, valid, true).accuracy);
    supernet::SupernetTrainer fresh(
        supernet::Supernet(space, supernet::SupernetOptions().seed(init.seed + i)), data, init);
    fresh.fix_path(a);
    cols.back().acc.push_back(100.0 * fresh.evaluate(a, valid, true).accuracy);
    std::printf("%3lld", static_cast<long long>(i + 1));
    for (const auto& c : cols) std::printf("  %6.2f", c.acc.back());
    std::printf("  %s\n", space->to_string(a).c_str());
    std::fflush(stdout);
  }
  const auto [base, base_se] = mean_se(cols.back().acc);
  std::printf("%-32s %8s %6s %s\n", "weights", "mean %", "se", "wins over initialisation");
  for (const auto& c : cols) {
    const auto [m, se] = mean_se(c.acc);
    int wins = 0;
    for (size_t i = 0; i < c.acc.size(); ++i) wins += c.acc[i] > cols.back().acc[i];
    std::printf("%-32s %8.2f %6.2f %d/%zu\n", c.name.c_str(), m, se, wins, c.acc.size());
  }
  for (size_t g = 0; g < ghns.size(); ++g) {
    const auto [m, se] = mean_se(cols[g].acc);
    // Met when the predicted weights beat initialisation by two standard errors of the mean.
    const bool met = m - base > 2 * std::hypot(se, base_se);
    std::printf(
        "FIGURE ghn.%s_%s_%s_to_%s_valid_accuracy: %.2f%% against %.2f%% at initialisation "
        "(n = %lld; target: above it by 2 standard errors) %s\n",
        ghns[g]->transfer ? "unseen" : "seen", hypernets::ghn_kind_name(ghns[g]->run.options.kind),
        ghns[g]->run.run.space->name().c_str(), space->name().c_str(), m, base,
        static_cast<long long>(n), met ? "met" : "MISSED");
  }
  return 0;
}
