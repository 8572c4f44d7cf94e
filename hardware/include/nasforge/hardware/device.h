// Devices that run and time networks, registered by name: `cpu` (LibTorch eager), `cuda`
// (LibTorch on a GPU, where LibTorch has CUDA and a GPU is present) and `onednn` (the network
// lowered to oneDNN primitives). A device times single units, for latency tables, and whole
// architectures end to end.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nasforge/hardware/harness.h"
#include "nasforge/searchspace/status.h"
#include "nasforge/searchspace/units.h"

namespace nasforge::hardware {

struct DeviceOptions {
  int64_t batch = 1;
  int threads = 1;  // intra-op threads of the measuring thread
  // The measuring thread is pinned to `threads` cores starting at the `first_core`-th core the
  // process may use (sched_getaffinity; 0: the first allowed core); -1: not pinned.
  int first_core = 0;
  std::string pinned;  // set by the device: the cores its measuring thread is pinned to
  uint64_t seed = 0;   // weights and inputs of what is timed
  MeasureOptions measure;
};

class MeasuringThread;

// Every measurement runs on the device's own measuring thread (measuring_thread.h), so the
// caller's affinity, thread count and FP mode are what they were before it.
class Device {
 public:
  virtual ~Device();
  virtual std::string name() const = 0;
  const DeviceOptions& options() const { return options_; }
  Environment environment() const { return current_environment(options_.threads, options_.pinned); }

  // One unit with fresh random weights, on an input of its shape at the device's batch.
  StatusOr<Measurement> measure_unit(const Unit& unit);
  // The whole architecture: its extracted network (weights drawn with the device's seed), in
  // inference mode.
  StatusOr<Measurement> measure_network(const SearchSpace& space, const Architecture& arch);

 protected:
  // Chooses the cores (an error is reported by every measurement) and starts the thread.
  explicit Device(DeviceOptions o, bool flush_denormals = true);
  // What a device does on its measuring thread.
  virtual StatusOr<Measurement> time_unit(const Unit& unit) = 0;
  virtual StatusOr<Measurement> time_network(const SearchSpace& space,
                                             const Architecture& arch) = 0;
  DeviceOptions options_;

 private:
  StatusOr<Measurement> on_thread(const std::function<StatusOr<Measurement>()>& job);
  Status cores_ = Status::Ok();
  std::unique_ptr<MeasuringThread> thread_;
};

// The registered device names, and a device by name. Unknown names and devices that cannot
// run here (cuda without a GPU) are errors that say why.
std::vector<std::string> device_names();
StatusOr<std::unique_ptr<Device>> make_device(const std::string& name, const DeviceOptions& o);

}  // namespace nasforge::hardware
