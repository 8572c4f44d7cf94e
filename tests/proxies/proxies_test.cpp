// The zero-cost proxies against hand computations on tiny networks (closed-form gradients,
// finite differences, counted sign agreements), the graph interpreter against the extracted
// networks, and every proxy on every zoo space.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "../searchspace/test_util.h"
#include "nasforge/hardware/counts.h"
#include "nasforge/proxies/evaluator.h"
#include "nasforge/supernet/graph_run.h"
#include "nasforge/supernet/run.h"

namespace nasforge::proxies {
namespace {

using supernet::Graph;
using supernet::GraphOp;
using supernet::OpKind;
using torch::indexing::Slice;

GraphOp op(OpKind kind, int input) {
  GraphOp o;
  o.kind = kind;
  o.inputs = {input};
  return o;
}

// x (N x 5) -> linear W1 (6 x 5) -> relu -> linear W2 (3 x 6): logits.
struct Mlp {
  at::Tensor w1, w2, x, y;
  Graph graph() const {
    Graph g;
    g.ops.resize(4);
    g.ops[1].kind = OpKind::kLinear;
    g.ops[1].inputs = {0};
    g.ops[1].weight = w1.to(torch::kFloat);
    g.ops[2].kind = OpKind::kAct;
    g.ops[2].inputs = {1};
    g.ops[3].kind = OpKind::kLinear;
    g.ops[3].inputs = {2};
    g.ops[3].weight = w2.to(torch::kFloat);
    g.output = 3;
    return g;
  }
  std::vector<data::Batch> batches() const { return {{x.to(torch::kFloat), y}}; }
};

// Weights and inputs held in float, so that the hand computations in double see the same values.
Mlp make_mlp(uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  auto f = [&](std::vector<int64_t> s) {
    return at::normal(0.0, 1.0, s, gen).to(torch::kFloat).to(torch::kDouble);
  };
  return {f({6, 5}), f({3, 6}), f({4, 5}), torch::tensor({0, 2, 1, 2}, torch::kLong)};
}

// The cross-entropy's gradients by hand: z = W2 relu(W1 x), dL/dz = (softmax(z) - onehot) / N.
struct Hand {
  at::Tensor a1, mask, z, d2, d1, g1, g2;
};
Hand by_hand(const Mlp& m, const at::Tensor& w1, const at::Tensor& w2) {
  Hand h;
  h.a1 = torch::matmul(m.x, w1.t());
  h.mask = (h.a1 > 0).to(torch::kDouble);
  h.z = torch::matmul(h.a1 * h.mask, w2.t());
  const int64_t n = m.x.size(0);
  h.d2 = (torch::softmax(h.z, 1) - torch::one_hot(m.y, 3).to(torch::kDouble)) / n;
  h.d1 = torch::matmul(h.d2, w2) * h.mask;
  h.g2 = torch::matmul(h.d2.t(), h.a1 * h.mask);
  h.g1 = torch::matmul(h.d1.t(), m.x);
  return h;
}

double proxy(Proxy p, const Mlp& m) {
  auto s = score(p, m.graph(), m.batches(), 0);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? *s : NAN;
}

TEST(Proxies, GradientProxiesEqualTheClosedFormGradients) {
  for (uint64_t seed : {1, 2, 3}) {
    Mlp m = make_mlp(seed);
    Hand h = by_hand(m, m.w1, m.w2);
    const double snip =
        (m.w1 * h.g1).abs().sum().item<double>() + (m.w2 * h.g2).abs().sum().item<double>();
    EXPECT_NEAR(proxy(Proxy::kSnip, m), snip, 1e-5 * snip);
    const double gn = h.g1.norm().item<double>() + h.g2.norm().item<double>();
    EXPECT_NEAR(proxy(Proxy::kGradNorm, m), gn, 1e-5 * gn);
    auto fisher_of = [](const at::Tensor& a, const at::Tensor& d) {
      return (0.5 * (a * d).pow(2).mean(0)).sum().item<double>();
    };
    const double fisher = fisher_of(h.a1, h.d1) + fisher_of(h.z, h.d2);
    EXPECT_NEAR(proxy(Proxy::kFisher, m), fisher, 1e-4 * fisher);
    const double l2 = m.w1.norm().item<double>() + m.w2.norm().item<double>();
    EXPECT_NEAR(proxy(Proxy::kL2Norm, m), l2, 1e-6 * l2);
  }
}

// GraSP's Hessian-gradient product against central differences of the hand gradient.
TEST(Proxies, GraspEqualsFiniteDifferencesOfTheGradient) {
  Mlp m = make_mlp(7);
  Hand h = by_hand(m, m.w1, m.w2);
  const double eps = 1e-6;
  Hand up = by_hand(m, m.w1 + eps * h.g1, m.w2 + eps * h.g2);
  Hand down = by_hand(m, m.w1 - eps * h.g1, m.w2 - eps * h.g2);
  const at::Tensor hg1 = (up.g1 - down.g1) / (2 * eps), hg2 = (up.g2 - down.g2) / (2 * eps);
  const double grasp = -(m.w1 * hg1).sum().item<double>() - (m.w2 * hg2).sum().item<double>();
  EXPECT_NEAR(proxy(Proxy::kGrasp, m), grasp, 1e-3 * std::abs(grasp) + 1e-7);
}

// SynFlow is conserved layer by layer: in a bias-free chain of L layers each layer's sum of
// |theta * dR/dtheta| is R, so the score is L * R with R = 1' |W2| |W1| 1.
TEST(Proxies, SynflowIsTheLayerCountTimesTheFlow) {
  Mlp m = make_mlp(4);
  const double r =
      torch::matmul(m.w2.abs(), torch::matmul(m.w1.abs(), torch::ones({5}, torch::kDouble)))
          .sum()
          .item<double>();
  EXPECT_NEAR(proxy(Proxy::kSynflow, m), 2 * r, 1e-9 * r);
}

TEST(Proxies, JacovAndNwotEqualTheirDefinitions) {
  Mlp m = make_mlp(5);
  Hand h = by_hand(m, m.w1, m.w2);
  // Per image: d(sum of logits)/dx = W1' (mask * W2' 1).
  const at::Tensor back = torch::matmul(m.w2.t(), torch::ones({3}, torch::kDouble));
  const at::Tensor j = torch::matmul(h.mask * back, m.w1);  // N x 5
  at::Tensor c = j - j.mean(1, true);
  c = c / c.norm(2, 1, true);
  const at::Tensor v = torch::linalg_eigvalsh(torch::matmul(c, c.t()));
  const double jacov = -(torch::log(v + 1e-5) + 1 / (v + 1e-5)).sum().item<double>();
  EXPECT_NEAR(proxy(Proxy::kJacov, m), jacov, 1e-3 * std::abs(jacov));
  // K_ij: the units on which images i and j agree in sign, counted one by one.
  const int64_t n = 4;
  at::Tensor k = torch::zeros({n, n}, torch::kDouble);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t jj = 0; jj < n; ++jj)
      for (int64_t u = 0; u < 6; ++u)
        if (h.mask[i][u].item<double>() == h.mask[jj][u].item<double>()) {
          k[i][jj] += 1;
        }
  const double nwot = std::log(std::abs(torch::det(k).item<double>()));
  if (std::isfinite(nwot))
    EXPECT_NEAR(proxy(Proxy::kNwot, m), nwot, 1e-9 * std::abs(nwot) + 1e-9);
  else
    EXPECT_EQ(proxy(Proxy::kNwot, m), kDegenerateScore);
}

TEST(Proxies, ANetworkBlindToItsInputRanksLast) {
  Mlp m = make_mlp(6);
  m.w1.zero_();
  EXPECT_EQ(proxy(Proxy::kJacov, m), kDegenerateScore);
  EXPECT_EQ(proxy(Proxy::kNwot, m), kDegenerateScore);
}

// Zen-NAS by hand on conv -> BN -> relu -> global pool -> linear: Gaussian weights (drawn in op
// order), Gaussian input and its perturbation, batch statistics.
TEST(Proxies, ZenEqualsItsDefinition) {
  Graph g;
  g.ops.resize(6);
  g.ops[1] = op(OpKind::kConv, 0);
  g.ops[1].weight = torch::zeros({2, 1, 3, 3});
  g.ops[1].kernel = 3;
  g.ops[1].pad_begin = g.ops[1].pad_end = 1;
  g.ops[2] = op(OpKind::kBatchNorm, 1);
  g.ops[2].weight = torch::full({2}, 3.0);  // Zen resets the affine part to 1 and 0
  g.ops[2].bias = torch::full({2}, 1.0);
  g.ops[2].mean = torch::zeros({2});
  g.ops[2].var = torch::ones({2});
  g.ops[3] = op(OpKind::kAct, 2);
  g.ops[4] = op(OpKind::kGlobalPool, 3);
  g.ops[5] = op(OpKind::kLinear, 4);
  g.ops[5].weight = torch::zeros({3, 2});
  g.output = 5;
  const std::vector<data::Batch> shape = {{torch::zeros({8, 1, 4, 4}), torch::zeros({8})}};
  auto s = score(Proxy::kZen, g, shape, 11);
  ASSERT_TRUE(s.ok()) << s.status().message();

  at::Generator gen = at::detail::createCPUGenerator(11);
  const at::Tensor w = at::normal(0.0, 1.0, {2, 1, 3, 3}, gen);
  at::normal(0.0, 1.0, {3, 2}, gen);  // the linear layer's, not used by the score
  const at::Tensor x = at::normal(0.0, 1.0, {8, 1, 4, 4}, gen);
  const at::Tensor x2 = x + 0.01 * at::normal(0.0, 1.0, {8, 1, 4, 4}, gen);
  auto f = [&](const at::Tensor& in, at::Tensor* var) {
    const at::Tensor c = torch::conv2d(in, w, {}, 1, 1);
    const at::Tensor mu = c.mean({0, 2, 3}, true);
    const at::Tensor v = (c - mu).pow(2).mean({0, 2, 3}, true);
    if (var) *var = v;
    return torch::relu((c - mu) / torch::sqrt(v + 1e-5));
  };
  at::Tensor var;
  const at::Tensor d = (f(x, &var) - f(x2, nullptr)).abs().flatten(1).sum(1).mean();
  const double zen = std::log(d.item<double>()) + std::log(std::sqrt(var.mean().item<double>()));
  EXPECT_NEAR(*s, zen, 1e-4 * std::abs(zen));
}

TEST(Proxies, NamesParseAndCountedProxiesAreNotScores) {
  for (const auto& i : proxy_infos()) {
    ASSERT_TRUE(parse_proxy(i.name));
    EXPECT_EQ(*parse_proxy(i.name), i.proxy);
    EXPECT_EQ(info(i.proxy).name, std::string(i.name));
  }
  EXPECT_FALSE(parse_proxy("synflw"));
  Mlp m = make_mlp(1);
  EXPECT_FALSE(score(Proxy::kParams, m.graph(), m.batches(), 0).ok());
  EXPECT_FALSE(score(Proxy::kSnip, m.graph(), {}, 0).ok());
}

// The interpreter runs an extracted network's lowered graph as the network itself runs.
TEST(GraphRun, MatchesTheExtractedNetworkOnEveryZooSpace) {
  for (const char* file : testing::kZoo) {
    SCOPED_TRACE(file);
    auto space = std::make_shared<const SearchSpace>(testing::load(file));
    supernet::Supernet net(space, supernet::SupernetOptions().seed(3));
    Rng rng(8);
    const Architecture a = space->sample(rng);
    supernet::StaticNetwork alone = net->extract(a);
    alone->eval();
    const auto& in = space->input();
    at::Generator gen = at::detail::createCPUGenerator(2);
    const at::Tensor x = at::normal(0.0, 1.0, {2, in.channels, in.height, in.width}, gen);
    torch::NoGradGuard no_grad;
    const at::Tensor want = alone->forward(x);
    const at::Tensor got =
        supernet::run_graph(alone->lower({2, in.channels, in.height, in.width}), x).output;
    EXPECT_TRUE(torch::allclose(got.reshape(want.sizes()), want, 1e-4, 1e-4))
        << (got.reshape(want.sizes()) - want).abs().max().item<double>();
  }
}

// Every proxy gives a finite score (or, for jacov and nwot, the degenerate one) for a sampled
// architecture of every zoo space; params and flops are the exact counts in both modes.
TEST(ProxyEvaluator, EveryProxyOnEveryZooSpace) {
  for (const char* file : testing::kZoo) {
    SCOPED_TRACE(file);
    auto space = std::make_shared<const SearchSpace>(testing::load(file));
    auto data = supernet::load_data_for("synthetic:32", *space, 0, 8);
    ASSERT_TRUE(data.ok()) << data.status().message();
    Rng rng(4);
    const Architecture a = space->sample(rng);
    for (const auto& i : proxy_infos()) {
      SCOPED_TRACE(i.name);
      ProxyOptions o;
      o.batch_size = 4;
      o.counting = Counting::kAsImplemented;
      auto e = ProxyEvaluator::create(space, i.proxy, o, &*data);
      ASSERT_TRUE(e.ok()) << e.status().message();
      auto s = (*e)->evaluate(a);
      ASSERT_TRUE(s.ok()) << s.status().message();
      EXPECT_TRUE(std::isfinite(*s));
      const auto c = hardware::count(*space, a, Counting::kAsImplemented);
      if (i.proxy == Proxy::kParams) {
        EXPECT_EQ(*s, static_cast<double>(c.params));
      }
      if (i.proxy == Proxy::kFlops) {
        EXPECT_EQ(*s, static_cast<double>(c.macs));
      }
    }
  }
}

TEST(ProxyEvaluator, SameSeedSameScoreAndDataIsRequiredWhereRead) {
  auto space = std::make_shared<const SearchSpace>(testing::load("zoo/nb201.yaml"));
  auto data = supernet::load_data_for("synthetic:32", *space, 0, 8);
  ASSERT_TRUE(data.ok());
  const Architecture a = space
                             ->parse(
                                 "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|"
                                 "none~1|nor_conv_3x3~2|")
                             .value();
  ProxyOptions o;
  o.batch_size = 4;
  for (Proxy p : {Proxy::kSnip, Proxy::kSynflow, Proxy::kZen}) {
    auto e1 = ProxyEvaluator::create(space, p, o, &*data);
    auto e2 = ProxyEvaluator::create(space, p, o, &*data);
    ASSERT_TRUE(e1.ok() && e2.ok());
    EXPECT_EQ(*(*e1)->evaluate(a), *(*e2)->evaluate(a));
  }
  auto no_data = ProxyEvaluator::create(space, Proxy::kSnip, o, nullptr);
  ASSERT_FALSE(no_data.ok());
  EXPECT_NE(no_data.status().message().find("--data"), std::string::npos);
  EXPECT_TRUE(ProxyEvaluator::create(space, Proxy::kSynflow, o, nullptr).ok());
}

}  // namespace
}  // namespace nasforge::proxies
