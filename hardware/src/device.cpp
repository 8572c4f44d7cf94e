#include "nasforge/hardware/device.h"

#include "nasforge/hardware/measuring_thread.h"

namespace nasforge::hardware {

Device::Device(DeviceOptions o, bool flush_denormals) : options_(std::move(o)) {
  std::vector<int> cores;
  if (options_.first_core >= 0) {
    auto chosen = choose_cores(options_.first_core, options_.threads);
    if (chosen.ok())
      cores = *chosen;
    else
      cores_ = chosen.status();
  }
  options_.pinned = cores_label(cores);
  thread_ = std::make_unique<MeasuringThread>(cores, options_.threads, flush_denormals);
}

Device::~Device() = default;

StatusOr<Measurement> Device::on_thread(const std::function<StatusOr<Measurement>()>& job) {
  NF_RETURN_IF_ERROR(cores_);
  NF_RETURN_IF_ERROR(thread_->setup());
  StatusOr<Measurement> out =
      Status{StatusCode::kInternal, "device '" + name() + "': the measurement did not run"};
  thread_->run([&] { out = job(); });
  return out;
}

StatusOr<Measurement> Device::measure_unit(const Unit& unit) {
  return on_thread([&] { return time_unit(unit); });
}

StatusOr<Measurement> Device::measure_network(const SearchSpace& space, const Architecture& arch) {
  return on_thread([&] { return time_network(space, arch); });
}

}  // namespace nasforge::hardware
