#include "internal/pending.h"

#include <algorithm>

#include "nasforge/searchspace/hash.h"

namespace nasforge::strategies {

void PendingTrials::asked(const std::vector<Architecture>& archs) {
  for (const auto& a : archs) pending_.emplace_back(space_.canonical_hash(a), a);
}

void PendingTrials::told(const std::vector<Trial>& trials) {
  for (const Trial& t : trials) {
    const uint64_t h = space_.canonical_hash(t.arch);
    auto it =
        std::find_if(pending_.begin(), pending_.end(), [h](const auto& p) { return p.first == h; });
    if (it != pending_.end()) pending_.erase(it);
  }
}

uint64_t PendingTrials::key() const {
  if (pending_.empty()) return 0;
  // Order-independent: the sum of the hashes, mixed with the count.
  uint64_t sum = 0;
  for (const auto& p : pending_) sum += p.first;
  return (sum ^ pending_.size()) * kFnvPrime | 1;
}

std::pair<std::vector<Architecture>, std::vector<double>> PendingTrials::with_lies(
    const std::vector<Architecture>& x, const std::vector<double>& y) const {
  std::pair<std::vector<Architecture>, std::vector<double>> out{x, y};
  if (pending_.empty() || y.empty()) return out;
  const double lie = *std::min_element(y.begin(), y.end());
  for (const auto& p : pending_) {
    out.first.push_back(p.second);
    out.second.push_back(lie);
  }
  return out;
}

void Observations::told(const std::vector<Trial>& trials) {
  pending_.told(trials);
  for (const Trial& t : trials)
    if (t.feasible() && told_.insert(space_.canonical_hash(t.arch)).second) {
      x_.push_back(t.arch);
      y_.push_back(t.score[0]);
    }
}

}  // namespace nasforge::strategies
