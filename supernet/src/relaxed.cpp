// The relaxed (DARTS-family) forward: architecture weights and the mixed forward pass.
#include <torch/torch.h>

#include <cmath>

#include "internal/layers.h"
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

Status SupernetImpl::supports_relaxed() const {
  for (const auto& d : space_->decisions())
    if (space_->sections()[d.section].kind != Section::Kind::kCell)
      return FailedPrecondition("the relaxed forward covers cell decisions; " + d.label + " (" +
                                domain_type_name(d.domain.type) + ") is not relaxable yet");
  return Status::Ok();
}

}  // namespace nasforge::supernet
