// Where a device times: a thread of its own, so that measuring leaves the caller's process as
// it found it. The thread pins itself to the device's cores, sets its own OpenMP thread count
// (LibTorch's and oneDNN's pools started from it are its own) and flushes denormal floats in
// its own floating-point state. The calling thread's affinity, thread count and FP mode never
// change, and neither does LibTorch's process-wide thread setting.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nasforge/searchspace/status.h"

namespace nasforge::hardware {

// The cores this process may run on (sched_getaffinity of the calling thread), ascending.
std::vector<int> allowed_cores();
// `count` cores starting at the `first`-th allowed one (0: the first core the process may use),
// or an error naming the allowed cores. Cores of a container that excludes core 0 just work.
StatusOr<std::vector<int>> choose_cores(int first, int count);
// "0-1" for a contiguous range, "0,2" otherwise; "" for none.
std::string cores_label(const std::vector<int>& cores);

class MeasuringThread {
 public:
  // cores: where the thread runs (empty: wherever the process may); threads: its OpenMP
  // threads; flush_denormals: whether its FP state flushes denormals to zero.
  MeasuringThread(std::vector<int> cores, int threads, bool flush_denormals);
  ~MeasuringThread();
  MeasuringThread(const MeasuringThread&) = delete;
  MeasuringThread& operator=(const MeasuringThread&) = delete;

  // Runs `job` on the thread and waits for it; an exception it throws is rethrown here.
  void run(const std::function<void()>& job);
  // An error when the thread could not pin itself (reported at the first run).
  const Status& setup() const { return setup_; }

 private:
  void loop(std::vector<int> cores, int threads, bool flush_denormals);

  std::mutex mu_;
  std::condition_variable cv_;
  const std::function<void()>* job_ = nullptr;
  std::exception_ptr error_;
  bool done_ = false, stop_ = false, ready_ = false;
  Status setup_ = Status::Ok();
  std::thread thread_;
};

}  // namespace nasforge::hardware
