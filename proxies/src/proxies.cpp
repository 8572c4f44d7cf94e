// The zero-cost proxies on a lowered graph. Definitions follow the papers and the reference code
// of "Zero-Cost Proxies for Lightweight NAS" (Abdelfattah et al. 2021), whose conventions the
// NAS-Bench-Suite-Zero figures use: conv and linear weights are "the layers", the network is in
// training mode (batch statistics) unless a proxy says otherwise.
#include "nasforge/proxies/proxies.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "nasforge/supernet/graph_run.h"

namespace nasforge::proxies {
namespace {

using supernet::Graph;
using supernet::GraphOp;
using supernet::GraphRunOptions;
using supernet::NormMode;
using supernet::OpKind;
using supernet::run_graph;

// The ids of the conv and linear ops: the layers whose weights the proxies weigh.
std::vector<int> layer_ops(const Graph& g) {
  std::vector<int> ids;
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (g.ops[i].kind == OpKind::kConv || g.ops[i].kind == OpKind::kLinear)
      ids.push_back(static_cast<int>(i));
  return ids;
}

// A float copy of the graph whose layer weights are leaves that require gradients.
struct Trainable {
  Graph g;
  std::vector<int> layers;
  std::vector<at::Tensor> weights;
};
Trainable trainable(const Graph& net, at::ScalarType dtype = at::kFloat) {
  Trainable t{supernet::copy_graph(net, dtype), layer_ops(net), {}};
  for (int id : t.layers) t.weights.push_back(t.g.ops[id].weight.requires_grad_(true));
  return t;
}

at::Tensor logits_of(const at::Tensor& out) { return out.dim() > 2 ? out.flatten(1) : out; }

at::Tensor loss_of(const Graph& g, const data::Batch& b, GraphRunOptions o = {NormMode::kBatch}) {
  return torch::cross_entropy_loss(logits_of(run_graph(g, b.images, o).output), b.labels);
}

std::vector<at::Tensor> grads(const at::Tensor& y, const std::vector<at::Tensor>& x,
                              bool create_graph = false) {
  return torch::autograd::grad({y}, x, {}, create_graph, create_graph, /*allow_unused=*/true);
}

double sum_over(const std::vector<at::Tensor>& w, const std::vector<at::Tensor>& g,
                double (*term)(const at::Tensor&, const at::Tensor&)) {
  double s = 0;
  for (size_t i = 0; i < w.size(); ++i)
    if (g[i].defined()) s += term(w[i].detach(), g[i].detach());
  return s;
}

double snip(const Graph& net, const data::Batch& b) {
  Trainable t = trainable(net);
  auto g = grads(loss_of(t.g, b), t.weights);
  return sum_over(t.weights, g, [](const at::Tensor& w, const at::Tensor& d) {
    return (w * d).abs().sum().item<double>();
  });
}

double grad_norm(const Graph& net, const data::Batch& b) {
  Trainable t = trainable(net);
  auto g = grads(loss_of(t.g, b), t.weights);
  return sum_over(t.weights, g,
                  [](const at::Tensor&, const at::Tensor& d) { return d.norm().item<double>(); });
}

// GraSP with one batch: g = dL/dW (held constant), Hg = d(g . dL/dW)/dW, score -W . Hg.
double grasp(const Graph& net, const data::Batch& b) {
  Trainable t = trainable(net);
  auto g = grads(loss_of(t.g, b), t.weights, /*create_graph=*/true);
  at::Tensor z = torch::zeros({}, torch::kFloat);
  for (const auto& gi : g)
    if (gi.defined()) z = z + (gi.detach() * gi).sum();
  if (!z.requires_grad()) return 0;  // no weight reaches the loss
  auto hg = grads(z, t.weights);
  return sum_over(t.weights, hg, [](const at::Tensor& w, const at::Tensor& d) {
    return -(w * d).sum().item<double>();
  });
}

double fisher(const Graph& net, const data::Batch& b) {
  Trainable t = trainable(net);
  auto run = run_graph(t.g, b.images, {NormMode::kBatch, /*keep=*/true});
  std::vector<at::Tensor> acts;
  for (int id : t.layers) acts.push_back(run.values[id]);
  auto g = grads(torch::cross_entropy_loss(logits_of(run.output), b.labels), acts);
  double s = 0;
  for (size_t i = 0; i < acts.size(); ++i) {
    if (!g[i].defined()) continue;
    at::Tensor ag = acts[i].detach() * g[i];
    if (ag.dim() == 4) ag = ag.sum({2, 3});
    if (ag.dim() == 3) ag = ag.sum({1});  // tokens: over positions
    s += (0.5 * ag.pow(2).mean(0)).sum().item<double>();
  }
  return s;
}

double jacov(const Graph& net, const data::Batch& b) {
  Trainable t = trainable(net);
  at::Tensor x = b.images.clone().requires_grad_(true);
  at::Tensor y = run_graph(t.g, x, {NormMode::kBatch}).output;
  at::Tensor j = torch::autograd::grad({y}, {x}, {torch::ones_like(y)}, false, false, true)[0];
  if (!j.defined()) return kDegenerateScore;
  j = j.detach().flatten(1).to(torch::kDouble);
  j = j - j.mean(1, true);
  at::Tensor norm = j.norm(2, 1, true);
  if ((norm == 0).any().item<bool>()) return kDegenerateScore;  // output independent of an image
  j = j / norm;
  at::Tensor v = torch::linalg_eigvalsh(torch::matmul(j, j.t()));
  const double k = 1e-5;
  return -(torch::log(v + k) + 1.0 / (v + k)).sum().item<double>();
}

double nwot(const Graph& net, const data::Batch& b) {
  torch::NoGradGuard no_grad;
  auto run = run_graph(net, b.images, {NormMode::kBatch, /*keep=*/true});
  const int64_t n = b.images.size(0);
  at::Tensor k = torch::zeros({n, n}, torch::kDouble);
  for (const auto& op : net.ops) {
    if (op.kind != OpKind::kAct) continue;
    at::Tensor c = (run.values[op.inputs[0]] > 0).reshape({n, -1}).to(torch::kDouble);
    k += torch::matmul(c, c.t()) + torch::matmul(1 - c, (1 - c).t());
  }
  const double ld = std::get<1>(torch::linalg_slogdet(k)).item<double>();
  return std::isfinite(ld) ? ld : kDegenerateScore;
}

// The op whose output Zen-NAS compares: what the last global pool reads (the pre-GAP feature
// map), or, without one, what the last linear layer reads.
int pre_gap(const Graph& g) {
  for (int i = static_cast<int>(g.ops.size()) - 1; i > 0; --i)
    if (g.ops[i].kind == OpKind::kGlobalPool) return g.ops[i].inputs[0];
  for (int i = static_cast<int>(g.ops.size()) - 1; i > 0; --i)
    if (g.ops[i].kind == OpKind::kLinear) return g.ops[i].inputs[0];
  return g.output;
}

double zen(const Graph& net, const at::Tensor& shape_of, uint64_t seed) {
  torch::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  Graph g = supernet::copy_graph(net, at::kFloat);
  for (auto& op : g.ops) {
    if (op.kind == OpKind::kConv || op.kind == OpKind::kLinear) {
      op.weight.normal_(0.0, 1.0, gen);
      if (op.bias.defined()) op.bias.zero_();
    } else if (op.kind == OpKind::kBatchNorm) {
      op.weight.fill_(1.0);
      op.bias.zero_();
    }
  }
  const int feature = pre_gap(g);
  at::Tensor x = at::normal(0.0, 1.0, shape_of.sizes(), gen);
  at::Tensor x2 = x + 0.01 * at::normal(0.0, 1.0, shape_of.sizes(), gen);
  auto a = run_graph(g, x, {NormMode::kBatch, true});
  auto b = run_graph(g, x2, {NormMode::kBatch, true});
  const double d =
      (a.values[feature] - b.values[feature]).abs().flatten(1).sum(1).mean().item<double>();
  if (d == 0) return kDegenerateScore;  // the features do not depend on the input
  double s = std::log(d);
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (a.batch_var[i].defined()) s += std::log(std::sqrt(a.batch_var[i].mean().item<double>()));
  return s;
}

// SynFlow: |theta| everywhere, batch norm left out, double precision, one all-ones image.
double synflow(const Graph& net, const at::Tensor& shape_of) {
  Graph g = supernet::copy_graph(net, at::kDouble);
  for (auto& op : g.ops)
    for (at::Tensor* t : {&op.weight, &op.bias})
      if (t->defined()) t->abs_();
  std::vector<at::Tensor> w;
  for (int id : layer_ops(g)) w.push_back(g.ops[id].weight.requires_grad_(true));
  std::vector<int64_t> shape = shape_of.sizes().vec();
  shape[0] = 1;
  at::Tensor r = run_graph(g, torch::ones(shape, torch::kDouble), {NormMode::kOff}).output.sum();
  if (!r.requires_grad()) return 0;
  auto d = grads(r, w);
  return sum_over(w, d, [](const at::Tensor& wi, const at::Tensor& di) {
    return (wi * di).abs().sum().item<double>();
  });
}

double l2_norm(const Graph& net) {
  double s = 0;
  for (int id : layer_ops(net)) s += net.ops[id].weight.detach().norm().item<double>();
  return s;
}

const std::vector<ProxyInfo> kInfos = {
    {Proxy::kSynflow, "synflow", "Tanaka et al., NeurIPS 2020 (SynFlow)", false, false},
    {Proxy::kSnip, "snip", "Lee et al., ICLR 2019 (SNIP)", true, false},
    {Proxy::kGrasp, "grasp", "Wang et al., ICLR 2020 (GraSP)", true, false},
    {Proxy::kFisher, "fisher", "Theis et al. 2018; Turner et al., ICLR 2020", true, false},
    {Proxy::kGradNorm, "grad_norm", "Abdelfattah et al., ICLR 2021", true, false},
    {Proxy::kJacov, "jacov", "Mellor et al., arXiv:2006.04647v1 (2020)", true, false},
    {Proxy::kNwot, "nwot", "Mellor et al., ICML 2021 (NASWOT)", true, false},
    {Proxy::kZen, "zen", "Lin et al., ICCV 2021 (Zen-NAS)", false, false},
    {Proxy::kL2Norm, "l2_norm", "Abdelfattah et al., ICLR 2021", false, false},
    {Proxy::kParams, "params", "parameter count (NAS-Bench-Suite-Zero baseline)", false, true},
    {Proxy::kFlops, "flops", "MACs at batch 1 (NAS-Bench-Suite-Zero baseline)", false, true},
};

}  // namespace

const std::vector<ProxyInfo>& proxy_infos() { return kInfos; }

const ProxyInfo& info(Proxy p) { return kInfos.at(static_cast<size_t>(p)); }

std::optional<Proxy> parse_proxy(const std::string& name) {
  for (const auto& i : kInfos)
    if (name == i.name) return i.proxy;
  return std::nullopt;
}

std::vector<data::Batch> take_batches(const data::Splits& splits, int64_t count, int64_t size,
                                      uint64_t seed) {
  data::BatchLoader loader(splits.train, splits.mean, splits.std, size, /*shuffle=*/true, {}, seed);
  std::vector<data::Batch> out;
  data::Batch b;
  while (static_cast<int64_t>(out.size()) < count && loader.next(b)) out.push_back(b);
  return out;
}

namespace {

StatusOr<double> run_proxy(Proxy p, const Graph& net, const std::vector<data::Batch>& batches,
                           uint64_t seed) {
  const ProxyInfo& i = info(p);
  if (i.counted)
    return InvalidArgument(std::string("proxy ") + i.name +
                           " is a count of the architecture, not a score of a network");
  if (batches.empty())
    return InvalidArgument(std::string("proxy ") + i.name + ": no batch to run (" +
                           (i.needs_data ? "it reads real images" : "it needs the input shape") +
                           ")");
  double s = 0;
  const at::Tensor& shape = batches[0].images;
  switch (p) {
    case Proxy::kSynflow:
      s = synflow(net, shape);
      break;
    case Proxy::kL2Norm:
      s = l2_norm(net);
      break;
    case Proxy::kZen: {
      for (size_t k = 0; k < batches.size(); ++k) {
        const double v = zen(net, shape, seed + k);
        if (v == kDegenerateScore) return v;
        s += v;
      }
      s /= static_cast<double>(batches.size());
      break;
    }
    default: {
      double (*f)(const Graph&, const data::Batch&) = p == Proxy::kSnip       ? snip
                                                      : p == Proxy::kGrasp    ? grasp
                                                      : p == Proxy::kFisher   ? fisher
                                                      : p == Proxy::kGradNorm ? grad_norm
                                                      : p == Proxy::kJacov    ? jacov
                                                                              : nwot;
      for (const auto& b : batches) {
        const double v = f(net, b);
        if (v == kDegenerateScore) return v;
        s += v;
      }
      s /= static_cast<double>(batches.size());
    }
  }
  if (!std::isfinite(s))
    return FailedPrecondition(std::string("proxy ") + i.name + ": the score is not finite (" +
                              std::to_string(s) + ")");
  return s;
}

}  // namespace

StatusOr<double> score(Proxy p, const Graph& net, const std::vector<data::Batch>& batches,
                       uint64_t seed) {
  try {
    return run_proxy(p, net, batches, seed);
  } catch (const std::exception& e) {  // an op LibTorch cannot run or differentiate here
    return FailedPrecondition(std::string("proxy ") + info(p).name + ": " + e.what());
  }
}

}  // namespace nasforge::proxies
