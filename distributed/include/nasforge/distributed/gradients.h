// Data-parallel gradients: every rank trains the same paths on its shard of the batch, then the
// gradients are combined so that each rank takes the step one process would take on the whole
// batch.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <vector>

#include "nasforge/distributed/group.h"

namespace nasforge::distributed {

struct GradientOptions {
  // Gradients travel in flat buckets of about this size (one collective each, all in flight
  // together), so that a supernet's hundreds of small tensors cost a few collectives.
  int64_t bucket_bytes = 25 << 20;
};

// Replaces each defined gradient of `params` by the sum over ranks of `weight` times it. With
// weight = this rank's share of the global batch (its images / all images), that is the
// gradient of the global batch's mean loss.
//
// Weights a path does not touch have no gradient (undefined) and must keep none, so only the
// touched ones travel. Ranks first agree on what travels: an allgather of a hash of
// `step_key` (the step's paths) and the touched set, a collective of fixed size. Ranks that
// disagree throw PeerError naming them, on every rank, instead of deadlocking in collectives
// of different sizes.
void average_gradients(Group& group, const std::vector<at::Tensor>& params, double weight,
                       uint64_t step_key, const GradientOptions& options = {});

// The sums over ranks of `share` times each value: with share = this rank's part of the global
// batch and per-rank means (loss, accuracy), the means over the global batch. One allreduce.
std::vector<double> weighted_sum(Group& group, const std::vector<double>& values, double share);

// A 64-bit hash of the tensors' bytes (contiguous CPU copies), for checking that ranks hold the
// same state.
uint64_t tensors_hash(const std::vector<at::Tensor>& tensors);

}  // namespace nasforge::distributed
