// The pieces of the DARTS family, each against a hand computation or an enumeration: the exact
// expected cost, the logits' gradient, DARTS's second-order gradient, HardCoRe's linear
// programs, derivation (top-k, `none` excluded), knobs and Cosine Power Annealing.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "../searchspace/test_util.h"
#include "nasforge/differentiable/cost_model.h"
#include "nasforge/differentiable/expected_cost.h"
#include "nasforge/differentiable/gradients.h"
#include "nasforge/differentiable/hardcore.h"
#include "nasforge/differentiable/method.h"
#include "nasforge/differentiable/relaxation.h"
#include "nasforge/hardware/counts.h"
#include "nasforge/hardware/profile.h"
#include "nasforge/latency/predictors.h"
#include "nasforge/searchspace/hash.h"

namespace nasforge::differentiable {
namespace {

// tests/data/diff_tiny.yaml: a layer choice, a stage of elastic depth with width, kernel and
// expand decisions, a head.
const char* kTiny = "tests/data/diff_tiny.yaml";

double pseudo_ms(const Unit& u) { return static_cast<double>(fnv1a64(u.key()) % 997) / 100 + 0.01; }

std::vector<std::vector<double>> random_probs(const SearchSpace& s, Rng& rng) {
  std::vector<std::vector<double>> p;
  for (const auto& d : s.decisions()) {
    std::vector<double> v(d.domain.size());
    double sum = 0;
    for (auto& x : v) sum += (x = 0.05 + rng.uniform01());
    for (auto& x : v) x /= sum;
    p.push_back(v);
  }
  return p;
}

// E[lut latency] from the polynomial equals the probability-weighted sum over every assignment.
TEST(ExpectedCost, EqualsEnumerationAndItsGradientFiniteDifferences) {
  SearchSpace s = testing::load(kTiny);
  auto cost = ExpectedCost::make(s, pseudo_ms);
  ASSERT_TRUE(cost.ok()) << cost.status().message();
  Rng rng(5);
  auto p = random_probs(s, rng);
  double enumerated = 0;
  Architecture a(std::vector<uint32_t>(s.decisions().size(), 0));
  while (true) {
    double pa = 1;
    for (size_t d = 0; d < a.size(); ++d) pa *= p[d][a[d]];
    double ms = 0;
    for (const Unit& u : units(s, a)) ms += pseudo_ms(u);
    enumerated += pa * ms;
    size_t k = 0;
    for (; k < a.size(); ++k) {
      if (++a[k] < s.decisions()[k].domain.size()) break;
      a[k] = 0;
    }
    if (k == a.size()) break;
  }
  EXPECT_NEAR(expected_value(*cost, p), enumerated, 1e-9 * enumerated);
  // One architecture: the polynomial at its one-hot point is the plain sum.
  Architecture b = s.sample(rng);
  double direct = 0;
  for (const Unit& u : units(s, b)) direct += pseudo_ms(u);
  EXPECT_NEAR(cost->at(b), direct, 1e-9 * direct);
  // The gradient, against central differences (the polynomial is exact in float64).
  std::vector<at::Tensor> t;
  for (const auto& v : p) t.push_back(torch::tensor(v, torch::kFloat64).set_requires_grad(true));
  auto g = torch::autograd::grad({(*cost)(t)}, t);
  for (size_t d = 0; d < p.size(); ++d) {
    auto q = p;
    q[d][0] += 1e-6;
    const double up = expected_value(*cost, q);
    q[d][0] -= 2e-6;
    const double down = expected_value(*cost, q);
    EXPECT_NEAR(g[d][0].item<double>(), (up - down) / 2e-6, 1e-5) << s.decisions()[d].label;
  }
}

// Exact counts add over units too: E[params] at a one-hot point is hardware::count.
TEST(ExpectedCost, ParamsAtOneHotPointsAreTheExactCounts) {
  SearchSpace s = testing::load(kTiny);
  auto cost = ExpectedCost::make(
      s, [](const Unit& u) { return static_cast<double>(hardware::unit_cost(u).params); });
  ASSERT_TRUE(cost.ok());
  Rng rng(1);
  for (int i = 0; i < 20; ++i) {
    Architecture a = s.sample(rng);
    EXPECT_EQ(cost->at(a), static_cast<double>(hardware::count(s, a).params));
  }
}

// The logits' gradient through the relaxed forward, against central differences.
TEST(Gradients, LogitGradientMatchesFiniteDifferences) {
  auto s = std::make_shared<const SearchSpace>(testing::load(kTiny));
  supernet::Supernet net(s, supernet::SupernetOptions().seed(4));
  net->eval();  // running statistics: a smooth, deterministic function of the logits
  torch::NoGradGuard outer_guard;
  torch::manual_seed(0);
  const auto x = torch::randn({4, 3, 8, 8});
  const auto y = torch::tensor(std::vector<int64_t>{0, 1, 2, 3});
  Rng rng(2);
  ArchDistribution dist(*s, Parameterization::kLogits, 0.5, rng);
  auto loss = [&]() {
    supernet::ArchWeights w;
    w.probs = dist.probs();
    return torch::nn::functional::cross_entropy(net->forward(x, w), y);
  };
  at::Tensor l;
  std::vector<at::Tensor> g;
  {
    torch::AutoGradMode on(true);
    l = loss();
    g = torch::autograd::grad({l}, dist.theta(), {}, false, false, true);
  }
  int checked = 0;
  for (size_t d = 0; d < dist.theta().size(); ++d) {
    if (!g[d].defined()) continue;
    for (int64_t v = 0; v < dist.theta()[d].numel(); ++v) {
      const double h = 1e-2;
      dist.theta()[d][v] += h;
      const double up = loss().item<double>();
      dist.theta()[d][v] -= 2 * h;
      const double down = loss().item<double>();
      dist.theta()[d][v] += h;
      const double fd = (up - down) / (2 * h);
      EXPECT_NEAR(g[d][v].item<double>(), fd, 2e-3 + 0.05 * std::abs(fd))
          << s->decisions()[d].label << " value " << v;
      ++checked;
    }
  }
  EXPECT_GE(checked, 10);
}

// DARTS's second-order gradient on L_train = |w - A a|^2 / 2, L_val = |w - b|^2 / 2 + c.a:
// w' = w - xi (w - A a) and dL_val(w'(a), a)/da = c + xi A^T (w' - b), exactly.
TEST(Gradients, SecondOrderStepEqualsTheHandComputation) {
  torch::manual_seed(3);
  auto A = torch::randn({3, 2}, torch::kFloat64);
  auto b = torch::randn({3}, torch::kFloat64);
  auto c = torch::randn({2}, torch::kFloat64);
  auto w = torch::randn({3}, torch::kFloat64).set_requires_grad(true);
  auto a = torch::randn({2}, torch::kFloat64).set_requires_grad(true);
  const double xi = 0.3;
  auto train = [&]() { return 0.5 * (w - A.matmul(a)).pow(2).sum(); };
  auto valid = [&]() { return 0.5 * (w - b).pow(2).sum() + c.dot(a); };
  const auto w_before = w.detach().clone();
  auto g = unrolled_arch_grad({w}, {a}, train, valid, xi, 0.0);
  auto w1 = w_before - xi * (w_before - A.matmul(a.detach()));
  auto expected = c + xi * A.t().matmul(w1 - b);
  EXPECT_LT((g[0] - expected).abs().max().item<double>(), 1e-6);
  EXPECT_TRUE(torch::equal(w.detach(), w_before)) << "the weights must be restored";
  // The Hessian of L_train in a is A^T A: its largest eigenvalue, by power iteration.
  Rng rng(1);
  const double lambda = dominant_eigenvalue({a}, train, 50, rng);
  const double top = std::get<0>(torch::linalg_eigh(A.t().matmul(A))).max().item<double>();
  EXPECT_NEAR(lambda, top, 1e-4 * top);
}

TEST(HardCore, SimplexProgramsAreSolvedExactly) {
  // The cheapest vertex breaks the bound: the optimum mixes it with the best feasible one until
  // the bound is tight.
  auto s = simplex_lp({-3, -1, 0}, {10, 2, 1}, 4.0);
  ASSERT_TRUE(s);
  EXPECT_NEAR((*s)[0], 0.25, 1e-12);  // 0.25 * 10 + 0.75 * 2 = 4
  EXPECT_NEAR((*s)[1], 0.75, 1e-12);
  // A feasible best vertex is the answer.
  s = simplex_lp({-3, -1, 0}, {3, 2, 1}, 4.0);
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)[0], 1.0);
  // Nothing meets the bound.
  EXPECT_FALSE(simplex_lp({0, 0}, {5, 6}, 4.0));
}

TEST(HardCore, FrankWolfeStaysUnderTheBoundAndRepairMeetsIt) {
  SearchSpace s = testing::load(kTiny);
  auto cost = ExpectedCost::make(s, pseudo_ms);
  ASSERT_TRUE(cost.ok());
  Rng rng(9);
  // The bound: halfway between the cheapest and the uniform expectation.
  Architecture cheapest = s.sample(rng);
  for (int i = 0; i < 300; ++i) {
    Architecture a = s.sample(rng);
    if (cost->at(a) < cost->at(cheapest)) cheapest = a;
  }
  auto uniform = random_probs(s, rng);
  for (auto& v : uniform)
    for (auto& x : v) x = 1.0 / static_cast<double>(v.size());
  const double bound = (cost->at(cheapest) + expected_value(*cost, uniform)) / 2;
  auto p = feasible_start(s, *cost, bound, cheapest);
  EXPECT_LE(expected_value(*cost, p), bound);
  for (int step = 0; step < 30; ++step) {
    // Gradients that pull towards the expensive values: the unconstrained optimum breaks it.
    std::vector<std::vector<double>> g;
    for (size_t d = 0; d < p.size(); ++d) {
      g.emplace_back(p[d].size());
      for (size_t v = 0; v < p[d].size(); ++v) g[d][v] = -static_cast<double>(v) - rng.uniform01();
    }
    frank_wolfe_sweep(p, g, *cost, bound, 0.3);
    ASSERT_LE(expected_value(*cost, p), bound) << "step " << step;
    for (const auto& v : p) {
      double sum = 0;
      for (double x : v) {
        EXPECT_GE(x, -1e-12);
        sum += x;
      }
      EXPECT_NEAR(sum, 1.0, 1e-9);
    }
  }
  std::vector<std::vector<bool>> alive;
  for (const auto& v : p) alive.emplace_back(v.size(), true);
  Architecture a = repair_to_bound(s, derive(s, p, alive), p, *cost, bound, cheapest);
  EXPECT_LE(cost->at(a), bound);
}

TEST(Derive, NoneIsNeverChosenWhileAnotherValueIsLive) {
  Diagnostics diags;
  auto s = load_space(testing::source_path("zoo/nb201.yaml"), diags);
  ASSERT_TRUE(s);
  std::vector<std::vector<double>> p;
  std::vector<std::vector<bool>> alive;
  for (const auto& d : s->decisions()) {
    std::vector<double> v(d.domain.size(), 0.1);
    for (size_t i = 0; i < v.size(); ++i)
      if (d.domain.names[i] == "none") v[i] = 0.9;  // none leads everywhere
    v[d.domain.size() - 1] += 0.01;
    p.push_back(v);
    alive.emplace_back(v.size(), true);
  }
  const Architecture a = derive(*s, p, alive);
  for (size_t d = 0; d < a.size(); ++d) EXPECT_NE(s->name_value(a, static_cast<int>(d)), "none");
  EXPECT_EQ(parameter_free_share(*s, p), 1.0);  // the diagnostic counts `none` in the argmax
}

TEST(Derive, ChooseCellsKeepTheStrongestInputsPerNode) {
  Diagnostics diags;
  auto s = load_space(testing::source_path("zoo/darts.yaml"), diags);
  ASSERT_TRUE(s);
  Rng rng(4);
  auto p = random_probs(*s, rng);
  std::vector<std::vector<bool>> alive;
  for (const auto& v : p) alive.emplace_back(v.size(), true);
  const Architecture a = derive(*s, p, alive);
  ASSERT_TRUE(s->validate(a).ok());
  // Recompute node 5 of the normal cell by hand: input strengths from the joint.
  const auto& ch = s->cells()[0].choices.back();
  const auto& names = s->decisions()[ch.ops[0]].domain.names;
  std::vector<double> strength(ch.node, 0);
  std::vector<std::vector<double>> coef(ch.node, std::vector<double>(names.size(), 0));
  for (size_t set = 0; set < ch.input_sets.size(); ++set)
    for (size_t slot = 0; slot < 2; ++slot)
      for (size_t o = 0; o < names.size(); ++o)
        coef[ch.input_sets[set][slot]][o] += p[ch.inputs][set] * p[ch.ops[slot]][o];
  for (int j = 0; j < ch.node; ++j) strength[j] = *std::max_element(coef[j].begin(), coef[j].end());
  std::vector<int> order(ch.node);
  for (int j = 0; j < ch.node; ++j) order[j] = j;
  std::sort(order.begin(), order.end(), [&](int x, int y) { return strength[x] > strength[y]; });
  std::vector<int> top = {std::min(order[0], order[1]), std::max(order[0], order[1])};
  EXPECT_EQ(ch.input_sets[a[ch.inputs]], top);
  for (size_t slot = 0; slot < 2; ++slot) {
    const auto& c = coef[top[slot]];
    EXPECT_EQ(a[ch.ops[slot]], std::max_element(c.begin(), c.end()) - c.begin());
  }
}

TEST(Method, KnobsAreCheckedByName) {
  EXPECT_TRUE(MethodKnobs::make(Method::kDarts, {{"order", "2"}}).ok());
  auto bad = MethodKnobs::make(Method::kDarts, {{"ordr", "2"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("did you mean 'order'"), std::string::npos);
  EXPECT_FALSE(MethodKnobs::make(Method::kDarts, {{"order", "3"}}).ok());
  EXPECT_FALSE(MethodKnobs::make(Method::kGdas, {{"tau_min", "-1"}}).ok());
  EXPECT_FALSE(MethodKnobs::make(Method::kProxyless, {{"form", "fbnett"}}).ok());
  for (const auto& info : method_infos()) EXPECT_EQ(parse_method(info.name), info.method);
}

TEST(Method, CosinePowerAnnealingRunsFromStartToEnd) {
  EXPECT_DOUBLE_EQ(cosine_power(1.0, 0.1, 0.0, 10), 1.0);
  EXPECT_NEAR(cosine_power(1.0, 0.1, 1.0, 10), 0.1, 1e-12);
  // Power p falls faster than plain cosine annealing early on, and is monotone.
  EXPECT_LT(cosine_power(1.0, 0.0, 0.25, 10), cosine_power(1.0, 0.0, 0.25, 1));
  double last = 2;
  for (int i = 0; i <= 20; ++i) {
    const double v = cosine_power(1.0, 0.1, i / 20.0, 10);
    EXPECT_LE(v, last);
    last = v;
  }
}

}  // namespace
}  // namespace nasforge::differentiable

namespace nasforge::differentiable {
namespace {

// make_cost over a real lut predictor file: its expected latency at a one-hot point is the
// predictor's own prediction; lut+residual, whose prediction does not add over units, is refused.
TEST(CostModel, LutPredictorFilesAddUpAndOthersAreRefused) {
  SearchSpace s = testing::load(kTiny);
  hardware::Profile profile;
  profile.space_name = s.name();
  profile.space_fingerprint = s.fingerprint();
  profile.device = "cpu";
  const auto all = distinct_units(s);
  ASSERT_TRUE(all.ok());
  for (const Unit& u : *all) profile.entries[u.key()].median_ms = pseudo_ms(u);
  profile.expected = profile.entries.size();
  latency::PredictorContext ctx;
  ctx.space = &s;
  ctx.profile = &profile;
  auto lut = latency::make_predictor("lut", ctx);
  ASSERT_TRUE(lut.ok()) << lut.status().message();
  const std::string path = testing::temp_path("lut.json");
  ASSERT_TRUE((*lut)->save(path).ok());
  auto cost = make_cost(s, "latency_ms@cpu", "predictor:" + path, 1.0);
  ASSERT_TRUE(cost.ok()) << cost.status().message();
  EXPECT_EQ(*cost->bound, 1.0);
  Rng rng(8);
  for (int i = 0; i < 30; ++i) {
    const Architecture a = s.sample(rng);
    EXPECT_NEAR(cost->model->at(a), (*lut)->predict(a).mean, 1e-9);
  }
  auto residual = latency::make_predictor("lut+residual", ctx);
  ASSERT_TRUE(residual.ok());
  ASSERT_TRUE((*residual)->save(path).ok());
  auto refused = make_cost(s, "latency_ms@cpu", "predictor:" + path, 1.0);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("does not add over units"), std::string::npos);
  EXPECT_FALSE(make_cost(s, "latency_ms@cpu", "measure:cpu", 1.0).ok());
  EXPECT_FALSE(make_cost(s, "accuracy", "count", std::nullopt).ok());
}

}  // namespace
}  // namespace nasforge::differentiable
