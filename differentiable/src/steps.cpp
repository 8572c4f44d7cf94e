// The architecture steps of each method: DARTS (first and second order), GDAS, sharpDARTS,
// ProxylessNAS / FBNet's latency loss, GOLD-NAS's one-level update and pruning, and
// HardCoRe-NAS's Frank-Wolfe sweep.
#include <torch/torch.h>

#include <cmath>

#include "internal/impl.h"
#include "nasforge/differentiable/gradients.h"
#include "nasforge/differentiable/hardcore.h"
#include "nasforge/searchspace/hash.h"
#include "nasforge/supernet/data_parallel.h"

namespace nasforge::differentiable {

at::Tensor cross_entropy(const at::Tensor& logits, const at::Tensor& labels) {
  return torch::nn::functional::cross_entropy(logits, labels);
}

double DifferentiableSearch::Impl::progress() const {
  const double spe = static_cast<double>(std::max<int64_t>(1, trainer.steps_per_epoch()));
  const double done =
      static_cast<double>(trainer.epoch()) + static_cast<double>(trainer.step_in_epoch()) / spe;
  return std::min(1.0, done / static_cast<double>(std::max<int64_t>(1, opt.train.epochs)));
}

double DifferentiableSearch::Impl::temperature() const {
  const MethodKnobs& k = opt.knobs;
  const double t = progress();
  switch (opt.method) {
    case Method::kGdas:
      return k.number("tau_max") + (k.number("tau_min") - k.number("tau_max")) * t;
    case Method::kSharpDarts:
      return cosine_power(k.number("tau_max"), k.number("tau_min"), t, k.number("power"));
    case Method::kProxyless:
      return k.number("gumbel") > 0 ? 5.0 + (0.5 - 5.0) * t : 1.0;
    default:
      return 1.0;
  }
}

supernet::ArchWeights DifferentiableSearch::Impl::weights(double tau, bool grad) {
  std::vector<at::Tensor> theta;
  for (const auto& t : dist.theta()) theta.push_back(grad ? t : t.detach());
  supernet::ArchWeights w;
  if (opt.method == Method::kGdas) {
    w = supernet::ArchWeights::gumbel_softmax(theta, tau, rng, /*hard=*/true);
  } else if (opt.method == Method::kProxyless && opt.knobs.number("gumbel") > 0) {
    w = supernet::ArchWeights::gumbel_softmax(theta, tau, rng, /*hard=*/false);
  } else if (opt.method == Method::kSharpDarts) {
    auto p = dist.probs(tau);
    w.probs = opt.knobs.number("max_w") > 0 ? max_w(p).probs : p;
  } else {
    w.probs = dist.probs();
  }
  if (!grad)
    for (auto& p : w.probs) p = p.detach();
  return w;
}

at::Tensor DifferentiableSearch::Impl::expected_cost() { return (*opt.cost->model)(dist.probs()); }

void DifferentiableSearch::Impl::note_cost(double e) {
  if (!opt.cost || !opt.cost->bound) return;
  const double ratio = e / *opt.cost->bound;
  max_ratio = std::max(max_ratio, ratio);
  if (ratio > 1.0 + 1e-9) ++violations;
}

at::Tensor DifferentiableSearch::Impl::arch_loss(const at::Tensor& ce) {
  if (!opt.cost) return ce;
  const MethodKnobs& k = opt.knobs;
  at::Tensor e = expected_cost().to(ce.scalar_type());
  if (opt.method == Method::kProxyless) {
    if (k.text("form") == "fbnet")  // log(1 + E) keeps the base positive below one unit
      return ce * k.number("alpha") * torch::pow(torch::log1p(e), k.number("beta"));
    return ce + k.number("lambda") * e / reference_cost;
  }
  if (opt.cost->bound) return ce + k.number("penalty") * torch::relu(e / *opt.cost->bound - 1.0);
  return ce;
}

data::Batch DifferentiableSearch::Impl::next_batch(std::unique_ptr<data::BatchLoader>& loader,
                                                   int64_t& calls, const data::Dataset& split,
                                                   const char* tag) {
  if (!loader)
    loader = std::make_unique<data::BatchLoader>(
        split, data.mean, data.std, opt.train.batch_size, true, data::AugmentOptions{},
        fnv1a64(std::to_string(opt.train.seed) + "/" + tag), supernet::shard_of(group));
  data::Batch b;
  while (true) {
    ++calls;
    if (loader->next(b)) return b;
  }
}

void DifferentiableSearch::Impl::arch_step() {
  data::Batch vb = next_batch(valid_loader, valid_calls, data.valid, "arch-valid");
  auto& net = trainer.net();
  net->train();
  const double tau = temperature();
  auto& theta = dist.theta();
  if (opt.method == Method::kHardCore) {
    at::Tensor ce = cross_entropy(net->forward(vb.images, weights(tau, true)), vb.labels);
    double ce_value = ce.item<double>();
    auto g = torch::autograd::grad({ce}, theta, {}, false, false, true);
    reduce_arch(g, vb, ce_value);
    valid_loss += ce_value;
    std::vector<std::vector<double>> grads;
    for (size_t d = 0; d < g.size(); ++d) {
      auto gd = g[d].defined() ? g[d].to(torch::kFloat64).contiguous()
                               : torch::zeros({theta[d].numel()}, torch::kFloat64);
      grads.emplace_back(gd.data_ptr<double>(), gd.data_ptr<double>() + gd.numel());
    }
    auto p = probs();
    frank_wolfe_sweep(p, grads, *opt.cost->model, *opt.cost->bound, opt.knobs.number("fw_step"));
    torch::NoGradGuard no_grad;
    for (size_t d = 0; d < p.size(); ++d)
      theta[d].copy_(torch::tensor(p[d], torch::kFloat64).to(theta[d].dtype()));
    note_cost(expected_value(*opt.cost->model, p));
    ++valid_steps;
    return;
  }
  auto loss_on = [&](const data::Batch& b, double* ce_out) {
    return [&, ce_out]() {
      at::Tensor ce = cross_entropy(net->forward(b.images, weights(tau, true)), b.labels);
      if (ce_out) *ce_out = ce.item<double>();
      return arch_loss(ce);
    };
  };
  double ce_value = 0;
  std::vector<at::Tensor> g;
  if (opt.method == Method::kDarts && opt.knobs.number("order") == 2) {
    data::Batch tb = next_batch(unroll_loader, unroll_calls, data.train, "arch-unroll");
    double xi = opt.knobs.number("xi");
    if (xi <= 0) xi = trainer.current_lr();
    g = unrolled_arch_grad(net->parameters(), theta, loss_on(tb, nullptr), loss_on(vb, &ce_value),
                           xi, opt.train.weight_decay);
  } else {
    at::Tensor loss = loss_on(vb, &ce_value)();
    g = torch::autograd::grad({loss}, theta, {}, false, false, true);
  }
  reduce_arch(g, vb, ce_value);
  valid_loss += ce_value;
  for (size_t d = 0; d < theta.size(); ++d)
    theta[d].mutable_grad() = g[d].defined() ? g[d].detach() : torch::zeros_like(theta[d]);
  arch_opt->step();
  if (opt.cost) {
    torch::NoGradGuard no_grad;
    note_cost(expected_cost().item<double>());
  }
  ++valid_steps;
}

void DifferentiableSearch::Impl::gold_after_step() {
  auto& theta = dist.theta();
  // The one-level step: the train loss's gradient is already in theta.grad; add the penalty's.
  at::Tensor e = expected_cost();
  auto g = torch::autograd::grad({mu * e / reference_cost}, theta, {}, false, false, true);
  for (size_t d = 0; d < theta.size(); ++d) {
    at::Tensor add = g[d].defined() ? g[d].to(theta[d].dtype()) : torch::zeros_like(theta[d]);
    if (theta[d].grad().defined())
      theta[d].mutable_grad() = theta[d].grad() + add;
    else
      theta[d].mutable_grad() = add;
  }
  arch_opt->step();
  for (auto& t : theta) t.mutable_grad() = at::Tensor();
  note_cost(e.item<double>());
  if (++since_prune < static_cast<int64_t>(opt.knobs.number("prune_every"))) return;
  since_prune = 0;
  // Prune what fell below threshold / (values left); never the last value of a decision.
  const auto p = probs();
  int64_t pruned = 0;
  for (size_t d = 0; d < p.size(); ++d) {
    const double live = static_cast<double>(dist.alive_count(d));
    for (size_t v = 0; v < p[d].size(); ++v) {
      if (dist.alive_count(d) <= 1 || !dist.alive()[d][v]) continue;
      if (p[d][v] < opt.knobs.number("threshold") / live) {
        dist.prune(d, v);
        ++pruned;
      }
    }
  }
  if (pruned < static_cast<int64_t>(opt.knobs.number("min_pruned"))) mu *= opt.knobs.number("pace");
  if (pruned > static_cast<int64_t>(opt.knobs.number("max_pruned"))) mu /= opt.knobs.number("pace");
  // The series: the architecture derived at each round, when it moved. As mu grows, it moves
  // from the accurate end of the front towards the cheap end.
  Architecture a = current();
  if (series.empty() || !(series.back() == a)) series.push_back(a);
}

}  // namespace nasforge::differentiable
