// Strategies driven as parallel workers drive them: several trials pending at once, told back out
// of order. The model-based ones fit pending trials with a constant lie (the worst value seen).
#include <gtest/gtest.h>

#include <deque>
#include <unordered_set>

#include "../../strategies/src/internal/pending.h"
#include "nasforge/strategies/strategy.h"
#include "search_test_util.h"

namespace nasforge::testing {
namespace {

// Every proposing strategy keeps 4 trials in flight and hears back the second-oldest first;
// it must go on proposing feasible, mostly new architectures, and find good ones.
TEST(AsyncStrategies, PendingTrialsAndToldOutOfOrder) {
  auto space = tiny_space();
  std::unordered_set<uint64_t> all;
  const auto enumerated = space->enumerate();
  for (const auto& a : *enumerated) all.insert(space->canonical_hash(a));
  for (const auto& info : strategies::strategy_infos()) {
    if (!info.proposes) continue;
    strategies::Problem p;
    p.space = space.get();
    p.seed = 3;
    auto s = strategies::make_strategy(info.name, p);
    ASSERT_TRUE(s.ok()) << info.name << ": " << s.status().message();
    std::deque<Architecture> flight;
    for (const auto& a : (*s)->ask(4)) flight.push_back(a);
    std::unordered_set<uint64_t> seen;
    double best = -1;
    for (int told = 0; told < 40; ++told) {
      ASSERT_FALSE(flight.empty()) << info.name;
      const size_t k = flight.size() > 1 ? 1 : 0;  // out of order
      const Architecture a = flight[k];
      flight.erase(flight.begin() + static_cast<std::ptrdiff_t>(k));
      strategies::Trial t;
      t.arch = a;
      t.score = {tiny_score(*space, a)};
      (*s)->tell({t});
      best = std::max(best, t.score[0]);
      seen.insert(space->canonical_hash(a));
      const auto more = (*s)->ask(1);
      ASSERT_EQ(more.size(), 1u) << info.name;
      EXPECT_TRUE(space->validate(more[0]).ok()) << info.name;
      flight.push_back(more[0]);
    }
    // At least half of the 40 trials new (rea repeats by design: the driver makes repeats free).
    EXPECT_GE(seen.size(), std::min<size_t>(all.size(), 20)) << info.name;
    EXPECT_GE(best, 8) << info.name << " never found a score of 8 or 9 in 40 trials";
  }
}

TEST(PendingTrials, LiesWithTheWorstValueUntilTold) {
  auto space = tiny_space();
  Rng rng(5);
  std::vector<Architecture> x{space->sample(rng), space->sample(rng)};
  const std::vector<double> y{0.3, 0.7};
  strategies::PendingTrials pending(*space);
  EXPECT_EQ(pending.key(), 0u);
  const auto none = pending.with_lies(x, y);
  EXPECT_EQ(none.first.size(), 2u);  // nothing pending: unchanged
  const Architecture a = space->sample(rng), b = space->sample(rng);
  pending.asked({a, b});
  EXPECT_EQ(pending.size(), 2u);
  EXPECT_NE(pending.key(), 0u);
  const auto lied = pending.with_lies(x, y);
  ASSERT_EQ(lied.first.size(), 4u);
  EXPECT_EQ(lied.second, (std::vector<double>{0.3, 0.7, 0.3, 0.3}));
  EXPECT_EQ(space->canonical_hash(lied.first[2]), space->canonical_hash(a));
  const uint64_t both = pending.key();
  strategies::Trial t;
  t.arch = b;  // told out of order
  pending.told({t});
  EXPECT_EQ(pending.size(), 1u);
  EXPECT_NE(pending.key(), both);
  EXPECT_EQ(space->canonical_hash(pending.with_lies(x, y).first[2]), space->canonical_hash(a));
  // Nothing observed yet: no value to lie with.
  EXPECT_EQ(pending.with_lies({}, {}).first.size(), 0u);
}

}  // namespace
}  // namespace nasforge::testing
