// The relaxed (DARTS-family) forward: architecture weights and the mixed forward pass.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "internal/layers.h"
#include "internal/relaxed.h"
#include "nasforge/supernet/supernet.h"

namespace nasforge::supernet {

ArchWeights ArchWeights::uniform(const SearchSpace& space) {
  ArchWeights w;
  for (const auto& d : space.decisions()) {
    const auto n = static_cast<int64_t>(d.domain.size());
    w.probs.push_back(torch::full({n}, 1.0 / static_cast<double>(n)));
  }
  return w;
}

ArchWeights ArchWeights::one_hot(const SearchSpace& space, const Architecture& arch) {
  ArchWeights w;
  for (size_t i = 0; i < space.decisions().size(); ++i) {
    auto p = torch::zeros({static_cast<int64_t>(space.decisions()[i].domain.size())});
    p[arch[i]] = 1.0;
    w.probs.push_back(p);
  }
  return w;
}

ArchWeights ArchWeights::softmax(const std::vector<at::Tensor>& logits, double temperature) {
  ArchWeights w;
  for (const auto& l : logits) w.probs.push_back(torch::softmax(l / temperature, 0));
  return w;
}

ArchWeights ArchWeights::gumbel_softmax(const std::vector<at::Tensor>& logits, double tau, Rng& rng,
                                        bool hard) {
  ArchWeights w;
  for (const auto& l : logits) {
    std::vector<float> g(static_cast<size_t>(l.numel()));
    for (auto& v : g)
      v = static_cast<float>(-std::log(-std::log(std::max(rng.uniform01(), 1e-12))));
    auto soft = torch::softmax((l + torch::tensor(g)) / tau, 0);
    if (!hard) {
      w.probs.push_back(soft);
      continue;
    }
    auto one = torch::zeros_like(soft);
    one[soft.argmax().item<int64_t>()] = 1.0;
    w.probs.push_back(one - soft.detach() + soft);  // one-hot forward, soft gradient
  }
  return w;
}

Architecture ArchWeights::argmax(const SearchSpace& space) const {
  Architecture a(std::vector<uint32_t>(probs.size(), 0));
  for (size_t i = 0; i < probs.size(); ++i)
    a[i] = static_cast<uint32_t>(probs[i].argmax().item<int64_t>());
  space.normalize(a);
  return a;
}

Dist Dist::fixed(int64_t value) { return Dist{{value}, {torch::ones({})}, -1}; }

int64_t Dist::max() const { return *std::max_element(values.begin(), values.end()); }

at::Tensor Dist::prob_of(int64_t v) const {
  at::Tensor sum;
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i] == v) sum = sum.defined() ? sum + p[i] : p[i];
  return sum;
}

Dist RelaxedContext::dist(const IntParam& param) const {
  if (!param.is_decision()) return Dist::fixed(param.fixed);
  const auto& domain = space.decisions()[param.decision].domain;
  Dist d;
  d.decision = param.decision;
  d.values = domain.ints;
  for (size_t i = 0; i < domain.ints.size(); ++i)
    d.p.push_back(weights.probs[param.decision][static_cast<int64_t>(i)]);
  return d;
}

at::Tensor mask_width(const at::Tensor& x, const Dist& width, int64_t dim) {
  const int64_t n = x.size(dim);
  if (width.values.size() == 1 && width.values[0] >= n) return x;  // every channel is active
  auto positions = torch::arange(n, x.options());
  at::Tensor mask;
  for (size_t i = 0; i < width.values.size(); ++i) {
    auto term = width.p[i] * (positions < width.values[i]).to(x.scalar_type());
    mask = mask.defined() ? mask + term : term;
  }
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[static_cast<size_t>(dim < 0 ? dim + x.dim() : dim)] = n;
  return x * mask.view(shape);
}

at::Tensor prob_equal(const Dist& a, const Dist& b) {
  if (a.decision >= 0 && a.decision == b.decision) return torch::ones({});
  at::Tensor sum;
  for (size_t i = 0; i < a.values.size(); ++i) {
    at::Tensor pb = b.prob_of(a.values[i]);
    if (pb.defined()) sum = sum.defined() ? sum + a.p[i] * pb : a.p[i] * pb;
  }
  return sum;
}

Dist combine(const Dist& a, const Dist& b, const std::function<int64_t(int64_t, int64_t)>& f) {
  Dist out;
  for (size_t i = 0; i < a.values.size(); ++i)
    for (size_t j = 0; j < b.values.size(); ++j) {
      out.values.push_back(f(a.values[i], b.values[j]));
      out.p.push_back(a.p[i] * b.p[j]);
    }
  return out;
}

at::Tensor fit_width(const at::Tensor& x, int64_t n, int64_t dim) {
  const int64_t have = x.size(dim);
  if (have == n) return x;
  if (have > n) return x.narrow(dim, 0, n);
  std::vector<int64_t> shape = x.sizes().vec();
  shape[static_cast<size_t>(dim < 0 ? dim + x.dim() : dim)] = n - have;
  return torch::cat({x, torch::zeros(shape, x.options())}, dim);
}

at::Tensor mix(const Dist& d, const std::function<at::Tensor(int64_t)>& output) {
  if (d.decision < 0 && d.values.size() == 1) return output(d.values[0]);  // fixed: one path
  at::Tensor sum;
  for (size_t i = 0; i < d.values.size(); ++i) {
    auto term = d.p[i] * output(d.values[i]);
    sum = sum.defined() ? sum + term : term;
  }
  return sum;
}

}  // namespace nasforge::supernet
