// A proxy for any architecture of a space: the network extracted from a supernet with fresh,
// seeded weights, lowered to its plain graph and scored (proxies.h); params and flops are the
// exact counts. What the proxy: metric source and `nasforge rank` evaluate.
#pragma once

#include <memory>

#include "nasforge/proxies/proxies.h"
#include "nasforge/searchspace/search_space.h"
#include "nasforge/searchspace/units.h"
#include "nasforge/supernet/supernet.h"

namespace nasforge::proxies {

struct ProxyOptions {
  int64_t batches = 1, batch_size = 64;
  // For params and flops. The networks the other proxies run are as deployed: ops whose output
  // nothing reads are left out. For every gradient proxy that changes nothing (such an op gets
  // no gradient); nwot and l2_norm would count the unread ops' activations and weights.
  Counting counting = Counting::kAsDeployed;
  uint64_t seed = 0;
};

class ProxyEvaluator {
 public:
  // `data` may be null for the data-free proxies; the evaluator keeps what it needs of it.
  static StatusOr<std::unique_ptr<ProxyEvaluator>> create(std::shared_ptr<const SearchSpace> space,
                                                          Proxy proxy, const ProxyOptions& options,
                                                          const data::Splits* data);
  StatusOr<double> evaluate(const Architecture& a);
  Proxy proxy() const { return proxy_; }

 private:
  ProxyEvaluator(std::shared_ptr<const SearchSpace> space, Proxy proxy, ProxyOptions options);

  std::shared_ptr<const SearchSpace> space_;
  Proxy proxy_;
  ProxyOptions options_;
  supernet::Supernet net_{nullptr};
  std::vector<data::Batch> batches_;
};

}  // namespace nasforge::proxies
