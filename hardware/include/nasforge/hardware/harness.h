// The measuring harness: warm-up, then repeats until the median is known to a relative
// confidence bound (or a time limit), reported as median and MAD, with noisy runs detected and
// re-run. The statistics are plain functions so that tests can check them on known samples.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nasforge/searchspace/status.h"

namespace nasforge::hardware {

struct MeasureOptions {
  int warmup = 3;
  int min_repeats = 15;
  int max_repeats = 400;
  double rel_ci = 0.02;       // stop when the 95% CI of the median is within +-2% of it
  double time_limit_s = 2.0;  // per attempt
  double noisy_mad = 0.10;    // a run whose MAD exceeds 10% of its median is noisy
  int reruns = 2;             // a noisy or unconverged run is measured again this often
};

struct Measurement {
  double median_ms = 0, mad_ms = 0;
  double ci_low_ms = 0, ci_high_ms = 0;  // distribution-free 95% CI of the median
  int repeats = 0;
  int attempts = 1;        // 1 + reruns used
  bool converged = false;  // the CI bound was met
  bool noisy = false;      // the kept attempt is still noisy or unconverged
  double rel_ci() const { return median_ms > 0 ? (ci_high_ms - ci_low_ms) / 2 / median_ms : 0; }
};

double median(std::vector<double> v);
// Median absolute deviation from the median (unscaled).
double mad(const std::vector<double>& v);
// The order-statistic 95% confidence interval of the median (binomial, normal approximation):
// ranks n/2 -+ 0.98 sqrt(n). {min, max} for fewer than 6 samples.
std::pair<double, double> median_ci(std::vector<double> v);
// Summarises samples (in ms) into a measurement with the options' convergence and noise rules.
Measurement summarise(const std::vector<double>& samples_ms, const MeasureOptions& o);

// Times `fn` (one call = one sample) under the options: warm-up, repeats until converged or
// out of time, and re-runs of noisy attempts, keeping the attempt with the tightest CI.
Measurement measure(const std::function<void()>& fn, const MeasureOptions& o);

// What a measurement was taken on, recorded in every profile and compared on reuse.
struct Environment {
  std::string cpu_model;
  int cores = 0;  // the cores the process may run on
  int threads = 0;
  std::string cpus;  // the cores the measuring threads are pinned to ("0-1"), "" if not pinned
  std::string torch_version, onednn_version, kernel;
  // Fields that must match for a profile to be reused (CPU model, pinned cores, library
  // versions): cores of one machine can differ (this VM's second core runs 40% slower).
  std::string compatibility_key() const;
};
Environment current_environment(int threads, const std::string& cpus = "");

}  // namespace nasforge::hardware
