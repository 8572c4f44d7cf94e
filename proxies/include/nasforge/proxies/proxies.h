// Zero-cost proxies: scores of an untrained network that are meant to rank architectures like
// their trained accuracy does, at the cost of one forward and backward pass (or none). Each
// follows its paper; docs/search.md cites them.
//
//   auto batches = proxies::take_batches(splits, 1, 64, seed);
//   double s = *proxies::score(Proxy::kSynflow, graph, batches, seed);
#pragma once

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "nasforge/searchspace/status.h"
#include "nasforge/supernet/data.h"
#include "nasforge/supernet/graph.h"

namespace nasforge::proxies {

enum class Proxy {
  kSynflow,   // Tanaka et al. 2020: sum |theta * dR/dtheta|, R = sum f(1) with |theta|, no BN,
              // double precision, all-ones input: data-free
  kSnip,      // Lee et al. 2019: sum |theta * dL/dtheta|
  kGrasp,     // Wang et al. 2020: sum -theta * (H g), g = dL/dtheta
  kFisher,    // Theis et al. 2018 / Turner et al. 2020: sum over conv and linear outputs' channels
              // of 1/2 mean_n (sum_hw a * dL/da)^2
  kGradNorm,  // Abdelfattah et al. 2021: sum over layers of ||dL/dW||_2
  kJacov,     // Mellor et al. 2020 (v1): -sum_i log(v_i + k) + 1 / (v_i + k), v the eigenvalues
              // of the correlation of the per-image input Jacobians, k = 1e-5
  kNwot,      // Mellor et al. 2021 (NASWOT): log|det K|, K_ij the number of activations on which
              // images i and j agree in sign
  kZen,       // Lin et al. 2021 (Zen-NAS): log E||f(x) - f(x + 0.01 e)||_1 + sum over BN of
              // log sqrt(mean batch variance), Gaussian weights and inputs: data-free
  kL2Norm,    // Abdelfattah et al. 2021: sum over layers of ||W||_2
  kParams,    // parameters (hardware::count)
  kFlops,     // multiply-accumulates at batch 1 (hardware::count), as NAS-Bench-201's "FLOPs"
};

struct ProxyInfo {
  Proxy proxy;
  const char* name;      // as in proxy:NAME
  const char* citation;  // the paper
  bool needs_data;       // reads real batches (the rest are data-free)
  bool counted;          // an exact count of the architecture, not a run of its network
};
const std::vector<ProxyInfo>& proxy_infos();
const ProxyInfo& info(Proxy p);
std::optional<Proxy> parse_proxy(const std::string& name);

// What jacov, nwot and zen give a degenerate network (its output does not depend on some image,
// or the kernel is singular): below every other score, so such networks rank last.
inline constexpr double kDegenerateScore = std::numeric_limits<double>::lowest();

// `count` batches of `size` training images, shuffled with `seed`, normalised as training sees
// them.
std::vector<data::Batch> take_batches(const data::Splits& splits, int64_t count, int64_t size,
                                      uint64_t seed);

// The score of a network given as its lowered graph, with the graph's own (fresh) weights; the
// graph itself is not changed. Gradient proxies use the cross-entropy of the network's logits
// on each batch; with several batches the score is their mean. Data-free proxies use the first
// batch's shape only. `seed` draws Zen's Gaussian weights and inputs. Errors: a counted proxy
// (params, flops: see evaluator.h), no batches for a proxy that needs them, a non-finite
// score.
StatusOr<double> score(Proxy p, const supernet::Graph& net, const std::vector<data::Batch>& batches,
                       uint64_t seed);

}  // namespace nasforge::proxies
