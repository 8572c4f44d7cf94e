// Path sampling policies: uniform single paths (SPOS), the sandwich rule, and progressive
// shrinking's locks.
#include "nasforge/supernet/train.h"

#include <algorithm>

namespace nasforge::supernet {

namespace {

// Index of the largest (or smallest) value of a numeric domain; 0 for ops.
uint32_t extreme(const Domain& d, bool largest) {
  if (!d.numeric()) return 0;
  uint32_t best = 0;
  for (uint32_t i = 1; i < d.ints.size(); ++i)
    if (largest ? d.ints[i] > d.ints[best] : d.ints[i] < d.ints[best]) best = i;
  return best;
}

}  // namespace

PathSampler::PathSampler(const SearchSpace& space, const TrainConfig& config)
    : space_(space), config_(config) {}

void PathSampler::set_alternative_params(std::map<int, std::vector<int64_t>> params) {
  alternative_params_ = std::move(params);
}

Architecture PathSampler::extremes(bool largest) const {
  Architecture a(std::vector<uint32_t>(space_.decisions().size(), 0));
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = extreme(space_.decisions()[i].domain, largest);
    auto sizes = alternative_params_.find(static_cast<int>(i));
    if (sizes == alternative_params_.end()) continue;
    const auto& v = sizes->second;  // the first of equals wins, as for numeric domains
    a[i] = static_cast<uint32_t>(
        (largest ? std::max_element(v.begin(), v.end()) : std::min_element(v.begin(), v.end())) -
        v.begin());
  }
  return a;
}

Architecture PathSampler::largest() const {
  Architecture a = extremes(true);
  space_.normalize(a);
  return a;
}

Architecture PathSampler::smallest() const {
  Architecture a = extremes(false);
  space_.normalize(a);
  return a;
}

Unlock PathSampler::unlocked(int64_t epoch) const {
  int64_t end = 0;
  for (const auto& phase : config_.shrinking) {
    end += phase.epochs;
    if (epoch < end) return phase.unlock;
  }
  return Unlock::kAll;
}

void PathSampler::lock(Architecture& a, int64_t epoch) const {
  const Unlock u = unlocked(epoch);
  if (u != Unlock::kAll) {
    for (size_t i = 0; i < a.size(); ++i) {
      const Domain& d = space_.decisions()[i].domain;
      if (!d.numeric()) continue;  // cell ops have no "largest"; shrinking leaves them free
      const bool open = (d.type == DomainType::kKernel && u >= Unlock::kKernel) ||
                        ((d.type == DomainType::kDepth || d.type == DomainType::kLayers) &&
                         u >= Unlock::kDepth) ||
                        (d.type == DomainType::kExpand && u >= Unlock::kExpand);
      if (!open) a[i] = extreme(d, true);
    }
  }
  space_.normalize(a);
}

std::vector<Architecture> PathSampler::paths(Rng& rng, int64_t epoch) const {
  // A value for every decision, inactive ones included, so that a depth pinned to its largest
  // value finds its blocks already drawn; then the locks, then normalisation.
  auto draw = [&]() {
    Architecture a(std::vector<uint32_t>(space_.decisions().size(), 0));
    for (size_t i = 0; i < a.size(); ++i)
      a[i] = static_cast<uint32_t>(rng.uniform(space_.decisions()[i].domain.size()));
    lock(a, epoch);
    return a;
  };
  std::vector<Architecture> out;
  if (config_.policy == PathPolicy::kUniform) {
    out.push_back(draw());
    return out;
  }
  Architecture large = extremes(true), small = extremes(false);
  lock(large, epoch);
  lock(small, epoch);  // the smallest network of what is unlocked so far
  out.push_back(large);
  out.push_back(small);
  for (int64_t i = 0; i < config_.sandwich_random; ++i) out.push_back(draw());
  return out;
}

}  // namespace nasforge::supernet
