// REINFORCE (Zoph & Le, ICLR 2017; the NAS-Bench-201 baseline): an LSTM controller emits one
// decision at a time, each step fed the embedding of the previous choice. Its policy gradient
// uses the reward minus an exponential moving average of past rewards. Sampling draws through
// nasforge's own Rng and the weights are initialised from it, so a seed fixes the run.
#include <torch/torch.h>

#include <cmath>
#include <unordered_set>

#include "internal/common.h"

namespace nasforge::strategies {
namespace {

struct ControllerImpl : torch::nn::Module {
  ControllerImpl(const SearchSpace& s, int64_t hidden) : hidden_(hidden) {
    lstm = register_module("lstm", torch::nn::LSTMCell(hidden, hidden));
    start = register_parameter("start", torch::zeros({1, hidden}));
    for (size_t d = 0; d < s.decisions().size(); ++d) {
      const auto k = static_cast<int64_t>(s.decisions()[d].domain.size());
      heads.push_back(register_module("head" + std::to_string(d), torch::nn::Linear(hidden, k)));
      embeds.push_back(
          register_module("embed" + std::to_string(d), torch::nn::Embedding(k, hidden)));
    }
  }
  int64_t hidden_;
  torch::nn::LSTMCell lstm{nullptr};
  torch::Tensor start;
  std::vector<torch::nn::Linear> heads;
  std::vector<torch::nn::Embedding> embeds;
};
TORCH_MODULE(Controller);

class Reinforce : public Strategy {
 public:
  Reinforce(const Problem& p, double lr, int64_t hidden, double decay, double entropy)
      : p_(p),
        rng_(p.seed),
        prop_(p_, rng_),
        net_(*p.space, hidden),
        decay_(decay),
        entropy_(entropy) {
    torch::NoGradGuard no_grad;
    for (auto& t : net_->parameters()) {  // uniform(-0.1, 0.1) from our own generator
      auto acc = t.contiguous();
      std::vector<float> v(static_cast<size_t>(t.numel()));
      for (auto& x : v) x = static_cast<float>(0.2 * rng_.uniform01() - 0.1);
      t.copy_(torch::from_blob(v.data(), t.sizes(), torch::kFloat).clone());
    }
    opt_ = std::make_unique<torch::optim::Adam>(net_->parameters(), torch::optim::AdamOptions(lr));
  }

  std::string name() const override { return "reinforce"; }

  std::vector<Architecture> ask(size_t n) override {
    // Draws again (a bounded number of times) when the controller repeats an architecture it
    // already proposed: repeats are free in the driver, so they would stall the search.
    constexpr int kRedraws = 8;
    std::vector<Architecture> out;
    for (size_t i = 0; i < n; ++i) {
      Architecture a = prop_.make([&] { return sample(); });
      for (int t = 0; t < kRedraws && proposed_.count(p_.space->canonical_hash(a)); ++t)
        a = prop_.make([&] { return sample(); });
      // A policy that has converged keeps drawing the same few architectures: then explore
      // their neighbourhood instead (one mutation, a bounded number of tries).
      for (int t = 0; t < Proposer::kTries && proposed_.count(p_.space->canonical_hash(a)); ++t)
        a = prop_.mutate(a);
      proposed_.insert(p_.space->canonical_hash(a));
      out.push_back(std::move(a));
    }
    return out;
  }

  void tell(const std::vector<Trial>& trials) override {
    std::vector<const Trial*> use;
    for (const Trial& t : trials) {
      double r = reward(t);
      if (!have_baseline_) baseline_ = r, have_baseline_ = true;
      use.push_back(&t);
      advantages_.push_back(r - baseline_);
      baseline_ = decay_ * baseline_ + (1 - decay_) * r;
    }
    // Nothing to learn without decisions (a space of one architecture), or without trials.
    if (use.empty() || p_.space->decisions().empty()) return;
    // One gradient step on the batch: -(advantage) * log p(arch) - entropy bonus.
    const auto& ds = p_.space->decisions();
    const int64_t b = static_cast<int64_t>(use.size());
    torch::Tensor h = net_->start.expand({b, net_->hidden_}).contiguous();
    torch::Tensor c = torch::zeros_like(h);
    torch::Tensor x = h;
    torch::Tensor logp = torch::zeros({b});
    torch::Tensor ent = torch::zeros({b});
    for (size_t d = 0; d < ds.size(); ++d) {
      std::tie(h, c) = net_->lstm(x, std::make_tuple(h, c));
      auto lp = torch::log_softmax(net_->heads[d](h), 1);
      std::vector<int64_t> choice(use.size());
      std::vector<float> active(use.size());
      for (size_t i = 0; i < use.size(); ++i) {
        choice[i] = use[i]->arch[d];
        active[i] = p_.space->is_active(use[i]->arch, static_cast<int>(d)) ? 1.f : 0.f;
      }
      auto idx = torch::tensor(choice, torch::kLong);
      auto act = torch::tensor(active);
      logp = logp + act * lp.gather(1, idx.unsqueeze(1)).squeeze(1);
      ent = ent - act * (lp.exp() * lp).sum(1);
      x = net_->embeds[d](idx);
    }
    std::vector<float> adv(advantages_.end() - b, advantages_.end());
    auto a = torch::tensor(adv);
    auto loss = -(a * logp).mean() - entropy_ * ent.mean();
    opt_->zero_grad();
    loss.backward();
    opt_->step();
    advantages_.clear();
  }

 private:
  // Samples every decision in order (inactive ones too, so the sequence has one shape).
  Architecture sample() {
    torch::NoGradGuard no_grad;
    const auto& ds = p_.space->decisions();
    Architecture a(std::vector<uint32_t>(ds.size(), 0));
    torch::Tensor h = net_->start, c = torch::zeros_like(h), x = h;
    for (size_t d = 0; d < ds.size(); ++d) {
      std::tie(h, c) = net_->lstm(x, std::make_tuple(h, c));
      auto p = torch::softmax(net_->heads[d](h), 1).contiguous();
      const float* pr = p.data_ptr<float>();
      double r = rng_.uniform01();
      int64_t k = 0;
      const int64_t n = p.size(1);
      while (k + 1 < n && (r -= pr[k]) > 0) ++k;
      a[d] = static_cast<uint32_t>(k);
      x = net_->embeds[d](torch::tensor({k}, torch::kLong));
    }
    p_.space->normalize(a);
    return a;
  }

  // Infeasible and failed trials earn the lowest reward seen so far.
  double reward(const Trial& t) {
    if (t.feasible()) {
      worst_ = std::min(worst_, t.score[0]);
      return t.score[0];
    }
    return std::isfinite(worst_) ? worst_ : 0.0;
  }

  Problem p_;
  Rng rng_;
  Proposer prop_;
  Controller net_;
  std::unique_ptr<torch::optim::Adam> opt_;
  double decay_, entropy_, baseline_ = 0, worst_ = INFINITY;
  bool have_baseline_ = false;
  std::vector<double> advantages_;
  std::unordered_set<uint64_t> proposed_;
};

}  // namespace

StatusOr<std::unique_ptr<Strategy>> make_reinforce(const Problem& p) {
  Knobs k(p, "reinforce");
  auto lr = k.real("lr", 1e-6, 10);
  auto hidden = k.integer("hidden", 1, 4096);
  auto decay = k.real("baseline_decay", 0, 1);
  auto entropy = k.real("entropy", 0, 10);
  if (!k.status().ok()) return k.status();
  return std::unique_ptr<Strategy>(new Reinforce(p, lr, hidden, decay, entropy));
}

}  // namespace nasforge::strategies
