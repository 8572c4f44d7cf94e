// Extracted networks for timing: one supernet per space (weights drawn from the device's seed),
// kept so that timing many architectures of a space builds it once.
#pragma once

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

// Settings every CPU device applies before timing (see torch_device.cpp).
void steady_cpu_timing();

}  // namespace nasforge::hardware
