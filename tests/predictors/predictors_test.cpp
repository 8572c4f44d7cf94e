// Predictors: quality metrics against brute force, lut sums, lut+residual recovering a known
// overhead, table learning from 10 rows with transfer, and the JSON round trip.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "../searchspace/test_util.h"
#include "nasforge/hardware/counts.h"
#include "nasforge/latency/predictors.h"
#include "nasforge/predictors/quality.h"
#include "nasforge/searchspace/rng.h"

namespace nasforge::predictors {
namespace {

using latency::load_predictor;
using latency::make_predictor;
using latency::PredictorContext;
using latency::TransferMode;

double kendall_brute(const std::vector<double>& a, const std::vector<double>& b) {
  double conc = 0, ta = 0, tb = 0, n0 = 0;
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = i + 1; j < a.size(); ++j) {
      const double s = (a[i] - a[j]) * (b[i] - b[j]);
      conc += s > 0 ? 1 : s < 0 ? -1 : 0;
      ta += a[i] == a[j];
      tb += b[i] == b[j];
      ++n0;
    }
  const double d = std::sqrt((n0 - ta) * (n0 - tb));
  return d > 0 ? conc / d : 0;
}

TEST(Quality, RankCorrelationsWithinAndRmse) {
  Rng rng(2);
  std::vector<double> a, b;
  for (int i = 0; i < 300; ++i) {
    a.push_back(static_cast<double>(rng.uniform(20)));  // many ties
    b.push_back(a.back() + static_cast<double>(rng.uniform(7)));
  }
  EXPECT_NEAR(kendall(a, b), kendall_brute(a, b), 1e-12);
  EXPECT_DOUBLE_EQ(spearman({1, 2, 3, 4}, {10, 20, 30, 40}), 1);
  EXPECT_DOUBLE_EQ(spearman({1, 2, 3, 4}, {4, 3, 2, 1}), -1);
  EXPECT_DOUBLE_EQ(within({1.05, 1.2, 0.95}, {1, 1, 1}, 0.1), 2.0 / 3);
  EXPECT_DOUBLE_EQ(rmse({1, 3}, {1, 1}), std::sqrt(2.0));
}

// Spearman by brute force: each value's rank is 1 + (values below) + (ties - 1) / 2, then
// Pearson's correlation of the ranks.
double spearman_brute(const std::vector<double>& a, const std::vector<double>& b) {
  auto rank = [](const std::vector<double>& v) {
    std::vector<double> r;
    for (double x : v) {
      double below = 0, same = 0;
      for (double y : v) {
        below += y < x;
        same += y == x;
      }
      r.push_back(1 + below + (same - 1) / 2);
    }
    return r;
  };
  const auto ra = rank(a), rb = rank(b);
  const double n = static_cast<double>(a.size());
  double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) ma += ra[i] / n, mb += rb[i] / n;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) * (ra[i] - ma);
    sbb += (rb[i] - mb) * (rb[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

// Top-k by brute force: item i is in the top k when fewer than k items beat it (a larger value,
// or an equal one earlier).
double top_brute(const std::vector<double>& s, const std::vector<double>& r, size_t k) {
  auto in_top = [k](const std::vector<double>& v, size_t i) {
    size_t beat = 0;
    for (size_t j = 0; j < v.size(); ++j) beat += v[j] > v[i] || (v[j] == v[i] && j < i);
    return beat < k;
  };
  double both = 0;
  for (size_t i = 0; i < s.size(); ++i) both += in_top(s, i) && in_top(r, i);
  return both / static_cast<double>(k);
}

TEST(Quality, SpearmanTopPrecisionAndBootstrapAgainstBruteForce) {
  Rng rng(9);
  for (size_t n : {5, 10, 37, 200}) {
    std::vector<double> a, b;
    for (size_t i = 0; i < n; ++i) {
      a.push_back(static_cast<double>(rng.uniform(12)));
      b.push_back(a.back() * 0.5 + static_cast<double>(rng.uniform(9)));
    }
    EXPECT_NEAR(spearman(a, b), spearman_brute(a, b), 1e-12);
    for (double f : {0.1, 0.25, 0.5}) {
      const size_t k = std::max<size_t>(1, static_cast<size_t>(std::lround(f * n)));
      EXPECT_DOUBLE_EQ(top_precision(a, b, f), top_brute(a, b, k)) << n << " " << f;
    }
    // The interval: the 2.5% and 97.5% points of the statistic over resamples drawn as below.
    const auto iv = bootstrap(kendall, a, b, 200, 4);
    Rng draw(4);
    std::vector<double> taus;
    for (int s = 0; s < 200; ++s) {
      std::vector<double> ra, rb;
      for (size_t i = 0; i < n; ++i) {
        const size_t k = draw.uniform(n);
        ra.push_back(a[k]);
        rb.push_back(b[k]);
      }
      taus.push_back(kendall_brute(ra, rb));
    }
    std::sort(taus.begin(), taus.end());
    EXPECT_DOUBLE_EQ(iv.value, kendall(a, b));
    EXPECT_NEAR(iv.low, taus[5], 1e-12);
    EXPECT_NEAR(iv.high, taus[195], 1e-12);
    EXPECT_LE(iv.low, iv.high);
  }
  EXPECT_DOUBLE_EQ(top_precision({1, 2, 3, 4}, {4, 3, 2, 1}, 0.5), 0);
  EXPECT_DOUBLE_EQ(top_precision({1, 2, 3, 4}, {1, 2, 3, 4}, 0.5), 1);
}

// A profile whose unit latencies are a known function of their MACs.
hardware::Profile fake_profile(const SearchSpace& space) {
  hardware::Profile p;
  p.space_name = space.name();
  p.space_fingerprint = space.fingerprint();
  p.device = "cpu";
  const auto all = *distinct_units(space);
  for (const Unit& u : all) {
    hardware::Measurement m;
    m.median_ms = 0.02 + 1e-6 * static_cast<double>(hardware::unit_cost(u).macs);
    p.entries[u.key()] = m;
  }
  p.expected = p.entries.size();
  return p;
}

// The plain sum of the profile's entries for an architecture's units.
double unit_sum(const SearchSpace& space, const hardware::Profile& profile, const Architecture& a) {
  double sum = 0;
  for (const Unit& u : units(space, a)) sum += *profile.lookup(u.key());
  return sum;
}

std::string temp_file(const std::string& name) { return testing::temp_path(name); }

TEST(LutPredictors, SumRecoverOverheadAndRoundTrip) {
  auto space = testing::load("tests/data/design_mobile_tiny.yaml");
  auto profile = fake_profile(space);
  PredictorContext ctx;
  ctx.space = &space;
  ctx.profile = &profile;
  auto lut = make_predictor("lut", ctx);
  ASSERT_TRUE(lut.ok()) << lut.status().message();
  Rng rng(4);
  std::vector<Architecture> train, test;
  for (int i = 0; i < 40; ++i) train.push_back(space.sample(rng));
  for (int i = 0; i < 40; ++i) test.push_back(space.sample(rng));
  // End to end = 1.3 x the table's sum + 0.01 ms per unit + 0.2 ms.
  auto truth = [&](const Architecture& a) {
    return 1.3 * unit_sum(space, profile, a) + 0.01 * static_cast<double>(units(space, a).size()) +
           0.2;
  };
  for (const auto& a : test)
    EXPECT_NEAR((*lut)->predict(a).mean, unit_sum(space, profile, a), 1e-9);
  auto res = make_predictor("lut+residual", ctx);
  ASSERT_TRUE(res.ok());
  std::vector<double> y;
  for (const auto& a : train) y.push_back(truth(a));
  ASSERT_TRUE((*res)->fit(train, y).ok());
  for (const auto& a : test) EXPECT_NEAR((*res)->predict(a).mean, truth(a), 0.01 * truth(a));
  EXPECT_FALSE((*res)->fit({train[0]}, {y[0]}).ok());  // too few to fit

  for (auto* p : {&*lut, &*res}) {
    const std::string path = temp_file("lut.json");
    ASSERT_TRUE((*p)->save(path).ok());
    auto loaded = load_predictor(path, ctx);
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    EXPECT_EQ((*loaded)->name(), (*p)->name());
    for (const auto& a : test) EXPECT_DOUBLE_EQ((*loaded)->predict(a).mean, (*p)->predict(a).mean);
  }
  // Incomplete tables and other spaces are refused with the reason.
  auto partial = profile;
  partial.entries.erase(partial.entries.begin());
  ctx.profile = &partial;
  auto refused = make_predictor("lut", ctx);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("lacks 1 of"), std::string::npos);
  auto nb201 = testing::load("zoo/nb201.yaml");
  PredictorContext other;
  other.space = &nb201;
  auto wrong = load_predictor(temp_file("lut.json"), other);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("another space"), std::string::npos);
}

TEST(LutPredictors, CachedCellsPriceExactlyTheirUnits) {
  // NAS-Bench-201's cells are priced whole from a per-genotype cache; the answer must be the
  // plain sum over units, on a cold cache and a warm one, serially and in parallel.
  auto space = testing::load("zoo/nb201.yaml");
  auto profile = fake_profile(space);
  PredictorContext ctx;
  ctx.space = &space;
  ctx.profile = &profile;
  auto lut = make_predictor("lut", ctx);
  ASSERT_TRUE(lut.ok()) << lut.status().message();
  Rng rng(12);
  std::vector<Architecture> archs(300);
  for (auto& a : archs) a = space.sample(rng);
  archs.push_back(archs[0]);
  auto batch = (*lut)->predict_batch(archs);
  for (size_t i = 0; i < archs.size(); ++i) {
    const double sum = unit_sum(space, profile, archs[i]);
    EXPECT_NEAR((*lut)->predict(archs[i]).mean, sum, 1e-9 * sum);
    EXPECT_NEAR(batch[i].mean, sum, 1e-9 * sum);
  }
}

// Two devices with different per-op costs (b is no multiple of a): a source `a` measured on
// the first 150 cells only, and a target `b` fitted on 10 of those. The other 150 cells, which
// no device measured, are predicted from the architecture alone.
TEST(TablePredictor, TransfersToArchitecturesNoDeviceMeasured) {
  auto space = testing::load("zoo/nb201.yaml");
  const std::map<std::string, std::pair<double, double>> cost = {// op -> (a ms, b ms)
                                                                 {"nor_conv_3x3", {2.0, 0.9}},
                                                                 {"nor_conv_1x1", {0.5, 0.7}},
                                                                 {"avg_pool_3x3", {0.6, 0.2}},
                                                                 {"skip_connect", {0.1, 0.02}},
                                                                 {"none", {0, 0}}};
  const std::string source_csv = temp_file("source.csv"), target_csv = temp_file("target.csv");
  Rng rng(9);
  {
    std::ofstream src(source_csv), tgt(target_csv);
    std::set<std::string> written;
    src << "arch,a\n";
    tgt << "arch,b\n";
    for (int i = 0; i < 300; ++i) {
      Architecture x = space.sample(rng);
      double a = 0.3, b = 1.0;
      for (const auto& e : space.op_edges(x, 0)) {
        a += cost.at(e.op).first * (1 + 0.2 * e.from);  // a pays more for later nodes
        b += cost.at(e.op).second;
      }
      b *= 1 + 0.02 * static_cast<double>(rng.uniform(5));
      // One row per architecture: a repeat with other noise would be a conflict the table
      // refuses.
      if (!written.insert(space.to_string(x)).second) continue;
      if (i < 150) src << space.to_string(x) << "," << a << "\n";
      tgt << space.to_string(x) << "," << b << "\n";
    }
  }
  auto source = ArchTable::load(source_csv, space);
  auto target = ArchTable::load(target_csv, space);
  ASSERT_TRUE(source.ok() && target.ok());
  std::vector<Architecture> fit_archs(target->archs.begin(), target->archs.begin() + 10);
  std::vector<double> fit_y(target->values[0].begin(), target->values[0].begin() + 10);
  const std::vector<Architecture> unmeasured(target->archs.begin() + 150, target->archs.end());
  const std::vector<double> truth(target->values[0].begin() + 150, target->values[0].end());
  for (TransferMode mode : {TransferMode::kLearned, TransferMode::kMeasured}) {
    PredictorContext ctx;
    ctx.space = &space;
    ctx.side = &*source;
    ctx.target_column = "b";
    ctx.transfer = {"a"};
    ctx.transfer_mode = mode;
    auto p = make_predictor("table", ctx);
    ASSERT_TRUE(p.ok()) << p.status().message();
    ASSERT_TRUE((*p)->fit(fit_archs, fit_y).ok());
    std::vector<double> pred;
    for (const auto& q : (*p)->predict_batch(unmeasured)) pred.push_back(q.mean);
    EXPECT_GT(spearman(pred, truth), 0.9) << transfer_mode_name(mode);
    EXPECT_GT(within(pred, truth, 0.10), 0.8) << transfer_mode_name(mode);

    const std::string path = temp_file(std::string("table_") + transfer_mode_name(mode) + ".json");
    ASSERT_TRUE((*p)->save(path).ok());
    auto loaded = load_predictor(path, ctx);
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    for (size_t i = 0; i < 20; ++i)
      EXPECT_NEAR((*loaded)->predict(unmeasured[i]).mean, pred[i], 1e-9 * pred[i]);
    // The learned mode carries its source models: no CSV is needed to predict. The measured
    // mode reads measured values, so it asks for the CSV.
    PredictorContext no_side;
    no_side.space = &space;
    auto alone = load_predictor(path, no_side);
    if (mode == TransferMode::kLearned) {
      ASSERT_TRUE(alone.ok()) << alone.status().message();
      EXPECT_NEAR((*alone)->predict(unmeasured[0]).mean, pred[0], 1e-9 * pred[0]);
    } else {
      ASSERT_FALSE(alone.ok());
      EXPECT_NE(alone.status().message().find("--side"), std::string::npos);
    }
  }
}

TEST(ArchTable, ErrorsNameTheLine) {
  auto space = testing::load("zoo/nb201.yaml");
  const std::string csv = temp_file("bad.csv");
  {
    std::ofstream f(csv);
    f << "arch,ms\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,1.5\n|bogus~0|,2\n";
  }
  auto t = ArchTable::load(csv, space);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find(csv + ":3: column 'arch'"), std::string::npos)
      << t.status().message();
  EXPECT_FALSE(ArchTable::load(temp_file("missing.csv"), space).ok());
}

}  // namespace
}  // namespace nasforge::predictors
