// Differentiable searches end to end on synthetic data: every method on the zoo, HardCoRe's
// bound at every step, determinism, resume to the same result, GOLD's series, diagnostics.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "../searchspace/test_util.h"
#include "nasforge/differentiable/hardcore.h"
#include "nasforge/differentiable/search.h"
#include "nasforge/hardware/counts.h"

namespace nasforge::differentiable {
namespace {

namespace fs = std::filesystem;

// tests/data/diff_tiny.yaml: a layer choice, a stage of elastic depth with width, kernel and
// expand decisions, a head.
const char* kTiny = "tests/data/diff_tiny.yaml";

data::Splits synthetic(const SearchSpace& s, int64_t train) {
  data::SyntheticOptions o;
  o.channels = s.input().channels;
  o.height = s.input().height;
  o.width = s.input().width;
  o.classes = s.classes();
  o.train = train;
  o.valid = train / 2;
  o.test = 8;
  return data::make_synthetic(o);
}

std::shared_ptr<const ExpectedCost> params_cost(const SearchSpace& s) {
  auto c = ExpectedCost::make(
      s, [](const Unit& u) { return static_cast<double>(hardware::unit_cost(u).params); });
  EXPECT_TRUE(c.ok()) << c.status().message();
  return std::make_shared<const ExpectedCost>(std::move(*c));
}

SearchOptions options(Method m, const SearchSpace& s, std::map<std::string, std::string> knobs,
                      int64_t batch = 16) {
  SearchOptions o;
  o.method = m;
  knobs.emplace("hessian_iters", "2");
  o.knobs = *MethodKnobs::make(m, knobs);
  o.train.batch_size = batch;
  o.train.epochs = 2;
  o.train.bn_recalibration_batches = 1;
  o.train.seed = 3;
  o.cost = CostSpec{"params", params_cost(s), std::nullopt};
  return o;
}

// A bound between the cheapest of a few samples and the space's uniform expectation, with that
// cheapest architecture as the feasible witness.
void bound_at_half(const SearchSpace& s, SearchOptions& o) {
  Rng rng(11);
  Architecture best = s.sample(rng);
  for (int i = 0; i < 200; ++i) {
    Architecture a = s.sample(rng);
    if (o.cost->model->at(a) < o.cost->model->at(best)) best = a;
  }
  std::vector<std::vector<double>> uniform;
  for (const auto& d : s.decisions())
    uniform.emplace_back(d.domain.size(), 1.0 / static_cast<double>(d.domain.size()));
  o.cost->bound = (o.cost->model->at(best) + expected_value(*o.cost->model, uniform)) / 2;
  o.feasible = best;
}

std::string run_dir(const std::string& name) {
  const std::string d = testing::private_temp_dir() + "/" + name;
  fs::create_directories(d);
  return d;
}

class ZooMethods : public ::testing::TestWithParam<size_t> {};

// Each zoo space runs two methods (six methods over ten spaces: each method on several), one
// architecture step and one weight step each, and derives a valid architecture.
TEST_P(ZooMethods, RunAStepAndDeriveAValidArchitecture) {
  const size_t i = GetParam();
  auto space = std::make_shared<const SearchSpace>(testing::load(testing::kZoo[i]));
  const auto data = synthetic(*space, 8);
  for (size_t k : {i % 6, (i + 3) % 6}) {
    const Method m = method_infos()[k].method;
    SearchOptions o = options(m, *space, {{"hessian_iters", "0"}}, 4);
    o.max_steps = 1;
    if (m == Method::kHardCore) bound_at_half(*space, o);
    auto s = DifferentiableSearch::create(space, data, o);
    ASSERT_TRUE(s.ok()) << s.status().message();
    const std::string dir = run_dir("zoo" + std::to_string(i) + "_" + std::to_string(k));
    Status st = (*s)->run(dir);
    ASSERT_TRUE(st.ok()) << method_infos()[k].name << ": " << st.message();
    for (const Architecture& a : (*s)->derived()) {
      EXPECT_TRUE(space->validate(a).ok()) << method_infos()[k].name;
      if (m == Method::kHardCore) {
        EXPECT_LE(o.cost->model->at(a), *o.cost->bound);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Zoo, ZooMethods,
                         ::testing::Range<size_t>(0, sizeof(testing::kZoo) / sizeof(char*)));

TEST(DifferentiableSearch, HardCoreNeverExceedsItsBound) {
  auto space = std::make_shared<const SearchSpace>(testing::load(kTiny));
  const auto data = synthetic(*space, 64);
  SearchOptions o = options(Method::kHardCore, *space, {{"fw_step", "0.5"}});
  bound_at_half(*space, o);
  // The unconstrained optimum of a larger-is-better network breaks the bound.
  Architecture largest(std::vector<uint32_t>(space->decisions().size(), 0));
  for (size_t d = 0; d < largest.size(); ++d)
    largest[d] = static_cast<uint32_t>(space->decisions()[d].domain.size() - 1);
  space->normalize(largest);
  ASSERT_GT(o.cost->model->at(largest), *o.cost->bound);
  auto s = DifferentiableSearch::create(space, data, o);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_TRUE((*s)->run(run_dir("hardcore")).ok());
  ASSERT_EQ((*s)->history().size(), 2u);
  for (const auto& r : (*s)->history()) {
    EXPECT_EQ(r.violations, 0);
    EXPECT_LE(r.max_cost_ratio, 1.0);
    EXPECT_GT(r.max_cost_ratio, 0.0);
  }
  const auto derived = (*s)->derived();
  ASSERT_EQ(derived.size(), 1u);
  EXPECT_LE(o.cost->model->at(derived[0]), *o.cost->bound);
}

TEST(DifferentiableSearch, TheSameSeedDerivesTheSameArchitecture) {
  auto space = std::make_shared<const SearchSpace>(testing::load(kTiny));
  const auto data = synthetic(*space, 32);
  std::vector<std::string> digests;
  std::vector<Architecture> derived;
  for (int run = 0; run < 2; ++run) {
    auto s = DifferentiableSearch::create(space, data, options(Method::kGdas, *space, {}));
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->run(run_dir("seed" + std::to_string(run))).ok());
    digests.push_back((*s)->state_digest());
    derived.push_back((*s)->derived().back());
  }
  EXPECT_EQ(digests[0], digests[1]);
  EXPECT_EQ(derived[0], derived[1]);
  SearchOptions other = options(Method::kGdas, *space, {});
  other.train.seed = 4;
  auto s = DifferentiableSearch::create(space, data, other);
  ASSERT_TRUE((*s)->run(run_dir("seed_other")).ok());
  EXPECT_NE((*s)->state_digest(), digests[0]);
}

// A run stopped mid-epoch and resumed from its checkpoint ends where a straight run ends:
// second-order DARTS (its own loaders) and GOLD (pruning, its penalty weight, its series).
TEST(DifferentiableSearch, ResumeMidEpochEndsLikeAStraightRun) {
  auto space = std::make_shared<const SearchSpace>(testing::load(kTiny));
  const auto data = synthetic(*space, 64);
  for (const auto& [m, knobs] : std::vector<std::pair<Method, std::map<std::string, std::string>>>{
           {Method::kDarts, {{"order", "2"}, {"checkpoint_every", "1"}}},
           {Method::kGold,
            {{"checkpoint_every", "1"}, {"prune_every", "2"}, {"mu", "1"}, {"arch_lr", "0.05"}}}}) {
    const std::string tag = info_of(m).name;
    auto straight = DifferentiableSearch::create(space, data, options(m, *space, knobs));
    ASSERT_TRUE((*straight)->run(run_dir(tag + "_straight")).ok());
    const std::string dir = run_dir(tag + "_resumed");
    SearchOptions first = options(m, *space, knobs);
    first.max_steps = 5;  // mid-epoch of the second epoch (4 steps per epoch)
    auto a = DifferentiableSearch::create(space, data, first);
    ASSERT_TRUE((*a)->run(dir).ok());
    auto b = DifferentiableSearch::create(space, data, options(m, *space, knobs));
    ASSERT_TRUE((*b)->run(dir).ok());
    EXPECT_EQ((*b)->state_digest(), (*straight)->state_digest()) << tag;
    EXPECT_EQ((*b)->derived(), (*straight)->derived()) << tag;
    ASSERT_EQ((*b)->history().size(), (*straight)->history().size());
    EXPECT_EQ((*b)->history().back().csv_row(), (*straight)->history().back().csv_row());
    // Another configuration on the same folder is refused, naming the difference.
    auto c = DifferentiableSearch::create(space, data, options(m, *space, {{"arch_lr", "0.5"}}));
    Status st = (*c)->run(dir);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("another configuration"), std::string::npos) << st.message();
  }
}

TEST(DifferentiableSearch, GoldRecordsASeriesAndTheDiagnosticsFile) {
  auto space = std::make_shared<const SearchSpace>(testing::load(kTiny));
  const auto data = synthetic(*space, 64);
  auto s = DifferentiableSearch::create(
      space, data,
      options(Method::kGold, *space,
              {{"prune_every", "1"}, {"mu", "0.05"}, {"pace", "3"}, {"arch_lr", "0.1"}}));
  ASSERT_TRUE(s.ok());
  const std::string dir = run_dir("gold");
  ASSERT_TRUE((*s)->run(dir).ok());
  const auto series = (*s)->derived();
  EXPECT_GE(series.size(), 2u);
  for (size_t i = 1; i < series.size(); ++i) EXPECT_FALSE(series[i] == series[i - 1]);
  const auto& h = (*s)->history();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_LT(h.back().alive, h.front().alive + 1);
  for (const auto& r : h) {
    EXPECT_GE(r.entropy, 0.0);
    EXPECT_LE(r.entropy, 1.0);
    EXPECT_TRUE(std::isfinite(r.hessian));
    EXPECT_TRUE(std::isfinite(r.expected_cost));
  }
  std::ifstream csv(dir + "/diagnostics.csv");
  std::string header, row;
  std::getline(csv, header);
  EXPECT_EQ(header, EpochReport::csv_header());
  int rows = 0;
  while (std::getline(csv, row)) ++rows;
  EXPECT_EQ(rows, 2);
}

TEST(DifferentiableSearch, MethodsThatNeedACostSayWhichOne) {
  auto space = std::make_shared<const SearchSpace>(testing::load(kTiny));
  const auto data = synthetic(*space, 16);
  for (Method m : {Method::kHardCore, Method::kProxyless, Method::kGold}) {
    SearchOptions o = options(m, *space, {});
    o.cost.reset();
    auto s = DifferentiableSearch::create(space, data, o);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().message().find("differentiable cost"), std::string::npos);
  }
  SearchOptions o = options(Method::kHardCore, *space, {});
  auto s = DifferentiableSearch::create(space, data, o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("bound"), std::string::npos);
}

}  // namespace
}  // namespace nasforge::differentiable
