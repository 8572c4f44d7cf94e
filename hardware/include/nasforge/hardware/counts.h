// Exact parameter and multiply-accumulate counts, from the search space alone (no tensors):
// the sum over the units an architecture runs. Counted: every weight the extracted network
// holds (BN and LayerNorm affine terms and position embeddings included), and the MACs of
// convolutions, linear layers and attention's two matrix products. Not counted as MACs:
// normalisation, activations, pooling, additions and the squeeze-excite scaling.
#pragma once

#include <cstdint>

#include "nasforge/searchspace/units.h"

namespace nasforge::hardware {

struct Cost {
  int64_t params = 0;
  int64_t macs = 0;  // at batch 1
  Cost& operator+=(const Cost& o) {
    params += o.params;
    macs += o.macs;
    return *this;
  }
};

Cost unit_cost(const Unit& u);
// As deployed by default: the extracted network's weights. As implemented: also the ops a
// reference implementation keeps although their output is dead (units.h, Counting).
Cost count(const SearchSpace& space, const Architecture& a,
           Counting counting = Counting::kAsDeployed);

}  // namespace nasforge::hardware
