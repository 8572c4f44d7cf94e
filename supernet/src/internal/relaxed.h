// The relaxed forward's bookkeeping (FBNetV2-style masking): how probable each value of a
// parameter is, and tensors that carry the distribution of their active width. Private to
// supernet/.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <vector>

#include "nasforge/searchspace/search_space.h"
#include "nasforge/supernet/supernet.h"

namespace nasforge::supernet {

// A distribution over an integer parameter's values: values[i] has probability p[i], a 0-d
// tensor that may carry gradients. `decision` is the decision read, or -1 for a fixed or
// derived value; two readings of one decision are equal with probability 1.
struct Dist {
  std::vector<int64_t> values;
  std::vector<at::Tensor> p;
  int decision = -1;

  static Dist fixed(int64_t value);
  int64_t max() const;
  // P(value == v): undefined when no value equals v.
  at::Tensor prob_of(int64_t v) const;
};

// A tensor of the relaxed forward. Channels (the last dimension for tokens) are allocated at
// their largest width, and channel c is scaled by P(active width > c), so that with one-hot
// weights the channels past the active width are zero.
struct Flow {
  at::Tensor x;
  Dist width;
};

struct RelaxedContext {
  const SearchSpace& space;
  const ArchWeights& weights;
  // A fixed parameter: its value with probability 1; a decision: its domain under `weights`.
  Dist dist(const IntParam& p) const;
};

// x with channel c along `dim` scaled by sum_i p_i * [c < values_i].
at::Tensor mask_width(const at::Tensor& x, const Dist& width, int64_t dim = 1);
// P(a == b); a and b are independent unless they read the same decision. Undefined when they
// can never be equal.
at::Tensor prob_equal(const Dist& a, const Dist& b);
// The distribution of f(a, b) for independent a and b (of f(a) when b is fixed).
Dist combine(const Dist& a, const Dist& b, const std::function<int64_t(int64_t, int64_t)>& f);
// x with `dim` zero-padded or cut to n entries.
at::Tensor fit_width(const at::Tensor& x, int64_t n, int64_t dim = 1);
// sum_i p_i * outputs_i over the values of `d`, computing only what `d` makes possible.
at::Tensor mix(const Dist& d, const std::function<at::Tensor(int64_t)>& output);

}  // namespace nasforge::supernet
