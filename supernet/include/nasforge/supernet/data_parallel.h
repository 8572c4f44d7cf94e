// The pieces of a data-parallel training step that every trainer shares (the supernet's, the
// graph hypernetworks'): which shard of each batch this rank loads, and how a step taken on the
// shard becomes the step one process would take on the whole batch.
#pragma once

#include <memory>
#include <vector>

#include "nasforge/distributed/group.h"
#include "nasforge/supernet/data.h"
#include "nasforge/supernet/train.h"

namespace nasforge::supernet {

// This rank's shard of every batch; the whole batch without a group.
data::Shard shard_of(const std::shared_ptr<distributed::Group>& group);

// What the ranks of a step must agree on: its paths (the step's architectures, in order; none
// for a relaxed forward) and its number.
uint64_t step_key(const SearchSpace& space, const std::vector<Architecture>& paths, int64_t step);

// After the backward pass on this rank's shard `batch`: with a group of several ranks, averages
// the gradients of `params` (each rank weighted by its share of the batch) and makes `stats`'
// loss and accuracy those of the whole batch. Ranks whose `key` (step_key) differs all throw
// distributed::PeerError. Sets stats.images to the batch's images on all ranks together.
void reduce_step(const std::shared_ptr<distributed::Group>& group, uint64_t key,
                 const std::vector<at::Tensor>& params, const data::Batch& batch, StepStats& stats);

}  // namespace nasforge::supernet
