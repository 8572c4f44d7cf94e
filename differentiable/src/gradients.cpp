// Second-order DARTS and the Hessian's dominant eigenvalue.
#include "nasforge/differentiable/gradients.h"

#include <torch/torch.h>

#include <cmath>

namespace nasforge::differentiable {

namespace {

// Gradients of `loss` for `wrt`, zeros where the loss does not reach a tensor.
std::vector<at::Tensor> grads_of(const at::Tensor& loss, const std::vector<at::Tensor>& wrt) {
  auto g = torch::autograd::grad({loss}, wrt, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                 /*allow_unused=*/true);
  for (size_t i = 0; i < g.size(); ++i)
    if (!g[i].defined()) g[i] = torch::zeros_like(wrt[i]);
  return g;
}

double norm_of(const std::vector<at::Tensor>& v) {
  double s = 0;
  for (const auto& t : v) s += t.to(torch::kFloat64).pow(2).sum().item<double>();
  return std::sqrt(s);
}

// Sets each tensor to base + scale * dir.
void set_to(const std::vector<at::Tensor>& ts, const std::vector<at::Tensor>& base,
            const std::vector<at::Tensor>& dir, double scale) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < ts.size(); ++i) ts[i].copy_(base[i] + scale * dir[i]);
}

std::vector<at::Tensor> copies(const std::vector<at::Tensor>& ts) {
  std::vector<at::Tensor> out;
  for (const auto& t : ts) out.push_back(t.detach().clone());
  return out;
}

}  // namespace

std::vector<at::Tensor> unrolled_arch_grad(const std::vector<at::Tensor>& weights,
                                           const std::vector<at::Tensor>& arch,
                                           const LossFn& train_loss, const LossFn& valid_loss,
                                           double xi, double weight_decay) {
  const auto w0 = copies(weights);
  // The virtual step.
  auto gw = grads_of(train_loss(), weights);
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < weights.size(); ++i)
      weights[i].copy_(w0[i] - xi * (gw[i] + weight_decay * w0[i]));
  }
  // The validation gradient at w', for the architecture and for the weights.
  std::vector<at::Tensor> all = arch;
  all.insert(all.end(), weights.begin(), weights.end());
  auto g = grads_of(valid_loss(), all);
  std::vector<at::Tensor> ga(g.begin(), g.begin() + static_cast<long>(arch.size()));
  std::vector<at::Tensor> dw(g.begin() + static_cast<long>(arch.size()), g.end());
  const double n = norm_of(dw);
  if (n > 0) {
    const double eps = 0.01 / n;
    set_to(weights, w0, dw, eps);
    auto plus = grads_of(train_loss(), arch);
    set_to(weights, w0, dw, -eps);
    auto minus = grads_of(train_loss(), arch);
    for (size_t i = 0; i < ga.size(); ++i) ga[i] = ga[i] - xi * (plus[i] - minus[i]) / (2 * eps);
  }
  set_to(weights, w0, w0, 0.0);
  return ga;
}

double dominant_eigenvalue(const std::vector<at::Tensor>& arch, const LossFn& loss, int iters,
                           Rng& rng) {
  if (iters <= 0 || arch.empty()) return std::nan("");
  const auto a0 = copies(arch);
  std::vector<at::Tensor> v;
  for (const auto& a : arch) {
    std::vector<float> r(static_cast<size_t>(a.numel()));
    for (auto& x : r) x = static_cast<float>(rng.uniform01() - 0.5);
    v.push_back(torch::tensor(r).view(a.sizes()).to(a.dtype()));
  }
  double lambda = 0;
  for (int it = 0; it < iters; ++it) {
    const double n = norm_of(v);
    if (n == 0) break;
    for (auto& t : v) t = t / n;
    const double eps = 1e-3;
    set_to(arch, a0, v, eps);
    auto plus = grads_of(loss(), arch);
    set_to(arch, a0, v, -eps);
    auto minus = grads_of(loss(), arch);
    std::vector<at::Tensor> hv;
    double dot = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      hv.push_back((plus[i] - minus[i]) / (2 * eps));
      dot += (hv[i].to(torch::kFloat64) * v[i].to(torch::kFloat64)).sum().item<double>();
    }
    lambda = dot;  // the Rayleigh quotient of the unit vector v
    v = hv;
  }
  set_to(arch, a0, a0, 0.0);
  return lambda;
}

}  // namespace nasforge::differentiable
