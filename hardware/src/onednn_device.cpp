// The `onednn` device: each unit or network is lowered to a plain graph and run as oneDNN
// primitives (see onednn.h). Inputs and weights are drawn from the device's seed, as on `cpu`.
#include <torch/torch.h>

#include <stdexcept>

#include "internal/networks.h"
#include "nasforge/hardware/device.h"
#include "nasforge/hardware/onednn.h"
#include "nasforge/supernet/unit_net.h"

namespace nasforge::hardware {

namespace {

class OneDnnDevice : public Device {
 public:
  // oneDNN shares LibTorch's OpenMP runtime, so the measuring thread's count is its count.
  explicit OneDnnDevice(const DeviceOptions& o) : Device(o), nets_(o.seed) {}
  std::string name() const override { return "onednn"; }

  StatusOr<Measurement> time_unit(const Unit& unit) override {
    supernet::UnitNet net(unit, options_.seed);
    return time([&] { return net->lower(options_.batch); }, net->input_shape(options_.batch),
                unit.key());
  }

  StatusOr<Measurement> time_network(const SearchSpace& space, const Architecture& arch) override {
    NF_RETURN_IF_ERROR(space.validate(arch));
    auto net = nets_.extract(space, arch);
    const auto& in = space.input();
    const std::vector<int64_t> shape = {options_.batch, in.channels, in.height, in.width};
    return time([&] { return net->lower(shape); }, shape, space.to_string(arch));
  }

 private:
  template <typename Lower>
  StatusOr<Measurement> time(Lower&& lower, const std::vector<int64_t>& shape,
                             const std::string& what) {
    try {
      OneDnnProgram program(lower());
      program.set_input(timing_input(shape, options_.seed));
      return measure([&] { program.execute(); }, options_.measure);
    } catch (const std::invalid_argument& e) {
      return Unimplemented("device 'onednn': " + what + ": " + e.what());
    }
  }

  NetworkCache nets_;
};

}  // namespace

StatusOr<std::unique_ptr<Device>> make_onednn_device(const DeviceOptions& o) {
  return std::unique_ptr<Device>(new OneDnnDevice(o));
}

}  // namespace nasforge::hardware
