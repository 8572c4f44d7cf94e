// One unit (a block, a cell edge's op, a pool, a head, an encoder layer) as a standalone
// module with seeded random weights: what a latency table measures.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <functional>
#include <memory>
#include <vector>

#include "nasforge/searchspace/units.h"
#include "nasforge/supernet/graph.h"

namespace nasforge::supernet {

class UnitNetImpl : public torch::nn::Module {
 public:
  UnitNetImpl(const Unit& unit, uint64_t seed);
  at::Tensor forward(const at::Tensor& x);
  // The shape of the unit's input at this batch: N x C x H x W, or N x T x D for tokens.
  std::vector<int64_t> input_shape(int64_t batch) const;
  const Unit& unit() const { return unit_; }
  // The unit as a plain graph at this batch (see graph.h); throws for what has no plain form.
  Graph lower(int64_t batch) const { return lower_(input_shape(batch)); }

 private:
  Unit unit_;
  std::function<at::Tensor(const at::Tensor&)> run_;
  std::function<Graph(const std::vector<int64_t>&)> lower_;
};
TORCH_MODULE(UnitNet);

}  // namespace nasforge::supernet
