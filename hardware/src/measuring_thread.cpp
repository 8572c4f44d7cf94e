#include "nasforge/hardware/measuring_thread.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <omp.h>
#include <sched.h>

namespace nasforge::hardware {

std::vector<int> allowed_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cores;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cores;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cores.push_back(c);
  return cores;
}

std::string cores_label(const std::vector<int>& cores) {
  if (cores.empty()) return "";
  bool contiguous = true;
  for (size_t i = 1; i < cores.size(); ++i) contiguous &= cores[i] == cores[i - 1] + 1;
  if (contiguous) return std::to_string(cores.front()) + "-" + std::to_string(cores.back());
  std::string out;
  for (int c : cores) out += (out.empty() ? "" : ",") + std::to_string(c);
  return out;
}

StatusOr<std::vector<int>> choose_cores(int first, int count) {
  const auto allowed = allowed_cores();
  if (first < 0 || count < 1 || static_cast<size_t>(first) + count > allowed.size())
    return InvalidArgument("cannot pin " + std::to_string(count) + " thread(s) from the " +
                           std::to_string(first) + "-th allowed core: this process may run on " +
                           std::to_string(allowed.size()) + " core(s) (" + cores_label(allowed) +
                           ")");
  return std::vector<int>(allowed.begin() + first, allowed.begin() + first + count);
}

MeasuringThread::MeasuringThread(std::vector<int> cores, int threads, bool flush_denormals) {
  thread_ = std::thread(&MeasuringThread::loop, this, std::move(cores), threads, flush_denormals);
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return ready_; });
}

MeasuringThread::~MeasuringThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void MeasuringThread::loop(std::vector<int> cores, int threads, bool flush_denormals) {
  Status setup = Status::Ok();
  if (!cores.empty()) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c : cores) CPU_SET(c, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)  // 0: this thread only
      setup = FailedPrecondition("sched_setaffinity failed for cores " + cores_label(cores));
  }
  // LibTorch initialises a thread's OpenMP count on its first parallel use from its process-wide
  // setting; trigger that first, then set this thread's own count (not the process-wide one).
  (void)at::get_num_threads();
  omp_set_num_threads(threads);
  // Random weights drive some activations towards denormal floats, which x86 computes up to
  // 100x slower; trained networks rarely do, and deployments flush them. This thread's FP state
  // (and that of the OpenMP workers it starts, which inherit it) flushes them.
  if (flush_denormals) at::globalContext().setFlushDenormal(true);
  std::unique_lock<std::mutex> lock(mu_);
  setup_ = setup;
  ready_ = true;
  cv_.notify_all();
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || job_ != nullptr; });
    if (stop_) return;
    try {
      (*job_)();
    } catch (...) {
      error_ = std::current_exception();
    }
    job_ = nullptr;
    done_ = true;
    cv_.notify_all();
  }
}

void MeasuringThread::run(const std::function<void()>& job) {
  std::unique_lock<std::mutex> lock(mu_);
  job_ = &job;
  done_ = false;
  error_ = nullptr;
  cv_.notify_all();
  cv_.wait(lock, [&] { return done_; });
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

}  // namespace nasforge::hardware
