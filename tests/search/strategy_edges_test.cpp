// Every strategy at the edges of a search: a space of one architecture, a feasible region
// smaller than the budget, and a constraint no trial meets. Each must end, quickly, with a sensible
// answer: never crash or spin.
#include <gtest/gtest.h>

#include <chrono>
#include <unordered_set>

#include "nasforge/hardware/counts.h"
#include "nasforge/strategies/strategy.h"
#include "search_test_util.h"

namespace nasforge::testing {
namespace {

using evaluation::ConstraintSpec;
using evaluation::MetricSpec;
using evaluation::ObjectiveSpec;
using evaluation::SearchConfig;

// A space without decisions: one architecture.
const char* kOne = R"(nasforge: 1
name: one
input: {channels: 1, height: 8, width: 8}
classes: 2
network:
  - stem: {conv: {out: 8, kernel: 3}}
  - head: {pool: global_avg}
)";

double seconds_of(const std::function<void()>& f) {
  const auto t = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

TEST(StrategyEdges, ASpaceOfOneArchitecture) {
  auto one = std::make_shared<const SearchSpace>(load_text(kOne));
  ASSERT_EQ(one->size().str(), "1");
  for (const auto& info : strategies::strategy_infos()) {
    if (!info.proposes) continue;  // list: tested on its own
    SearchConfig c;
    c.space = one;
    c.strategy = info.name;
    c.metrics = {*MetricSpec::parse("params=count")};
    c.objectives = {*ObjectiveSpec::parse("params:min")};
    c.budget = 20;
    auto s = evaluation::Search::create(c);
    ASSERT_TRUE(s.ok()) << info.name << ": " << s.status().message();
    StatusOr<evaluation::SearchResult> r = InvalidArgument("not run");
    const double t = seconds_of([&] { r = (*s)->run(); });
    ASSERT_TRUE(r.ok()) << info.name << ": " << r.status().message();
    EXPECT_EQ(r->trials.size(), 1u) << info.name;
    ASSERT_TRUE(r->best.has_value()) << info.name;
    EXPECT_EQ(r->trials[*r->best].metrics.at("params"),
              static_cast<double>(hardware::count(*one, Architecture()).params))
        << info.name;
    EXPECT_NE(r->stopped.find("the space holds 1 architectures"), std::string::npos)
        << info.name << ": " << r->stopped;
    // A guard against spinning on duplicates, not a speed figure: each takes about 0.2 s
    // alone, and 1 s failed on a machine loaded by other jobs.
    EXPECT_LT(t, 30.0) << info.name << " took " << t << " s";
  }
}

TEST(StrategyEdges, AFeasibleRegionSmallerThanTheBudget) {
  auto space = tiny_space();
  static const std::string csv = write_tiny_table(*space, "edges");
  // The bound that leaves the few cheapest distinct architectures feasible.
  std::vector<std::pair<int64_t, uint64_t>> by_params;
  std::unordered_set<uint64_t> seen;
  const auto all = space->enumerate();
  for (const auto& a : *all)
    if (seen.insert(space->canonical_hash(a)).second)
      by_params.push_back({hardware::count(*space, a).params, space->canonical_hash(a)});
  std::sort(by_params.begin(), by_params.end());
  const int64_t bound = by_params[4].first;
  size_t feasible = 0;
  for (const auto& [p, h] : by_params) feasible += p <= bound;
  ASSERT_GE(feasible, 5u);
  ASSERT_LT(feasible, 30u);
  for (const auto& info : strategies::strategy_infos()) {
    if (!info.proposes) continue;  // list: tested on its own
    SearchConfig c;
    c.space = space;
    c.strategy = info.name;
    c.metrics = {*MetricSpec::parse("accuracy=table:" + csv + ":score")};
    c.objectives = {*ObjectiveSpec::parse("accuracy:max")};
    c.constraints = {*ConstraintSpec::parse("params<=" + std::to_string(bound))};
    c.budget = 60;
    auto s = evaluation::Search::create(c);
    ASSERT_TRUE(s.ok()) << info.name << ": " << s.status().message();
    StatusOr<evaluation::SearchResult> r = InvalidArgument("not run");
    const double t = seconds_of([&] { r = (*s)->run(); });
    ASSERT_TRUE(r.ok()) << info.name << ": " << r.status().message();
    EXPECT_GE(r->trials.size(), 1u) << info.name;
    EXPECT_LE(r->trials.size(), feasible) << info.name;
    for (const auto& trial : r->trials) EXPECT_EQ(trial.status, "ok") << info.name;
    EXPECT_TRUE(r->best.has_value()) << info.name;
    EXPECT_NE(r->stopped.find("exhausted"), std::string::npos) << info.name << ": " << r->stopped;
    // A guard against spinning on duplicates, not a speed figure: each takes about 0.2 s
    // alone, and 1 s failed on a machine loaded by other jobs.
    EXPECT_LT(t, 30.0) << info.name << " took " << t << " s";
    std::printf("%-10s %zu of %zu feasible evaluated, %llu proposals, %.3f s\n", info.name.c_str(),
                r->trials.size(), feasible, static_cast<unsigned long long>(r->proposals), t);
  }
}

// A constraint no architecture meets, on a metric that cannot be checked before a trial (a
// latency measured on this CPU): every trial after the first is infeasible too. Each strategy
// must spend its budget, report no best and end; none may crash, spin or rank an infeasible one.
TEST(StrategyEdges, AllInfeasibleAfterTheFirstTrial) {
  auto space = tiny_space();
  for (const auto& info : strategies::strategy_infos()) {
    if (!info.proposes) continue;  // list: tested on its own
    SearchConfig c;
    c.space = space;
    c.strategy = info.name;
    c.metrics = {*MetricSpec::parse("latency_ms@cpu=measure:cpu"),
                 *MetricSpec::parse("params=count")};
    c.objectives = {*ObjectiveSpec::parse("params:min")};
    c.constraints = {*ConstraintSpec::parse("latency_ms@cpu<=0.000001")};
    c.budget = 5;
    auto s = evaluation::Search::create(c);
    ASSERT_TRUE(s.ok()) << info.name << ": " << s.status().message();
    StatusOr<evaluation::SearchResult> r = InvalidArgument("not run");
    const double t = seconds_of([&] { r = (*s)->run(); });
    ASSERT_TRUE(r.ok()) << info.name << ": " << r.status().message();
    EXPECT_EQ(r->trials.size(), 5u) << info.name;
    for (const auto& trial : r->trials) EXPECT_EQ(trial.status, "infeasible") << info.name;
    EXPECT_FALSE(r->best.has_value()) << info.name;
    EXPECT_TRUE(r->pareto.empty()) << info.name;
    // Five CPU measurements of a tiny network are included; the strategy's own time is small.
    EXPECT_LT(t, 2.0) << info.name << " took " << t << " s";
    std::printf("%-10s all %zu infeasible, %llu proposals, %.3f s\n", info.name.c_str(),
                r->trials.size(), static_cast<unsigned long long>(r->proposals), t);
  }
}

}  // namespace
}  // namespace nasforge::testing
