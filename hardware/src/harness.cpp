#include "nasforge/hardware/harness.h"

#include <sched.h>
#include <sys/utsname.h>
#include <torch/version.h>
#include <dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include "nasforge/hardware/measuring_thread.h"

namespace nasforge::hardware {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const size_t n = v.size();
  std::nth_element(v.begin(), v.begin() + n / 2, v.end());
  double hi = v[n / 2];
  if (n % 2) return hi;
  double lo = *std::max_element(v.begin(), v.begin() + n / 2);
  return (lo + hi) / 2;
}

double mad(const std::vector<double>& v) {
  const double m = median(v);
  std::vector<double> dev;
  dev.reserve(v.size());
  for (double x : v) dev.push_back(std::abs(x - m));
  return median(dev);
}

std::pair<double, double> median_ci(std::vector<double> v) {
  if (v.empty()) return {0, 0};
  std::sort(v.begin(), v.end());
  const double n = static_cast<double>(v.size());
  if (v.size() < 6) return {v.front(), v.back()};
  const double half = 0.98 * std::sqrt(n);  // 1.96 * sqrt(n) / 2
  const auto lo = static_cast<size_t>(std::max(0.0, std::floor(n / 2 - half)));
  const auto hi = static_cast<size_t>(std::min(n - 1, std::ceil(n / 2 + half)));
  return {v[lo], v[hi]};
}

Measurement summarise(const std::vector<double>& samples, const MeasureOptions& o) {
  Measurement m;
  m.repeats = static_cast<int>(samples.size());
  m.median_ms = median(samples);
  m.mad_ms = mad(samples);
  std::tie(m.ci_low_ms, m.ci_high_ms) = median_ci(samples);
  m.converged = m.repeats >= o.min_repeats && m.rel_ci() <= o.rel_ci;
  m.noisy = !m.converged || m.mad_ms > o.noisy_mad * m.median_ms;
  return m;
}

namespace {

using Clock = std::chrono::steady_clock;

Measurement attempt(const std::function<void()>& fn, const MeasureOptions& o) {
  for (int i = 0; i < o.warmup; ++i) fn();
  std::vector<double> samples;
  const auto deadline = Clock::now() + std::chrono::duration<double>(o.time_limit_s);
  while (static_cast<int>(samples.size()) < o.max_repeats) {
    const auto t0 = Clock::now();
    fn();
    const auto t1 = Clock::now();
    samples.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    // Check convergence every few samples (sorting is cheap next to a kernel).
    if (static_cast<int>(samples.size()) >= o.min_repeats && samples.size() % 4 == 0 &&
        summarise(samples, o).converged)
      break;
    if (t1 > deadline && static_cast<int>(samples.size()) >= std::min(o.min_repeats, 3)) break;
  }
  return summarise(samples, o);
}

}  // namespace

Measurement measure(const std::function<void()>& fn, const MeasureOptions& o) {
  Measurement best = attempt(fn, o);
  for (int r = 0; r < o.reruns && best.noisy; ++r) {
    Measurement again = attempt(fn, o);
    again.attempts = best.attempts + 1;
    if (again.rel_ci() < best.rel_ci()) {
      best = again;
    } else {
      best.attempts = again.attempts;
    }
  }
  return best;
}

std::string Environment::compatibility_key() const {
  return cpu_model + (cpus.empty() ? "" : " (cores " + cpus + ")") + ", LibTorch " + torch_version +
         ", oneDNN " + onednn_version;
}

Environment current_environment(int threads, const std::string& cpus) {
  Environment e;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      e.cpu_model = line.substr(line.find(':') + 2);
      break;
    }
  }
  if (e.cpu_model.empty()) e.cpu_model = "unknown";
  e.cores = static_cast<int>(allowed_cores().size());
  e.threads = threads;
  e.cpus = cpus;
  e.torch_version = TORCH_VERSION;
  const dnnl_version_t* v = dnnl_version();
  e.onednn_version =
      std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  utsname u{};
  if (uname(&u) == 0) e.kernel = std::string(u.sysname) + " " + u.release;
  return e;
}

}  // namespace nasforge::hardware
