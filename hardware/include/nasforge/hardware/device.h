// Devices that run and time networks, registered by name: `cpu` (LibTorch eager), `cuda`
// (LibTorch on a GPU, where LibTorch has CUDA and a GPU is present) and `onednn` (the network
// lowered to oneDNN primitives). A device times single units, for latency tables, and whole
// architectures end to end.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nasforge/hardware/harness.h"
#include "nasforge/searchspace/status.h"
#include "nasforge/searchspace/units.h"

namespace nasforge::hardware {

struct DeviceOptions {
  int64_t batch = 1;
  int threads = 1;     // intra-op threads, for the device's lifetime
  int first_core = 0;  // the process is pinned to cores [first_core, first_core + threads); -1: not
  std::string pinned;  // set by make_device: the cores it pinned to
  uint64_t seed = 0;   // weights and inputs of what is timed
  MeasureOptions measure;
};

class Device {
 public:
  virtual ~Device() = default;
  virtual std::string name() const = 0;
  const DeviceOptions& options() const { return options_; }
  Environment environment() const { return current_environment(options_.threads, options_.pinned); }

  // One unit with fresh random weights, on an input of its shape at the device's batch.
  virtual StatusOr<Measurement> measure_unit(const Unit& unit) = 0;
  // The whole architecture: its extracted network (weights drawn with the device's seed; a
  // caller who has trained weights passes them through measure_network's overload in the
  // device's own header), in inference mode.
  virtual StatusOr<Measurement> measure_network(const SearchSpace& space,
                                                const Architecture& arch) = 0;

 protected:
  explicit Device(DeviceOptions o) : options_(o) {}
  DeviceOptions options_;
};

// The registered device names, and a device by name. Unknown names and devices that cannot
// run here (cuda without a GPU) are errors that say why.
std::vector<std::string> device_names();
StatusOr<std::unique_ptr<Device>> make_device(const std::string& name, const DeviceOptions& o);

}  // namespace nasforge::hardware
