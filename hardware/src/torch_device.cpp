// The LibTorch devices: `cpu` (eager inference on the CPU) and `cuda` (the same on a GPU).
#include <torch/torch.h>

#include <map>

#include "internal/networks.h"
#include "nasforge/hardware/device.h"
#include "nasforge/hardware/measuring_thread.h"
#include "nasforge/supernet/supernet.h"
#include "nasforge/supernet/unit_net.h"

namespace nasforge::hardware {

namespace {

class TorchDevice : public Device {
 public:
  TorchDevice(std::string name, torch::Device where, DeviceOptions o)
      : Device(o, /*flush_denormals=*/!where.is_cuda()), name_(std::move(name)), where_(where) {}
  std::string name() const override { return name_; }

  StatusOr<Measurement> time_unit(const Unit& unit) override {
    supernet::UnitNet net(unit, options_.seed);
    net->to(where_);
    auto x = input(net->input_shape(options_.batch));
    return time([&] { return net->forward(x); });
  }

  StatusOr<Measurement> time_network(const SearchSpace& space, const Architecture& arch) override {
    NF_RETURN_IF_ERROR(space.validate(arch));
    auto extracted = nets_.extract(space, arch);
    extracted->to(where_);
    const auto& in = space.input();
    auto x = input({options_.batch, in.channels, in.height, in.width});
    return time([&] { return extracted->forward(x); });
  }

 private:
  at::Tensor input(const std::vector<int64_t>& shape) {
    return timing_input(shape, options_.seed).to(where_);
  }

  template <typename F>
  Measurement time(F&& forward) {
    c10::InferenceMode guard;
    const bool gpu = where_.is_cuda();
    return measure(
        [&] {
          at::Tensor y = forward();
          if (gpu) y.sum().to(torch::kCPU);  // waits for the GPU's queue
        },
        options_.measure);
  }

  std::string name_;
  torch::Device where_;
  NetworkCache nets_{options_.seed};
};

}  // namespace

StatusOr<std::unique_ptr<Device>> make_onednn_device(const DeviceOptions& o);

StatusOr<std::unique_ptr<Device>> make_named_device(const std::string& name,
                                                    const DeviceOptions& o);

std::vector<std::string> device_names() { return {"cpu", "onednn", "cuda"}; }

StatusOr<std::unique_ptr<Device>> make_device(const std::string& name, const DeviceOptions& o) {
  if (o.batch < 1 || o.threads < 1)
    return InvalidArgument("device options: batch and threads must be at least 1");
  DeviceOptions checked = o;
  if (name == "cuda") checked.first_core = -1;  // the GPU times; the CPU thread is not pinned
  if (checked.first_core >= 0) NF_RETURN_IF_ERROR(choose_cores(o.first_core, o.threads).status());
  return make_named_device(name, checked);
}

StatusOr<std::unique_ptr<Device>> make_named_device(const std::string& name,
                                                    const DeviceOptions& o) {
  if (name == "cpu") return std::unique_ptr<Device>(new TorchDevice("cpu", torch::kCPU, o));
  if (name == "cuda") {
    if (!torch::cuda::is_available())
      return FailedPrecondition(
          "device 'cuda': LibTorch sees no CUDA GPU here (Debian's LibTorch is CPU-only, or "
          "no GPU is present); use 'cpu' or 'onednn'");
    return std::unique_ptr<Device>(new TorchDevice("cuda", torch::kCUDA, o));
  }
  if (name == "onednn") return make_onednn_device(o);
  std::string list;
  for (const auto& d : device_names()) list += (list.empty() ? "" : ", ") + d;
  return NotFound("unknown device '" + name + "'; the devices are " + list);
}

}  // namespace nasforge::hardware
