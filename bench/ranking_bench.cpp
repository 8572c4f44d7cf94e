// Figure 3 of the supernet (issue B): does the supernet rank architectures like training them
// alone does? Trains a supernet, evaluates K random architectures with inherited weights (with
// and without BN recalibration), trains each of them from scratch, and prints Kendall's tau and
// Spearman's rho between the inherited and the stand-alone validation accuracies.
//
// usage: ranking_bench [REPO_ROOT] [--space FILE] [--archs 20] [--train 10000] [--valid 2000]
//                      [--supernet-epochs 6] [--alone-epochs 2] [--threads 2] [--seed 0]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
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
                                 {"seed", "0"}});
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
  data.train = head(data.train, train_n);
  data.valid = head(data.valid, valid_n);
  auto start = std::chrono::steady_clock::now();
  auto minutes = [&]() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 60;
  };
  std::printf("space %s, Fashion-MNIST %lld train / %lld valid images, %lld threads\n",
              space->name().c_str(), static_cast<long long>(data.train.size()),
              static_cast<long long>(data.valid.size()), static_cast<long long>(threads));

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
  std::printf("Kendall tau, inherited vs stand-alone: %.3f with BN recalibration, %.3f without\n",
              kendall(recal, alone), kendall(raw, alone));
  std::printf("Spearman rho, inherited vs stand-alone: %.3f with BN recalibration, %.3f without\n",
              spearman(recal, alone), spearman(raw, alone));
  return 0;
}
