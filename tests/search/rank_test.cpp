// rank_signals: the statistics of known signals against a table, the reference kept in a store
// and read back, and the errors.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "../searchspace/test_util.h"
#include "nasforge/evaluation/rank.h"
#include "nasforge/evaluation/trial_store.h"
#include "nasforge/predictors/quality.h"

namespace nasforge::evaluation {
namespace {

// A table over 40 sampled nb201 cells: `acc` rises with the row, `inv` falls, `noisy` is acc
// with every fourth pair of rows swapped.
std::string write_table(const SearchSpace& s, const std::string& name) {
  const std::string path = testing::temp_path(name);
  std::ofstream f(path);
  f << "arch,acc,inv,noisy\n";
  Rng rng(3);
  std::set<uint64_t> seen;
  for (int i = 0; i < 40;) {
    Architecture a = s.sample(rng);
    if (!seen.insert(s.canonical_hash(a)).second) continue;
    const double noisy = i % 8 == 0 ? i + 1 : i % 8 == 1 ? i - 1 : i;
    f << s.to_string(a) << "," << i << "," << -i << "," << noisy << "\n";
    ++i;
  }
  return path;
}

TEST(Rank, KnownSignalsAgainstATableAndTheStoreReadsBack) {
  auto space = std::make_shared<const SearchSpace>(testing::load("zoo/nb201.yaml"));
  const std::string table = write_table(*space, "rank_table.csv");
  RankConfig c;
  c.space = space;
  c.archs_from = table;
  c.archs = 0;
  c.resamples = 200;
  c.store = testing::temp_path("rank_ref.sqlite");
  c.reference = *parse_signal("table:" + table + ":acc");
  for (const std::string col : {"acc", "inv", "noisy"})
    c.signals.push_back(*parse_signal(col + "=table:" + table + ":" + col));
  auto r = rank_signals(c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->archs.size(), 40u);
  EXPECT_EQ(r->reference_cached, 0);
  ASSERT_EQ(r->signals.size(), 3u);
  EXPECT_DOUBLE_EQ(r->signals[0].kendall, 1);
  EXPECT_DOUBLE_EQ(r->signals[0].kendall_low, 1);
  EXPECT_DOUBLE_EQ(r->signals[0].top, 1);
  EXPECT_DOUBLE_EQ(r->signals[1].kendall, -1);
  EXPECT_DOUBLE_EQ(r->signals[1].spearman, -1);
  EXPECT_DOUBLE_EQ(r->signals[1].top, 0);
  const auto& noisy = r->signals[2];
  EXPECT_DOUBLE_EQ(noisy.kendall, predictors::kendall(noisy.values, r->reference));
  EXPECT_LT(noisy.kendall, 1);
  EXPECT_LE(noisy.kendall_low, noisy.kendall);
  EXPECT_GE(noisy.kendall_high, noisy.kendall);
  EXPECT_EQ(noisy.signal, "noisy=table:" + table + ":noisy");

  // Again: the reference comes back from the store, and the figures are the same.
  auto again = rank_signals(c);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->reference_cached, 40);
  EXPECT_EQ(again->reference, r->reference);
  EXPECT_EQ(again->signals[2].kendall_low, noisy.kendall_low);

  // The store belongs to that reference.
  c.reference = *parse_signal("table:" + table + ":noisy");
  auto other = rank_signals(c);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("reference"), std::string::npos)
      << other.status().message();
}

TEST(Rank, SampledArchitecturesAreDistinctAndErrorsNameTheSignal) {
  auto space = std::make_shared<const SearchSpace>(testing::load("zoo/nb201.yaml"));
  const std::string table = testing::source_path("data/nasbench201/nb201_cifar10.csv.gz");
  RankConfig c;
  c.space = space;
  c.archs = 12;
  c.resamples = 50;
  c.reference = *parse_signal("table:" + table + ":valid_acc");
  c.signals = {*parse_signal("count"), *parse_signal("proxy:synflow")};
  auto r = rank_signals(c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::set<uint64_t> seen;
  for (const auto& a : r->archs) seen.insert(space->canonical_hash(a));
  EXPECT_EQ(seen.size(), 12u);
  EXPECT_EQ(r->signals[0].signal, "params=count");
  EXPECT_EQ(r->signals[1].signal, "synflow=proxy:synflow");

  c.signals = {*parse_signal("proxy:snip")};  // reads images, and no --data
  auto no_data = rank_signals(c);
  ASSERT_FALSE(no_data.ok());
  EXPECT_NE(no_data.status().message().find("proxy:snip"), std::string::npos);
  c.archs = 2;
  EXPECT_FALSE(rank_signals(c).ok());
}

// The binomial error of one accuracy against the spread of the reference over architectures.
TEST(Rank, ReferenceNoiseBoundsTheShareOfTheSpreadThatIsTheArchitectures) {
  // Mean 91 %: 100 sqrt(0.91 * 0.09 / 10000) = 0.2862 points; SD 1 point.
  auto wide = reference_noise({90, 91, 92}, 10000);
  EXPECT_EQ(wide.sample_size, 10000);
  EXPECT_NEAR(wide.standard_error, 0.28618, 1e-4);
  EXPECT_NEAR(wide.spread, 1.0, 1e-12);
  EXPECT_NEAR(wide.reliability, 1 - 0.28618 * 0.28618, 1e-4);
  // Spread below the error: nothing left for the architectures (figure 2 of issue 16).
  auto narrow = reference_noise({90.5, 90.7, 90.6, 90.4}, 10000);
  EXPECT_LT(narrow.spread, narrow.standard_error);
  EXPECT_EQ(narrow.reliability, 0);
  // More images shrink the error by sqrt(n).
  EXPECT_NEAR(reference_noise({90, 91, 92}, 40000).standard_error, wide.standard_error / 2, 1e-9);
  EXPECT_EQ(reference_noise({91, 91, 91}, 10000).reliability, 0);  // no spread at all
}

// Five nb201 cells ranked by `count` against `reference`.
RankConfig five_cells(const std::string& reference) {
  RankConfig c;
  c.space = std::make_shared<const SearchSpace>(testing::load("zoo/nb201.yaml"));
  c.archs = 5;
  c.resamples = 10;
  c.reference = *parse_signal(reference);
  c.signals = {*parse_signal("count")};
  return c;
}

TEST(Rank, ATableReferenceHasNoSampleNoise) {
  RankConfig c = five_cells(
      "table:" + testing::source_path("data/nasbench201/nb201_cifar10.csv.gz") + ":valid_acc");
  auto r = rank_signals(c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->noise.has_value());
}

// A train: reference read back from its store whose data is gone since: the ranking stands, and
// the noise is reported unknown with the reason instead of vanishing.
TEST(Rank, ANoiseThatCannotBeToldSaysWhy) {
  RankConfig c = five_cells("count");
  const auto& space = c.space;
  auto sampled = rank_signals(c);  // the same seed and count sample the same architectures
  ASSERT_TRUE(sampled.ok()) << sampled.status().message();

  c.reference = *parse_signal("train:1");
  c.data = "cifar10:" + testing::temp_path("no_such_cifar");
  c.store = testing::temp_path("rank_gone.sqlite");
  {
    auto store = TrialStore::open(c.store, {{"command", "rank"},
                                            {"space", space->fingerprint()},
                                            {"reference", c.reference.source},
                                            {"data", c.data},
                                            {"seed", "0"}});
    ASSERT_TRUE(store.ok()) << store.status().message();
    for (size_t i = 0; i < sampled->archs.size(); ++i) {
      TrialRecord t;
      t.arch = space->to_string(sampled->archs[i]);
      t.hash = space->canonical_hash_hex(sampled->archs[i]);
      t.metrics["reference"] = 90.0 + static_cast<double>(i) / 10;
      ASSERT_TRUE((*store)->insert(t).ok());
    }
  }
  auto r = rank_signals(c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->reference_cached, 5);
  EXPECT_FALSE(r->noise.has_value());
  EXPECT_NE(r->noise_unknown.find("no_such_cifar"), std::string::npos) << r->noise_unknown;
}

}  // namespace
}  // namespace nasforge::evaluation
