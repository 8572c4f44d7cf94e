// Extracted networks for timing: one supernet per space (weights drawn from the device's seed),
// kept so that timing many architectures of a space builds it once.
#pragma once

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>

#include "nasforge/supernet/supernet.h"

namespace nasforge::hardware {

class NetworkCache {
 public:
  explicit NetworkCache(uint64_t seed) : seed_(seed) {}
  supernet::StaticNetwork extract(const SearchSpace& space, const Architecture& arch) {
    auto it = nets_.find(space.fingerprint());
    if (it == nets_.end()) {
      auto shared = std::make_shared<const SearchSpace>(space);
      it = nets_
               .emplace(space.fingerprint(),
                        supernet::Supernet(shared, supernet::SupernetOptions().seed(seed_)))
               .first;
      it->second->eval();
    }
    auto net = it->second->extract(arch);
    net->eval();
    return net;
  }

 private:
  uint64_t seed_;
  std::map<std::string, supernet::Supernet> nets_;
};

// The seeded random input every device times a unit or network on.
inline at::Tensor timing_input(const std::vector<int64_t>& shape, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed + 1);
  return torch::randn(shape, gen);
}

}  // namespace nasforge::hardware
