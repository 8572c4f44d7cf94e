// How well does a signal rank architectures, on this space? The protocol of "Evaluating the
// Search Phase of NAS" and "How to Train Your Super-Net" as a library call: the same
// architectures are evaluated with every signal and with a reference (stand-alone training or a
// benchmark table), and each signal gets Kendall's tau, Spearman's rho and top-10% precision
// with bootstrap intervals, and its cost per architecture. The reference, the expensive part,
// is kept in a trial store so that an interrupted ranking resumes.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nasforge/evaluation/metric_source.h"

namespace nasforge::evaluation {

struct RankConfig {
  std::shared_ptr<const SearchSpace> space;
  std::vector<MetricSpec> signals;  // each a source with the metric name it gives
  MetricSpec reference;
  int64_t archs = 50;      // sampled with `seed`; with `archs_from`, rows of the table (0: all)
  uint64_t seed = 0;       // the architectures, the sources and the bootstrap
  std::string archs_from;  // a CSV with an `arch` column: rank its architectures
  std::string store;       // the reference's trial store (empty: kept in memory)
  std::string data;        // for train: and proxy: sources
  int threads = 1;
  int resamples = 1000;  // bootstrap resamples
  double top_fraction = 0.1;
};

struct SignalRanking {
  std::string signal;  // NAME=SOURCE
  double kendall = 0, kendall_low = 0, kendall_high = 0;
  double spearman = 0, spearman_low = 0, spearman_high = 0;
  double top = 0, top_low = 0, top_high = 0;  // top-fraction precision
  double setup_seconds = 0;                   // making the source (loading a supernet, data)
  double seconds_per_arch = 0;
  std::vector<double> values;  // per architecture
};

// How much of a reference's spread over the architectures its own measurement error could
// explain, when the reference is an accuracy on a finite sample (train:). One accuracy p
// measured on n images has a binomial standard error of 100 sqrt(p (1 - p) / n) points; the
// spread is the sample standard deviation of the reference over the architectures. At most
// 1 - (error / spread)^2 of the spread's variance is the architectures' own ("reliability", in
// [0, 1]): an upper bound, since training seeds add noise that one measurement does not show.
// A signal's Kendall tau against a reference is attenuated by its reliability, so with a
// reliability near 0 no signal, however good, ranks better than chance against it.
struct ReferenceNoise {
  int64_t sample_size = 0;
  double standard_error = 0;  // points, at the reference's mean
  double spread = 0;          // points
  double reliability = 0;
  // Below half: most of the spread is the measurement's (rank warns).
  bool mostly_noise() const { return reliability < 0.5; }
};
ReferenceNoise reference_noise(const std::vector<double>& percentages, int64_t sample_size);

struct RankReport {
  std::vector<Architecture> archs;
  std::vector<double> reference;
  int64_t reference_cached = 0;           // reference values read back from the store
  double reference_seconds_per_arch = 0;  // of those evaluated in this run
  std::optional<ReferenceNoise> noise;    // when the reference is an accuracy (train:)
  std::string noise_unknown;              // why the noise could not be told, when its source failed
  std::vector<SignalRanking> signals;
};

// Parses "SOURCE" or "NAME=SOURCE". Without a name: params for count, latency_ms@DEVICE for
// measure:DEVICE, the proxy's name for proxy:, accuracy for supernet: and train:, else "signal".
StatusOr<MetricSpec> parse_signal(const std::string& text);

// `progress(what, done, total)` is called after each evaluation. Errors: too few architectures
// (fewer than 3), a source that cannot be made, an evaluation that fails (naming the signal
// and the architecture), a store made for another ranking.
StatusOr<RankReport> rank_signals(
    const RankConfig& config,
    const std::function<void(const std::string&, int64_t, int64_t)>& progress = {});

}  // namespace nasforge::evaluation
