#include "nasforge/distributed/gradients.h"

#include <torch/torch.h>

#include "nasforge/searchspace/hash.h"

namespace nasforge::distributed {

void average_gradients(Group& group, const std::vector<at::Tensor>& params, double weight,
                       uint64_t step_key, const GradientOptions& options) {
  std::vector<at::Tensor> grads;
  uint64_t h = fnv1a64(std::to_string(step_key));
  for (size_t i = 0; i < params.size(); ++i) {
    const at::Tensor& g = params[i].grad();
    if (!g.defined()) continue;
    grads.push_back(g);
    h = fnv1a64(std::to_string(i) + ":" + std::to_string(g.numel()) + ";", h);
  }
  if (group.size() == 1) {
    if (weight != 1.0)
      for (auto& g : grads) g.mul_(weight);
    return;
  }
  const auto keys = group.allgather(static_cast<int64_t>(h));
  if (std::string bad = disagreeing_ranks(keys); !bad.empty())
    throw PeerError("rank " + std::to_string(group.rank()) +
                    ": the ranks trained different paths or touched different weights in one "
                    "step (rank(s) " +
                    bad +
                    " differ from rank 0); every rank must sample the same paths: same "
                    "seed, same config, same checkpoint");
  // Flat buckets of consecutive gradients, each one dtype.
  std::vector<at::Tensor> buckets;
  std::vector<std::pair<size_t, size_t>> spans;  // [first, last) gradient of each bucket
  for (size_t i = 0; i < grads.size();) {
    size_t j = i;
    int64_t bytes = 0;
    while (j < grads.size() && grads[j].scalar_type() == grads[i].scalar_type() &&
           (j == i || bytes + static_cast<int64_t>(grads[j].nbytes()) <= options.bucket_bytes)) {
      bytes += static_cast<int64_t>(grads[j].nbytes());
      ++j;
    }
    std::vector<at::Tensor> flat;
    for (size_t k = i; k < j; ++k) flat.push_back(grads[k].reshape({-1}));
    buckets.push_back(torch::cat(flat).mul_(weight));
    spans.emplace_back(i, j);
    i = j;
  }
  group.allreduce_sum(buckets);
  for (size_t b = 0; b < buckets.size(); ++b) {
    int64_t offset = 0;
    for (size_t k = spans[b].first; k < spans[b].second; ++k) {
      const int64_t n = grads[k].numel();
      grads[k].copy_(buckets[b].narrow(0, offset, n).view_as(grads[k]));
      offset += n;
    }
  }
}

uint64_t tensors_hash(const std::vector<at::Tensor>& tensors) {
  uint64_t h = kFnvOffset;
  for (const auto& t : tensors) {
    const at::Tensor c = t.detach().cpu().contiguous();
    h = fnv1a64(std::string(static_cast<const char*>(c.data_ptr()), c.nbytes()), h);
  }
  return h;
}

std::vector<double> weighted_sum(Group& group, const std::vector<double>& values, double share) {
  std::vector<at::Tensor> t{torch::tensor(values, torch::kFloat64).mul_(share)};
  group.allreduce_sum(t);
  return std::vector<double>(t[0].data_ptr<double>(), t[0].data_ptr<double>() + t[0].numel());
}

}  // namespace nasforge::distributed
