#include "nasforge/supernet/data_parallel.h"

#include "nasforge/distributed/gradients.h"
#include "nasforge/searchspace/hash.h"

namespace nasforge::supernet {

data::Shard shard_of(const std::shared_ptr<distributed::Group>& group) {
  if (!group) return {};
  return {group->rank(), group->size()};
}

uint64_t step_key(const SearchSpace& space, const std::vector<Architecture>& paths, int64_t step) {
  uint64_t key = 0;
  for (const auto& p : paths) key = key * kFnvPrime + space.canonical_hash(p);
  return key ^ static_cast<uint64_t>(step);
}

void reduce_step(const std::shared_ptr<distributed::Group>& group, uint64_t key,
                 const std::vector<at::Tensor>& params, const data::Batch& batch,
                 StepStats& stats) {
  const int64_t local = batch.labels.size(0);
  stats.images = group ? batch.global_size : local;
  if (!group || group->size() == 1) return;
  // The mean loss over the global batch: each rank's mean, weighted by its share.
  const double share = static_cast<double>(local) / static_cast<double>(batch.global_size);
  distributed::average_gradients(*group, params, share, key);
  const auto global = distributed::weighted_sum(*group, {stats.loss, stats.accuracy}, share);
  stats.loss = global[0];
  stats.accuracy = global[1];
}

}  // namespace nasforge::supernet
