// Latency-predictor figures (issue C):
//   --part cpu        profile --space on the cpu device, measure --calibrate architectures end to
//                     end to fit lut+residual, then --heldout other architectures: within 10%,
//                     Spearman and RMSE of lut and lut+residual against measurement.
//   --part published  nb201_latency_ms.csv: the `table` predictor fitted on N = 10, 20, 50 rows
//                     of each device, Spearman over all 15,625 cells, mean of --seeds seeds; with
//                     transfer from the other devices' measured columns (the lookup protocol:
//                     every cell measured on every source) and with the prior alone. The
//                     architecture-only protocol is bench/transfer_bench.cpp.
//   --part speed      lut queries per second, batched through TBB.
#include <tbb/global_control.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "bench_flags.h"
#include "bench_table.h"
#include "nasforge/hardware/allocator.h"
#include "nasforge/hardware/profile.h"
#include "nasforge/latency/predictors.h"
#include "nasforge/predictors/quality.h"
#include "nasforge/searchspace/rng.h"

using namespace nasforge;

namespace {

void report(const char* name, const std::vector<double>& pred, const std::vector<double>& meas) {
  std::printf("| %s | %.1f%% | %.4f | %.4f | %.3f |\n", name,
              100 * predictors::within(pred, meas, 0.10), predictors::spearman(pred, meas),
              predictors::kendall(pred, meas), predictors::rmse(pred, meas));
}

int cpu_part(const bench::BenchFlags& f) {
  auto space = f.space();
  hardware::DeviceOptions o;
  o.threads = static_cast<int>(f.num("threads"));
  auto dev = hardware::make_device(f.str("device"), o);
  if (!dev.ok()) {
    std::fprintf(stderr, "%s\n", dev.status().message().c_str());
    return 2;
  }
  const std::string path = f.str("profile");
  const auto t0 = std::chrono::steady_clock::now();
  auto profile =
      hardware::build_profile(*space, **dev, path, [](const hardware::ProfileProgress& p) {
        if (p.done % 50 == 0) std::fprintf(stderr, "profile %zu/%zu\n", p.done, p.total);
      });
  if (!profile.ok()) {
    std::fprintf(stderr, "%s\n", profile.status().message().c_str());
    return 1;
  }
  const double t_profile =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Calibration and held-out architectures are measured interleaved (every third one
  // calibrates), so that both see the same machine: this VM's speed drifts by 10-20% over
  // minutes, which would otherwise show up as predictor error.
  Rng rng(777);
  std::set<std::string> seen;
  std::vector<Architecture> cal, held;
  std::vector<double> cal_y, meas;
  const int64_t want_cal = f.num("calibrate"), want_held = f.num("heldout");
  const auto t1 = std::chrono::steady_clock::now();
  auto reference = space->sample(rng);
  auto ref_before = (*dev)->measure_network(*space, reference);
  while (static_cast<int64_t>(held.size()) < want_held ||
         static_cast<int64_t>(cal.size()) < want_cal) {
    Architecture a = space->sample(rng);
    if (!seen.insert(space->to_string(a)).second) continue;
    auto m = (*dev)->measure_network(*space, a);
    if (!m.ok()) return 1;
    const bool calibrates =
        static_cast<int64_t>(cal.size()) < want_cal &&
        (seen.size() % 3 == 0 || static_cast<int64_t>(held.size()) >= want_held);
    (calibrates ? cal : held).push_back(a);
    (calibrates ? cal_y : meas).push_back(m->median_ms);
    if ((cal.size() + held.size()) % 50 == 0)
      std::fprintf(stderr, "measured %zu\n", cal.size() + held.size());
  }
  auto ref_after = (*dev)->measure_network(*space, reference);
  profile->calibration.clear();
  for (size_t i = 0; i < cal.size(); ++i)
    profile->calibration.emplace_back(space->to_string(cal[i]), cal_y[i]);
  if (!profile->save(path).ok()) return 1;
  latency::PredictorContext ctx;
  ctx.space = space.get();
  ctx.profile = &*profile;
  auto lut = latency::make_predictor("lut", ctx);
  auto res = latency::make_predictor("lut+residual", ctx);
  if (!lut.ok() || !res.ok()) {
    std::fprintf(stderr, "%s\n", (lut.ok() ? res.status() : lut.status()).message().c_str());
    return 1;
  }
  if (Status st = (*res)->fit(cal, cal_y); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return 1;
  }
  std::vector<double> p_lut, p_res;
  for (const auto& a : held) {
    p_lut.push_back((*lut)->predict(a).mean);
    p_res.push_back((*res)->predict(a).mean);
  }
  const double t_measure =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  std::printf("reference architecture before and after the end-to-end runs: %.3f ms, %.3f ms\n",
              ref_before.ok() ? ref_before->median_ms : 0.0,
              ref_after.ok() ? ref_after->median_ms : 0.0);
  if (ref_before.ok() && ref_after.ok() &&
      std::abs(ref_after->median_ms / ref_before->median_ms - 1) > 0.05)
    std::printf(
        "WARNING: the reference moved by more than 5%%: the machine's speed changed "
        "during the run; the figures below mix speeds, rerun on a quiet machine\n");
  std::printf(
      "space %s, device %s (%s), batch 1, %d thread(s): %zu units profiled in %.0f s; "
      "lut+residual fitted on %zu architectures; %zu held-out architectures, measured "
      "interleaved with those, in %.0f s (%.2f-%.2f ms)\n\n",
      space->name().c_str(), f.str("device").c_str(), profile->environment.cpu_model.c_str(),
      o.threads, profile->entries.size(), t_profile, cal.size(), meas.size(), t_measure,
      *std::min_element(meas.begin(), meas.end()), *std::max_element(meas.begin(), meas.end()));
  std::printf(
      "| predictor | within 10%% | Spearman | Kendall | RMSE ms |\n|---|---|---|---|---|\n");
  report("lut", p_lut, meas);
  report("lut+residual", p_res, meas);
  const double w = predictors::within(p_res, meas, 0.10);
  std::printf("FIGURE latency.within10_%s_%s: %.1f%% of %zu held out, target >= 95%%: %s\n",
              f.str("device").c_str(), space->name().c_str(), 100 * w, meas.size(),
              w >= 0.95 ? "met" : "missed");
  return 0;
}

int published_part(const bench::BenchFlags& f) {
  auto space = f.space();
  const predictors::ArchTable table = bench::table(f, *space);
  const int seeds = static_cast<int>(f.num("seeds"));
  std::printf(
      "Spearman over all %zu cells, mean (min) of %d seeds; `transfer` = the other "
      "devices' columns offered (auto), `prior` = MACs/params and op counts only\n\n",
      table.rows(), seeds);
  std::printf(
      "| device | N=10 transfer | N=10 prior | N=20 transfer | N=20 prior | N=50 transfer | "
      "N=50 prior |\n|---|---|---|---|---|---|---|\n");
  for (size_t c = 0; c < table.columns.size(); ++c) {
    const std::string dev = table.columns[c];
    if (dev == "index") continue;
    std::printf("| %s |", dev.c_str());
    for (size_t n : {10, 20, 50}) {
      for (bool transfer : {true, false}) {
        double sum = 0, lo = 1;
        for (int s = 0; s < seeds; ++s) {
          const std::vector<size_t> rows = table.sample_rows(n, static_cast<uint64_t>(s));
          std::vector<Architecture> archs;
          std::vector<double> y;
          for (size_t i = 0; i < n; ++i) {
            archs.push_back(table.archs[rows[i]]);
            y.push_back(table.values[c][rows[i]]);
          }
          latency::PredictorContext ctx;
          ctx.space = space.get();
          ctx.side = &table;
          ctx.target_column = dev;
          if (transfer) ctx.transfer = {"auto"};
          // The lookup protocol: every cell is measured on every other device.
          ctx.transfer_mode = latency::TransferMode::kMeasured;
          auto p = latency::make_predictor("table", ctx);
          if (!p.ok() || !(*p)->fit(archs, y).ok()) return 1;
          auto preds = (*p)->predict_batch(table.archs);
          std::vector<double> pm;
          for (const auto& q : preds) pm.push_back(q.mean);
          const double rho = predictors::spearman(pm, table.values[c]);
          sum += rho;
          lo = std::min(lo, rho);
        }
        std::printf(" %.3f (%.3f) |", sum / seeds, lo);
        std::fflush(stdout);
      }
    }
    std::printf("\n");
  }
  return 0;
}

int speed_part(const bench::BenchFlags& f) {
  auto space = f.space();
  auto profile = hardware::Profile::load(f.str("profile"));
  if (!profile.ok()) {
    std::fprintf(stderr, "%s (run --part cpu first)\n", profile.status().message().c_str());
    return 1;
  }
  latency::PredictorContext ctx;
  ctx.space = space.get();
  ctx.profile = &*profile;
  Rng rng(5);
  std::vector<Architecture> archs;
  for (int64_t i = 0; i < f.num("queries"); ++i) archs.push_back(space->sample(rng));
  // Cold: a fresh predictor's first pass, which fills the per-genotype cell cache as it goes.
  // Warm: another pass over the same architectures, every genotype already cached.
  double warm2 = 0;
  for (int threads : {1, 2}) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
    double cold = 0, warm = 0;
    for (int rep = 0; rep < 3; ++rep) {
      auto lut = latency::make_predictor("lut", ctx);
      if (!lut.ok()) return 1;
      for (double* best : {&cold, &warm}) {
        const auto t0 = std::chrono::steady_clock::now();
        auto out = (*lut)->predict_batch(archs);
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        *best = std::max(*best, static_cast<double>(archs.size()) / s);
      }
    }
    std::printf("lut queries per second, %d TBB thread(s): cold cache %.0f, warm cache %.0f\n",
                threads, cold, warm);
    if (threads == 2) {
      warm2 = warm;
      std::printf("FIGURE latency.lut_cold_qps_%s: %.0f (2 threads; no target)\n",
                  space->name().c_str(), cold);
    }
  }
  std::printf("FIGURE latency.lut_warm_qps_%s: %.0f (2 threads), target >= 1000000: %s\n",
              space->name().c_str(), warm2, warm2 >= 1e6 ? "met" : "missed");
  return 0;
}

// Where the table errs for one architecture: each unit timed alone, against the whole network.
int units_part(const bench::BenchFlags& f) {
  auto space = f.space();
  hardware::DeviceOptions o;
  o.threads = static_cast<int>(f.num("threads"));
  auto dev = hardware::make_device(f.str("device"), o);
  if (!dev.ok()) return 2;
  Rng rng(static_cast<uint64_t>(f.num("seeds")));
  Architecture a = space->sample(rng);
  std::printf("%s\n", space->to_string(a).c_str());
  double sum = 0;
  for (const Unit& u : units(*space, a)) {
    auto m = (*dev)->measure_unit(u);
    if (!m.ok()) return 1;
    sum += m->median_ms;
    std::printf("%8.4f ms  %s\n", m->median_ms, u.key().c_str());
  }
  auto net = (*dev)->measure_network(*space, a);
  if (!net.ok()) return 1;
  std::printf("sum of units %.4f ms, network %.4f ms\n", sum, net->median_ms);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bench::BenchFlags f(argc, argv,
                      {{"part", "cpu"},
                       {"space", "zoo/mobilenet.yaml"},
                       {"device", "cpu"},
                       {"threads", "1"},
                       {"profile", "runs/bench/mobilenet_cpu_profile.json"},
                       {"calibrate", "100"},
                       {"heldout", "200"},
                       {"table", "data/nasbench201/nb201_latency_ms.csv.gz"},
                       {"seeds", "10"},
                       {"queries", "1000000"}});
  // Timing wants the allocator policy the CLI uses (nasforge/hardware/allocator.h).
  hardware::apply_allocator_policy(hardware::AllocatorPolicy::kKeepFreedMemory);
  std::filesystem::create_directories(std::filesystem::path(f.str("profile")).parent_path());
  if (f.str("part") == "cpu") return cpu_part(f);
  if (f.str("part") == "published") return published_part(f);
  if (f.str("part") == "speed") return speed_part(f);
  if (f.str("part") == "units") return units_part(f);
  std::fprintf(stderr, "--part: expected cpu, published or speed\n");
  return 2;
}
