// nasforge rank: how well each signal (a supernet, a proxy, a count, a predictor, ...) ranks
// architectures against a reference (stand-alone training or a benchmark table), on this space.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli.h"
#include "nasforge/evaluation/rank.h"
#include "nasforge/hardware/harness.h"
#include "nasforge/searchspace/json.h"
#include "progress.h"

namespace nasforge::cli {
namespace {

using evaluation::RankConfig;
using evaluation::RankReport;

std::string interval_json(double v, double lo, double hi) {
  return "{\"value\": " + json_number(v) + ", \"low\": " + json_number(lo) +
         ", \"high\": " + json_number(hi) + "}";
}

double mean_of(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

// "\"mean\": M, \"median\": D, \"values\": [v1, ...]": one value per architecture, in order.
std::string values_json(const std::vector<double>& v) {
  std::string o = "\"mean\": " + json_number(mean_of(v)) +
                  ", \"median\": " + json_number(hardware::median(v)) + ", \"values\": [";
  for (size_t i = 0; i < v.size(); ++i) o += (i ? ", " : "") + json_number(v[i]);
  return o + "]";
}

// ", \"noise\": {...}" when the reference is an accuracy on a finite sample, else "".
std::string noise_json(const RankReport& r) {
  if (!r.noise_unknown.empty()) return ", \"noise_unknown\": " + json_quote(r.noise_unknown);
  if (!r.noise) return "";
  return ", \"noise\": {\"sample_size\": " + std::to_string(r.noise->sample_size) +
         ", \"standard_error\": " + json_number(r.noise->standard_error) +
         ", \"spread\": " + json_number(r.noise->spread) +
         ", \"reliability\": " + json_number(r.noise->reliability) + "}";
}

// The reference's measurement noise in words, and a warning when it is most of the spread.
void print_noise(const RankReport& r) {
  if (!r.noise_unknown.empty())
    std::printf("reference noise: SKIPPED: %s\n", r.noise_unknown.c_str());
  if (!r.noise) return;
  const auto& n = *r.noise;
  std::printf(
      "reference noise: spread (SD over the architectures) %.3g points; one accuracy on %lld "
      "images has a binomial standard error of %.3g points, so at most %.0f%% of the spread is "
      "the architectures' (seeds add more noise)\n",
      n.spread, static_cast<long long>(n.sample_size), n.standard_error, 100 * n.reliability);
  if (n.mostly_noise())
    std::printf(
        "warning: the reference's spread is mostly measurement noise, so no signal can rank "
        "well against it; train the reference for more epochs\n");
}

std::string report_json(const RankConfig& c, const RankReport& r) {
  std::ostringstream o;
  o << "{\"space\": " << json_quote(c.space->name()) << ", \"archs\": " << r.archs.size()
    << ", \"architectures\": [";
  for (size_t i = 0; i < r.archs.size(); ++i)
    o << (i ? ", " : "") << json_quote(c.space->to_string(r.archs[i]));
  o << "], \"seed\": " << c.seed
    << ", \"reference\": {\"source\": " << json_quote(c.reference.source)
    << ", \"cached\": " << r.reference_cached
    << ", \"seconds_per_arch\": " << json_number(r.reference_seconds_per_arch) << ", "
    << values_json(r.reference) << noise_json(r) << "}, \"resamples\": " << c.resamples
    << ", \"top_fraction\": " << json_number(c.top_fraction) << ", \"signals\": [";
  for (size_t i = 0; i < r.signals.size(); ++i) {
    const auto& s = r.signals[i];
    o << (i ? ", " : "") << "{\"signal\": " << json_quote(s.signal)
      << ", \"kendall\": " << interval_json(s.kendall, s.kendall_low, s.kendall_high)
      << ", \"spearman\": " << interval_json(s.spearman, s.spearman_low, s.spearman_high)
      << ", \"top_precision\": " << interval_json(s.top, s.top_low, s.top_high)
      << ", \"seconds_per_arch\": " << json_number(s.seconds_per_arch)
      << ", \"setup_seconds\": " << json_number(s.setup_seconds) << ", " << values_json(s.values)
      << "}";
  }
  o << "]}";
  return o.str();
}

void print_report(const RankConfig& c, const RankReport& r) {
  std::printf(
      "%zu architectures of %s (seed %llu); reference %s: %lld read back from the store, "
      "%.3g s per architecture evaluated; median %.4g\n",
      r.archs.size(), c.space->name().c_str(), static_cast<unsigned long long>(c.seed),
      c.reference.source.c_str(), static_cast<long long>(r.reference_cached),
      r.reference_seconds_per_arch, hardware::median(r.reference));
  print_noise(r);
  int width = 28;
  for (const auto& s : r.signals) width = std::max(width, static_cast<int>(s.signal.size()) + 1);
  const std::string top =
      "top-" + std::to_string(static_cast<int>(c.top_fraction * 100 + 0.5)) + "% precision";
  std::printf("%-*s %-22s %-22s %-22s %10s %8s %10s\n", width, "signal", "Kendall tau [95% CI]",
              "Spearman rho [95% CI]", top.c_str(), "s/arch", "setup s", "median");
  auto iv = [](double v, double lo, double hi) {
    char b[64];
    std::snprintf(b, sizeof b, "%6.3f [%.3f, %.3f]", v, lo, hi);
    return std::string(b);
  };
  for (const auto& s : r.signals)
    std::printf("%-*s %-22s %-22s %-22s %10.4f %8.2f %10.4g\n", width, s.signal.c_str(),
                iv(s.kendall, s.kendall_low, s.kendall_high).c_str(),
                iv(s.spearman, s.spearman_low, s.spearman_high).c_str(),
                iv(s.top, s.top_low, s.top_high).c_str(), s.seconds_per_arch, s.setup_seconds,
                hardware::median(s.values));
  std::printf("(intervals: %d bootstrap resamples of the architectures)\n", c.resamples);
}

std::optional<RankConfig> config_from(const Args& a) {
  RankConfig c;
  auto space = load_space_or_report(a.get("space"));
  if (!space) return std::nullopt;
  c.space = std::make_shared<const SearchSpace>(std::move(*space));
  for (const auto& text : split_commas(a.get("signals"))) {
    auto s = evaluation::parse_signal(text);
    if (!s.ok()) {
      std::cerr << "--signals: " << s.status().message() << "\n";
      return std::nullopt;
    }
    c.signals.push_back(*s);
  }
  if (c.signals.empty()) {
    std::cerr << "--signals: expected one or more sources separated by commas\n";
    return std::nullopt;
  }
  auto ref = evaluation::parse_signal(a.get("reference"));
  if (!ref.ok() || a.get("reference").empty()) {
    std::cerr << "--reference: expected train:EPOCHS or table:CSV:COLUMN"
              << (ref.ok() ? "" : " (" + ref.status().message() + ")") << "\n";
    return std::nullopt;
  }
  c.reference = *ref;
  for (const char* key : {"archs", "seed", "resamples"}) {
    if (!a.has(key)) continue;
    auto v = parse_count(key, a.get(key));
    if (!v) return std::nullopt;
    if (std::string(key) == "archs") c.archs = static_cast<int64_t>(*v);
    if (std::string(key) == "seed") c.seed = *v;
    if (std::string(key) == "resamples")
      c.resamples = static_cast<int>(std::min<uint64_t>(*v, 100000));
  }
  if (!a.has("archs") && a.has("archs-from")) c.archs = 0;  // every row of the table
  c.archs_from = a.get("archs-from");
  c.store = a.get("store");
  c.data = a.get("data");
  return c;
}

int run_rank(const Command& cmd, const Args& a) {
  if (!a.has("space") || !a.has("signals") || !a.has("reference"))
    return fail(cmd.name, "expected --space FILE --signals S1,S2,... --reference SOURCE");
  if (!set_threads(a)) return 1;
  auto c = config_from(a);
  if (!c) return 1;
  const bool json = a.has("json");
  std::unique_ptr<ProgressBar> bar;
  std::string current;
  auto progress = [&](const std::string& what, int64_t done, int64_t total) {
    if (json) return;
    if (what != current) {
      if (bar) bar->finish("");
      bar = std::make_unique<ProgressBar>(what, total);
      current = what;
    }
    bar->update(done, "");
  };
  auto r = evaluation::rank_signals(*c, progress);
  if (bar) bar->finish("");
  if (!r.ok()) return fail(cmd.name, r.status().message());
  if (json)
    std::cout << report_json(*c, *r) << "\n";
  else
    print_report(*c, *r);
  return 0;
}

NF_CMD(
    kRank, "rank",
    "Measure how well signals (supernet, proxies, counts, predictors) rank architectures "
    "against a reference: Kendall, Spearman, top-10% precision with bootstrap intervals.",
    "--space FILE --signals SOURCE,... --reference train:EPOCHS|table:CSV:COLUMN [--archs N] "
    "[--archs-from CSV] [--seed K] [--data D] [--store FILE] [--json]",
    {{"space", true, "the search space (YAML)"},
     {"signals", true,
      "sources to judge, separated by commas, each SOURCE or NAME=SOURCE: supernet:DIR, "
      "proxy:NAME[:NxB], count, predictor:FILE, table:CSV:COLUMN, measure:DEVICE, train:E"},
     {"reference", true, "what the signals are judged against: train:EPOCHS or table:CSV:COLUMN"},
     {"archs", true, "architectures to sample (default 50; with --archs-from: rows, default all)"},
     {"archs-from", true, "rank the architectures of this CSV (an arch column) instead"},
     {"seed", true, "seeds the architectures, the sources' weights and the bootstrap (default 0)"},
     {"data", true, "data for train: and proxy: (fashion-mnist, cifar10:DIR, synthetic)"},
     {"store", true,
      "keep the reference values in this SQLite trial store; a rerun reads them back"},
     {"resamples", true, "bootstrap resamples (default 1000)"},
     {"threads", true, "LibTorch threads (default: all cores)"},
     {"json", false, "print the result as JSON"}},
    run_rank)

}  // namespace
}  // namespace nasforge::cli
