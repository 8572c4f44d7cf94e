// Hardware commands: profile (a device's latency table for a space), latency (predict and
// measure one architecture), fit-latency (a latency predictor from a CSV of measurements).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli.h"
#include "nasforge/hardware/counts.h"
#include "nasforge/hardware/profile.h"
#include "nasforge/latency/predictors.h"
#include "nasforge/predictors/quality.h"
#include "nasforge/searchspace/json.h"
#include "nasforge/searchspace/metrics.h"
#include "nasforge/searchspace/rng.h"
#include "progress.h"

namespace nasforge::cli {
namespace {

using hardware::Device;
using hardware::DeviceOptions;
using hardware::Profile;

std::string ms(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f ms", v);
  return buf;
}

// Exit code for a status: 2 for what is not built yet, else 1.
int fail_status(const std::string& cmd, const Status& st) {
  fail(cmd, st.message());
  return st.code() == StatusCode::kUnimplemented ? 2 : 1;
}

std::optional<DeviceOptions> device_options(const std::string& cmd, const Args& a) {
  DeviceOptions o;
  for (const auto& [flag, field] : {std::pair<const char*, int64_t*>{"batch", &o.batch}}) {
    if (!a.has(flag)) continue;
    auto v = parse_count(flag, a.get(flag));
    if (!v || *v == 0) {
      if (v) fail(cmd, std::string("--") + flag + ": expected at least 1");
      return std::nullopt;
    }
    *field = static_cast<int64_t>(*v);
  }
  if (a.has("threads")) {
    auto v = parse_count("threads", a.get("threads"));
    if (!v || *v == 0 || *v > 256) {
      if (v) fail(cmd, "--threads: expected 1 to 256");
      return std::nullopt;
    }
    o.threads = static_cast<int>(*v);
  }
  if (a.has("seed")) {
    auto v = parse_count("seed", a.get("seed"));
    if (!v) return std::nullopt;
    o.seed = *v;
  }
  if (a.has("first-core")) {
    if (a.get("first-core") == "none") {
      o.first_core = -1;
    } else {
      auto v = parse_count("first-core", a.get("first-core"));
      if (!v) return std::nullopt;
      o.first_core = static_cast<int>(*v);
    }
  }
  if (a.has("rel-ci")) {
    auto v = parse_number(a.get("rel-ci"));
    if (!v || *v <= 0 || *v >= 1) {
      fail(cmd, "--rel-ci: expected a fraction in (0, 1), got '" + a.get("rel-ci") + "'");
      return std::nullopt;
    }
    o.measure.rel_ci = *v;
  }
  if (a.has("time-limit")) {
    auto v = parse_number(a.get("time-limit"));
    if (!v || *v <= 0) {
      fail(cmd, "--time-limit: expected seconds > 0, got '" + a.get("time-limit") + "'");
      return std::nullopt;
    }
    o.measure.time_limit_s = *v;
  }
  return o;
}

int run_profile(const Command& cmd, const Args& a) {
  for (const char* f : {"space", "device", "out"})
    if (!a.has(f)) return fail(cmd.name, std::string("--") + f + " is required");
  auto space = load_space_or_report(a.get("space"));
  if (!space) return 1;
  auto opts = device_options(cmd.name, a);
  if (!opts) return 1;
  auto device = hardware::make_device(a.get("device"), *opts);
  if (!device.ok()) return fail_status(cmd.name, device.status());
  uint64_t calibrate = 50;
  if (a.has("calibrate")) {
    auto v = parse_count("calibrate", a.get("calibrate"));
    if (!v) return 1;
    calibrate = *v;
  }
  const std::string out = a.get("out");
  auto units = distinct_units(*space);
  if (!units.ok()) return fail_status(cmd.name, units.status());
  std::cerr << "profiling " << units->size() << " distinct units of '" << space->name() << "' on "
            << (*device)->name() << " (batch " << opts->batch << ", " << opts->threads << " thread"
            << (opts->threads > 1 ? "s" : "") << ")\n";
  ProgressBar bar("profile", static_cast<int64_t>(units->size()));
  size_t noisy = 0, measured_units = 0;
  auto profile =
      hardware::build_profile(*space, **device, out, [&](const hardware::ProfileProgress& p) {
        ++measured_units;  // called once per unit measured now (resumed ones are not)
        if (p.last && p.last->noisy) ++noisy;
        bar.update(static_cast<int64_t>(p.done),
                   p.last ? ms(p.last->median_ms) + "  " + *p.key : "");
      });
  if (!profile.ok()) return fail_status(cmd.name, profile.status());
  bar.finish(std::to_string(profile->entries.size()) + " units");
  const size_t calibrated_before = profile->calibration.size();
  if (calibrate > 0) {
    ProgressBar cal("calibrate", static_cast<int64_t>(calibrate));
    Status st = hardware::calibrate_profile(
        *space, **device, *profile, calibrate, opts->seed, out,
        [&](size_t done, size_t) { cal.update(static_cast<int64_t>(done), "end to end"); });
    if (!st.ok()) return fail_status(cmd.name, st);
    cal.finish(std::to_string(profile->calibration.size()) + " architectures");
  }
  std::cout << "wrote " << out << ": " << profile->entries.size() << " units"
            << (noisy ? " (" + std::to_string(noisy) + " still noisy after re-runs)" : "") << ", "
            << profile->calibration.size() << " architectures measured end to end ("
            << measured_units << " units and " << profile->calibration.size() - calibrated_before
            << " architectures measured by this run)\n";
  return 0;
}

// The predictor named by --predictor: a saved predictor file, or lut / lut+residual built from
// --profile (lut+residual fitted on the profile's calibration set).
StatusOr<std::unique_ptr<predictors::Predictor>> predictor_from_flags(
    const Args& a, const SearchSpace& space, const Profile* profile,
    const predictors::ArchTable* side) {
  latency::PredictorContext ctx;
  ctx.space = &space;
  ctx.profile = profile;
  ctx.side = side;
  const std::string name = a.get("predictor", "lut");
  if (name != "lut" && name != "lut+residual") return latency::load_predictor(name, ctx);
  auto p = latency::make_predictor(name, ctx);
  if (!p.ok()) return p;
  if (name == "lut+residual") {
    std::vector<Architecture> archs;
    std::vector<double> y;
    for (const auto& [arch, v] : profile->calibration) {
      auto parsed = space.parse(arch);
      if (!parsed.ok()) return parsed.status().WithContext("profile calibration");
      archs.push_back(*parsed);
      y.push_back(v);
    }
    NF_RETURN_IF_ERROR((*p)->fit(archs, y));
  }
  return p;
}

// --quantiles N: the predicted latency's spread over N sampled architectures (uniform over
// architectures, seeded), to choose a constraint that a given share of the space meets.
int latency_quantiles(const Command& cmd, const Args& a, const SearchSpace& space,
                      const predictors::Predictor& p) {
  auto n = parse_count("quantiles", a.get("quantiles"));
  auto seed = parse_count("seed", a.get("seed", "0"));
  if (!n || !seed) return 1;
  if (*n < 10 || *n > 1000000)
    return fail(cmd.name,
                "--quantiles: expected a sample count in [10, 1000000], got " + a.get("quantiles"));
  Rng rng(*seed);
  std::vector<double> v;
  for (uint64_t i = 0; i < *n; ++i) v.push_back(p.predict(space.sample(rng)).mean);
  std::sort(v.begin(), v.end());
  std::cout << "predicted over " << *n << " sampled architectures (" << p.name() << "):";
  for (int q : {0, 10, 25, 50, 75, 90, 100}) {
    const size_t k = std::min(v.size() - 1, static_cast<size_t>(q / 100.0 * (v.size() - 1) + 0.5));
    std::cout << (q == 0     ? " min "
                  : q == 100 ? ", max "
                             : ", p" + std::to_string(q) + " ")
              << ms(v[k]);
  }
  std::cout << "\n";
  return 0;
}

int run_latency(const Command& cmd, const Args& a) {
  if (!a.has("space")) return fail(cmd.name, "--space is required");
  if (!a.has("arch") && !a.has("quantiles"))
    return fail(cmd.name, "--arch is required (or --quantiles N with --profile)");
  auto space = load_space_or_report(a.get("space"));
  if (!space) return 1;
  const std::string device_name = a.get("device", "cpu");
  auto opts = device_options(cmd.name, a);
  if (!opts) return 1;
  std::optional<Profile> profile;
  if (a.has("profile")) {
    auto p = Profile::load(a.get("profile"));
    if (!p.ok()) return fail(cmd.name, p.status().message());
    if (p->device != device_name)
      return fail(cmd.name, a.get("profile") + " was measured on '" + p->device + "', not on '" +
                                device_name + "' (--device)");
    // A --batch or --threads that differs from what the profile measured is refused; without
    // them, the profile's own settings are the ones predicted for.
    if ((a.has("batch") && opts->batch != p->batch) ||
        (a.has("threads") && opts->threads != p->threads))
      return fail(cmd.name, a.get("profile") + " was measured at batch " +
                                std::to_string(p->batch) + " with " + std::to_string(p->threads) +
                                " thread(s), not at --batch " + std::to_string(opts->batch) +
                                " --threads " + std::to_string(opts->threads) +
                                "; profile again with those settings");
    profile = std::move(*p);
  }
  std::optional<predictors::ArchTable> side;
  if (a.has("side")) {
    auto t = predictors::ArchTable::load(a.get("side"), *space);
    if (!t.ok()) return fail(cmd.name, t.status().message());
    side = std::move(*t);
  }
  std::unique_ptr<predictors::Predictor> predictor;
  if (profile || a.has("predictor")) {
    auto p =
        predictor_from_flags(a, *space, profile ? &*profile : nullptr, side ? &*side : nullptr);
    if (!p.ok()) return fail_status(cmd.name, p.status());
    predictor = std::move(*p);
  } else if (a.has("save") || a.has("quantiles")) {
    return fail(cmd.name, std::string(a.has("save") ? "--save" : "--quantiles") +
                              " needs a predictor: pass --profile P (and --predictor)");
  }
  // For `search --metric latency_ms@DEV=predictor:FILE`.
  auto save = [&]() -> bool {
    if (!a.has("save")) return true;
    if (Status st = predictor->save(a.get("save")); !st.ok()) {
      fail(cmd.name, st.message());
      return false;
    }
    std::cout << "saved the predictor to " << a.get("save") << "\n";
    return true;
  };
  if (a.has("quantiles")) {
    if (int rc = latency_quantiles(cmd, a, *space, *predictor)) return rc;
    return save() ? 0 : 1;
  }
  auto arch = space->parse(a.get("arch"));
  if (!arch.ok()) return fail(cmd.name, "--arch: " + arch.status().message());
  // Both counts, labelled: the network nasforge extracts and exports (dead ops dropped), and
  // what a reference implementation that keeps them runs (NAS-Bench-201's published counts).
  const auto deployed = hardware::count(*space, *arch, Counting::kAsDeployed);
  const auto implemented = hardware::count(*space, *arch, Counting::kAsImplemented);
  std::cout << "arch      " << space->to_string(*arch) << "\nparams    " << deployed.params
            << " as deployed, " << implemented.params << " as implemented\nMACs      "
            << deployed.macs << " as deployed, " << implemented.macs << " as implemented\n";
  std::optional<double> predicted;
  if (predictor) {
    auto pred = predictor->predict(*arch);
    predicted = pred.mean;
    const std::string source =
        a.has("predictor") && a.get("predictor") != "lut" && a.get("predictor") != "lut+residual"
            ? a.get("predictor")
            : "profile of " + device_name;
    std::cout << "predicted " << ms(pred.mean) << " +- " << ms(pred.std) << "  ("
              << predictor->name() << ", " << source << ")\n";
    if (!save()) return 1;
  }
  if (a.has("measure")) {
    auto device = hardware::make_device(device_name, *opts);
    if (!device.ok()) return fail_status(cmd.name, device.status());
    auto m = (*device)->measure_network(*space, *arch);
    if (!m.ok()) return fail_status(cmd.name, m.status());
    std::cout << "measured  " << ms(m->median_ms) << "  (median of " << m->repeats << ", MAD "
              << ms(m->mad_ms) << (m->noisy ? ", noisy" : "") << "; " << device_name << ", batch "
              << opts->batch << ", " << opts->threads << " thread" << (opts->threads > 1 ? "s" : "")
              << ")\n";
    if (predicted) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%+.1f%%", 100 * (*predicted - m->median_ms) / m->median_ms);
      std::cout << "error     " << buf << " (predicted against measured)\n";
    }
  }
  if (!predicted && !a.has("measure"))
    std::cout << "(pass --profile P to predict the latency, --measure to measure it)\n";
  return 0;
}

int run_fit_latency(const Command& cmd, const Args& a) {
  for (const char* f : {"space", "table", "column", "out"})
    if (!a.has(f)) return fail(cmd.name, std::string("--") + f + " is required");
  auto space = load_space_or_report(a.get("space"));
  if (!space) return 1;
  auto table = predictors::ArchTable::load(a.get("table"), *space);
  if (!table.ok()) return fail(cmd.name, table.status().message());
  auto col = table->column(a.get("column"));
  if (!col.ok()) return fail(cmd.name, col.status().message());
  uint64_t samples = 20, seed = 0;
  if (a.has("samples")) {
    auto v = parse_count("samples", a.get("samples"));
    if (!v) return 1;
    samples = *v;
  }
  if (a.has("seed")) {
    auto v = parse_count("seed", a.get("seed"));
    if (!v) return 1;
    seed = *v;
  }
  // The table predictor's GP is cubic in its rows: 1,000 fit in seconds, 2,000 took 25 s and
  // the 15,625 of NAS-Bench-201 would not finish. Transfer needs few rows anyway (10-50).
  constexpr uint64_t kMaxSamples = 1000;
  const uint64_t most = std::min<uint64_t>(table->rows(), kMaxSamples);
  if (samples < 3 || samples > most)
    return fail(cmd.name, "--samples: expected 3 to " + std::to_string(most) +
                              (most == kMaxSamples
                                   ? " (the table predictor's cap: its fit is cubic in the rows)"
                                   : " (the table's rows)") +
                              ", got " + std::to_string(samples));
  const std::vector<size_t> rows = table->sample_rows(samples, seed);
  std::vector<Architecture> archs;
  std::vector<double> y;
  for (size_t i = 0; i < samples; ++i) {
    archs.push_back(table->archs[rows[i]]);
    y.push_back(table->values[*col][rows[i]]);
  }
  latency::PredictorContext ctx;
  ctx.space = &*space;
  ctx.target_column = a.get("column");
  ctx.transfer = split_commas(a.get("transfer", ""));
  // The source devices' table: --source-table, or the target's own table.
  std::optional<predictors::ArchTable> source_store;
  ctx.side = &*table;
  if (a.has("source-table") && a.get("source-table") != a.get("table")) {
    auto t = predictors::ArchTable::load(a.get("source-table"), *space);
    if (!t.ok()) return fail(cmd.name, t.status().message());
    source_store = std::move(*t);
    ctx.side = &*source_store;
  }
  const std::string mode = a.get("transfer-mode", "learned");
  if (mode != "learned" && mode != "measured")
    return fail(cmd.name, "--transfer-mode: expected learned or measured, got '" + mode + "'");
  ctx.transfer_mode =
      mode == "measured" ? latency::TransferMode::kMeasured : latency::TransferMode::kLearned;
  auto p = latency::make_predictor("table", ctx);
  if (!p.ok()) return fail_status(cmd.name, p.status());
  if (Status st = (*p)->fit(archs, y); !st.ok()) return fail_status(cmd.name, st);
  if (Status st = (*p)->save(a.get("out")); !st.ok()) return fail_status(cmd.name, st);
  if (!a.has("eval-table")) {
    std::cout << "fitted on " << samples << " rows of " << a.get("table") << "; wrote "
              << a.get("out") << "\n";
    return 0;
  }
  std::optional<predictors::ArchTable> eval_store;
  const predictors::ArchTable* eval = &*table;
  if (a.get("eval-table") != a.get("table")) {
    auto t = predictors::ArchTable::load(a.get("eval-table"), *space);
    if (!t.ok()) return fail(cmd.name, t.status().message());
    eval_store = std::move(*t);
    eval = &*eval_store;
  }
  auto ecol = eval->column(a.get("eval-column", a.get("column")));
  if (!ecol.ok()) return fail(cmd.name, ecol.status().message());
  auto preds = (*p)->predict_batch(eval->archs);
  std::vector<double> pm;
  for (const auto& q : preds) pm.push_back(q.mean);
  const auto& truth = eval->values[*ecol];
  const double rho = predictors::spearman(pm, truth), tau = predictors::kendall(pm, truth);
  const double w10 = predictors::within(pm, truth, 0.10), err = predictors::rmse(pm, truth);
  if (a.has("json")) {
    // Four decimals, as the text form; a statistic that is not finite is null (valid JSON).
    auto num = [](double v) { return json_number(std::round(v * 1e4) / 1e4); };
    std::printf(
        "{\"spearman\": %s, \"kendall\": %s, \"within10\": %s, \"rmse_ms\": %s, "
        "\"fitted_on\": %llu, \"evaluated_on\": %zu}\n",
        num(rho).c_str(), num(tau).c_str(), num(w10).c_str(), num(err).c_str(),
        static_cast<unsigned long long>(samples), truth.size());
  } else {
    std::printf(
        "fitted on %llu rows, evaluated on %zu: Spearman %.4f  Kendall %.4f  within 10%% "
        "%.1f%%  RMSE %.4f ms\n",
        static_cast<unsigned long long>(samples), truth.size(), rho, tau, 100 * w10, err);
  }
  return 0;
}

const std::vector<Flag> kDeviceFlags = {
    {"batch", true, "batch size of the timed input (default 1)"},
    {"threads", true, "intra-op threads (default 1)"},
    {"first-core", true, "pin the threads to cores from this one (default 0; none: do not pin)"},
    {"seed", true, "seed of the random weights and inputs timed (default 0)"},
    {"rel-ci", true, "stop repeating when the median's 95% CI is within this fraction (0.02)"},
    {"time-limit", true, "seconds per measurement attempt before giving up on the bound (2)"}};

std::vector<Flag> with_device_flags(std::vector<Flag> f) {
  f.insert(f.end(), kDeviceFlags.begin(), kDeviceFlags.end());
  return f;
}

NF_CMD(kProfile, "profile",
       "Measure a device's latency lookup table for a space (resumable), plus end-to-end "
       "calibration architectures.",
       "--space FILE --device cpu|onednn|cuda --out PROFILE.json [--calibrate N] [--batch B] "
       "[--threads T]",
       with_device_flags({{"space", true, "the search space"},
                          {"device", true, "cpu, onednn or cuda"},
                          {"out", true, "the profile (resumed when it exists and matches)"},
                          {"calibrate", true,
                           "architectures to measure end to end for lut+residual (default 50)"}}),
       run_profile)
NF_CMD(kLatency, "latency", "Predict and/or measure an architecture's latency on a device.",
       "--space FILE (--arch STRING | --quantiles N [--seed S]) [--device DEV] [--profile P] "
       "[--predictor lut|lut+residual|PRED.json] [--side CSV] [--save PRED.json] [--measure]",
       with_device_flags({{"space", true, "the search space"},
                          {"arch", true, "the architecture's string"},
                          {"device", true, "cpu (default), onednn or cuda"},
                          {"profile", true, "the device's profile (from nasforge profile)"},
                          {"predictor", true,
                           "lut (default), lut+residual, or a saved predictor's JSON"},
                          {"side", true, "the CSV a table predictor transfers from"},
                          {"save", true,
                           "write the predictor as JSON, for search --metric "
                           "latency_ms@DEV=predictor:FILE"},
                          {"measure", false, "also measure it end to end on the device"},
                          {"quantiles", true,
                           "instead of one arch: the predicted latency's quantiles over N "
                           "architectures sampled with --seed"}}),
       run_latency)
NF_CMD(kFitLatency, "fit-latency",
       "Fit a latency predictor from N random rows of a CSV of measured architectures.",
       "--space FILE --table CSV --column COL --samples N --seed S --out PRED.json "
       "[--transfer COL,...|auto [--source-table CSV] [--transfer-mode learned|measured]] "
       "[--eval-table CSV [--eval-column COL]] [--json]",
       {{"space", true, "the search space"},
        {"table", true, "CSV with an arch column and numeric latency columns"},
        {"column", true, "the latency column to learn (ms)"},
        {"samples", true, "rows to fit on, drawn with the seed (default 20)"},
        {"seed", true, "seed of the draw (default 0)"},
        {"out", true, "where to write the fitted predictor"},
        {"transfer", true,
         "columns of source devices to transfer from, or auto (every other column)"},
        {"source-table", true,
         "CSV of the source devices (default: --table); each source is learned from all its rows"},
        {"transfer-mode", true,
         "learned (default): source devices enter as learned predictions, so any architecture "
         "is predicted from itself alone; measured: their measured values where the source "
         "table has the row (the CSV is then needed to predict)"},
        {"eval-table", true, "predict every row of this CSV and report the quality"},
        {"eval-column", true, "its column of measured latency (default: --column)"},
        {"json", false, "print the quality as JSON"}},
       run_fit_latency)

}  // namespace
}  // namespace nasforge::cli
