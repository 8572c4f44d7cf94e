// Every strategy through the driver on the tiny cell space with a known table.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <unordered_set>

#include "nasforge/strategies/strategy.h"
#include "search_test_util.h"

namespace nasforge::testing {
namespace {

using evaluation::MetricSpec;
using evaluation::ObjectiveSpec;
using evaluation::SearchConfig;

SearchConfig tiny_config(const std::string& strategy, uint64_t seed, uint64_t budget) {
  static auto space = tiny_space();
  static const std::string csv = write_tiny_table(*space, "strategies");
  SearchConfig c;
  c.space = space;
  c.strategy = strategy;
  c.metrics = {*MetricSpec::parse("accuracy=table:" + csv + ":score")};
  c.objectives = {*ObjectiveSpec::parse("accuracy:max")};
  c.budget = budget;
  c.seed = seed;
  return c;
}

size_t distinct_architectures() {
  auto s = tiny_space();
  std::unordered_set<uint64_t> h;
  const auto all = s->enumerate();
  for (const auto& a : *all) h.insert(s->canonical_hash(a));
  return h.size();
}

// Queries until the optimum (score 9) is evaluated; the budget if never.
double queries_to_optimum(const std::string& strategy, uint64_t seed, uint64_t budget) {
  auto search = evaluation::Search::create(tiny_config(strategy, seed, budget));
  EXPECT_TRUE(search.ok()) << search.status().message();
  auto r = (*search)->run();
  EXPECT_TRUE(r.ok()) << r.status().message();
  for (size_t i = 0; i < r->trials.size(); ++i)
    if (r->trials[i].metrics.at("accuracy") == 9) return static_cast<double>(i + 1);
  return static_cast<double>(budget);
}

TEST(Strategies, ListedWithPaperAndKnobs) {
  std::set<std::string> names;
  for (const auto& i : strategies::strategy_infos()) {
    if (!i.proposes) continue;  // list: tested on its own
    names.insert(i.name);
    EXPECT_FALSE(i.paper.empty()) << i.name;
    EXPECT_FALSE(i.summary.empty()) << i.name;
  }
  EXPECT_EQ(names, (std::set<std::string>{"random", "rea", "nsga2", "pnas", "epnas", "bowl",
                                          "reinforce", "linas"}));
}

// `list` evaluates its file in order (comments and blank lines skipped) and refuses a bad line
// by its number, or a missing file knob.
TEST(Strategies, ListEvaluatesItsFileInOrder) {
  SearchConfig c = tiny_config("list", 0, 3);
  const auto enumerated = c.space->enumerate();
  ASSERT_TRUE(enumerated.ok());
  std::vector<Architecture> all;  // canonically distinct, so none is a free repeat
  std::set<uint64_t> seen;
  for (const auto& a : *enumerated)
    if (seen.insert(c.space->canonical_hash(a)).second) all.push_back(a);
  ASSERT_GE(all.size(), 3u);
  const std::vector<std::string> want = {c.space->to_string(all[2]), c.space->to_string(all[0]),
                                         c.space->to_string(all[1])};
  const std::string file = temp_path("list.txt");
  {
    std::ofstream out(file);
    out << "# given\n" << want[0] << "\n\n" << want[1] << "\n" << want[2] << "\n";
  }
  c.options = {{"file", file}};
  auto s = evaluation::Search::create(c);
  ASSERT_TRUE(s.ok()) << s.status().message();
  auto r = (*s)->run();
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->trials.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(r->trials[i].arch, want[i]);
  {
    std::ofstream out(file);
    out << want[0] << "\nnot an architecture\n";
  }
  auto bad = evaluation::Search::create(c);
  ASSERT_TRUE(bad.ok());
  auto rb = (*bad)->run();
  ASSERT_FALSE(rb.ok());
  EXPECT_NE(rb.status().message().find(file + ":2: "), std::string::npos) << rb.status().message();
  c.options.clear();
  auto none = evaluation::Search::create(c);
  ASSERT_TRUE(none.ok());
  auto rn = (*none)->run();
  ASSERT_FALSE(rn.ok());
  EXPECT_NE(rn.status().message().find("needs --option file=FILE"), std::string::npos);
}

TEST(Strategies, EachFindsTheOptimumFasterThanRandom) {
  const uint64_t budget = distinct_architectures();
  constexpr int kSeeds = 8;
  auto mean_queries = [&](const std::string& s) {
    double sum = 0;
    for (int seed = 0; seed < kSeeds; ++seed) sum += queries_to_optimum(s, seed, budget);
    return sum / kSeeds;
  };
  const double random = mean_queries("random");
  // Random search needs about half the distinct architectures on average.
  EXPECT_GT(random, budget / 4.0);
  for (const char* s : {"rea", "nsga2", "pnas", "epnas", "bowl", "reinforce", "linas"}) {
    const double q = mean_queries(s);
    EXPECT_LT(q, random) << s << " needed " << q << " queries on average, random " << random;
    std::printf("%-10s %.1f queries to the optimum (random %.1f, %llu distinct)\n", s, q, random,
                static_cast<unsigned long long>(budget));
  }
}

TEST(Strategies, SameSeedSameRun) {
  for (const auto& info : strategies::strategy_infos()) {
    if (!info.proposes) continue;  // list: tested on its own
    auto run = [&](uint64_t seed) {
      auto s = evaluation::Search::create(tiny_config(info.name, seed, 30));
      auto r = (*s)->run();
      std::vector<std::string> archs;
      for (const auto& t : r->trials) archs.push_back(t.arch);
      return archs;
    };
    EXPECT_EQ(run(4), run(4)) << info.name;
    EXPECT_NE(run(4), run(5)) << info.name << " ignores its seed";
  }
}

TEST(Strategies, RefusesBadNamesKnobsAndObjectives) {
  auto space = tiny_space();
  strategies::Problem p;
  p.space = space.get();
  auto bad = strategies::make_strategy("reaa", p);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("did you mean 'rea'"), std::string::npos);
  p.options = {{"populaton", "10"}};
  bad = strategies::make_strategy("rea", p);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("no knob 'populaton'; its knobs are population, sample"),
            std::string::npos)
      << bad.status().message();
  p.options = {{"population", "ten"}};
  bad = strategies::make_strategy("rea", p);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("knob population: expected an integer"), std::string::npos);
  p.options = {};
  p.objectives = 2;
  bad = strategies::make_strategy("bowl", p);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("optimises one objective"), std::string::npos);
  EXPECT_TRUE(strategies::make_strategy("nsga2", p).ok());
}

// A feasibility check that admits only architectures without conv3x3: every strategy proposes
// within it, and repair ends at the witness rather than looping.
struct NoConv3 : strategies::Feasibility {
  const SearchSpace* s;
  bool feasible(const Architecture& a) const override {
    for (const auto& e : s->live_edges(a, 0))
      if (e.op == "nor_conv_3x3") return false;
    return true;
  }
};

struct OnlyWitness : strategies::Feasibility {
  Architecture w;
  bool feasible(const Architecture& a) const override { return a == w; }
};

TEST(Strategies, ProposeOnlyFeasibleArchitectures) {
  auto space = tiny_space();
  NoConv3 check;
  check.s = space.get();
  strategies::Problem p;
  p.space = space.get();
  p.feasibility = &check;
  p.witness = *space->parse("|none~0|+|none~0|none~1|");
  for (const auto& info : strategies::strategy_infos()) {
    if (!info.proposes) continue;  // list: tested on its own
    p.seed = 1;
    auto s = strategies::make_strategy(info.name, p);
    ASSERT_TRUE(s.ok()) << s.status().message();
    for (int round = 0; round < 12; ++round) {
      auto archs = (*s)->ask(3);
      ASSERT_EQ(archs.size(), 3u);
      std::vector<strategies::Trial> told;
      for (const auto& a : archs) {
        EXPECT_TRUE(check.feasible(a)) << info.name << ": " << space->to_string(a);
        told.push_back({a, {tiny_score(*space, a)}, true, 0});
      }
      (*s)->tell(told);
    }
  }
  // Nothing but the witness passes: proposing still terminates, with the witness.
  OnlyWitness only;
  only.w = *p.witness;
  p.feasibility = &only;
  for (const auto& info : strategies::strategy_infos()) {
    if (!info.proposes) continue;  // list: tested on its own
    auto s = strategies::make_strategy(info.name, p);
    ASSERT_TRUE(s.ok());
    for (int round = 0; round < 3; ++round) {
      auto archs = (*s)->ask(2);
      for (const auto& a : archs) EXPECT_EQ(a, only.w) << info.name;
      std::vector<strategies::Trial> told;
      for (const auto& a : archs) told.push_back({a, {0.0}, true, 0});
      (*s)->tell(told);
    }
  }
}

}  // namespace
}  // namespace nasforge::testing
