// The gradient machinery of the DARTS family, written over plain tensors and loss closures so
// that each piece can be checked on a toy problem: DARTS's second-order architecture gradient
// and the dominant eigenvalue of the validation loss's Hessian (RobustDARTS's collapse signal).
#pragma once

#include <torch/types.h>

#include <functional>
#include <vector>

#include "nasforge/searchspace/rng.h"

namespace nasforge::differentiable {

// A loss computed from the current values of some tensors (it reads them, they are not passed).
using LossFn = std::function<at::Tensor()>;

// DARTS's unrolled architecture gradient (Liu et al., eqs. 6-8):
//   w' = w - xi * (grad_w L_train(w, a) + weight_decay * w)
//   g  = grad_a L_val(w', a) - xi * (grad_a L_train(w+, a) - grad_a L_train(w-, a)) / (2 eps)
// with w+- = w +- eps * grad_w' L_val(w', a) and eps = 0.01 / |grad_w' L_val|. The weights are
// left as they were. Weights a loss does not reach count as having zero gradient.
std::vector<at::Tensor> unrolled_arch_grad(const std::vector<at::Tensor>& weights,
                                           const std::vector<at::Tensor>& arch,
                                           const LossFn& train_loss, const LossFn& valid_loss,
                                           double xi, double weight_decay);

// The Hessian's dominant eigenvalue of `loss` with respect to `arch`, by power iteration on
// finite-difference Hessian-vector products from a seeded random start. `arch` is left as it was.
double dominant_eigenvalue(const std::vector<at::Tensor>& arch, const LossFn& loss, int iters,
                           Rng& rng);

}  // namespace nasforge::differentiable
