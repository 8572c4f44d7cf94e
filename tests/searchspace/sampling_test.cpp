// Sampling, mutation, crossover, neighbourhoods, enumeration and encodings: property tests over
// thousands of architectures of every zoo space.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "nasforge/searchspace/graph.h"
#include "test_util.h"

namespace nasforge {
namespace {

using testing::load;

class SpaceProperty : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override { space = std::make_unique<SearchSpace>(load(GetParam())); }
  std::unique_ptr<SearchSpace> space;
  Rng rng{20261127};
};

TEST_P(SpaceProperty, SamplesAreAlwaysValid) {
  for (int i = 0; i < 3000; ++i) {
    Architecture a =
        space->sample(rng, i % 2 ? SampleMode::kUniformDecision : SampleMode::kUniformArchitecture);
    ASSERT_TRUE(space->validate(a).ok()) << space->validate(a).message();
  }
}

TEST_P(SpaceProperty, MutationChangesOneActiveDecision) {
  for (int i = 0; i < 2000; ++i) {
    Architecture a = space->sample(rng);
    Architecture m = space->mutate(a, rng);
    ASSERT_TRUE(space->validate(m).ok()) << space->validate(m).message();
    ASSERT_NE(a, m);
    // Exactly one decision active in both changed; any other change is a block that the new
    // depth switched on or off.
    int changed_in_both = 0;
    for (size_t d = 0; d < a.size(); ++d) {
      bool both =
          space->is_active(a, static_cast<int>(d)) && space->is_active(m, static_cast<int>(d));
      if (both && a[d] != m[d]) ++changed_in_both;
    }
    EXPECT_EQ(changed_in_both, 1) << space->to_string(a) << " -> " << space->to_string(m);
  }
}

TEST_P(SpaceProperty, CrossoverTakesEachDecisionFromAParent) {
  for (int i = 0; i < 2000; ++i) {
    Architecture a = space->sample(rng), b = space->sample(rng);
    Architecture c = space->crossover(a, b, rng);
    ASSERT_TRUE(space->validate(c).ok()) << space->validate(c).message();
    for (size_t d = 0; d < c.size(); ++d) {
      int di = static_cast<int>(d);
      if (!space->is_active(c, di)) continue;
      bool from_a = space->is_active(a, di) && a[d] == c[d];
      bool from_b = space->is_active(b, di) && b[d] == c[d];
      bool neither_active = !space->is_active(a, di) && !space->is_active(b, di);
      EXPECT_TRUE(from_a || from_b || neither_active) << space->decisions()[d].label;
    }
  }
}

TEST_P(SpaceProperty, NeighboursAreOneStepAwayAndDistinct) {
  for (int i = 0; i < 200; ++i) {
    Architecture a = space->sample(rng);
    auto ns = space->neighbours(a);
    size_t expected = 0;
    for (size_t d = 0; d < a.size(); ++d)
      if (space->is_active(a, static_cast<int>(d)))
        expected += space->decisions()[d].domain.size() - 1;
    EXPECT_EQ(ns.size(), expected);
    std::set<Architecture> unique(ns.begin(), ns.end());
    EXPECT_EQ(unique.size(), ns.size());
    for (const auto& n : ns) {
      ASSERT_TRUE(space->validate(n).ok());
      EXPECT_NE(n, a);
    }
  }
}

TEST_P(SpaceProperty, EncodingsHaveFixedSizes) {
  for (int i = 0; i < 500; ++i) {
    Architecture a = space->sample(rng);
    auto onehot = space->encode_onehot(a);
    ASSERT_EQ(onehot.size(), space->onehot_size());
    size_t ones = 0, active = 0;
    for (float x : onehot) ones += x == 1.0f;
    for (size_t d = 0; d < a.size(); ++d) active += space->is_active(a, static_cast<int>(d));
    EXPECT_EQ(ones, active);
    auto ord = space->encode_ordinal(a);
    ASSERT_EQ(ord.size(), space->decisions().size());
    for (size_t d = 0; d < ord.size(); ++d) {
      if (space->is_active(a, static_cast<int>(d))) {
        EXPECT_GE(ord[d], 0.0f);
        EXPECT_LE(ord[d], 1.0f);
      } else {
        EXPECT_EQ(ord[d], -1.0f);
      }
    }
    LabelledDag dag = space->dag(a);
    ArchGraph g = to_boost_graph(dag);
    EXPECT_EQ(boost::num_vertices(g), dag.labels.size());
    EXPECT_EQ(boost::num_edges(g), dag.edges.size());
  }
}

INSTANTIATE_TEST_SUITE_P(Zoo, SpaceProperty, ::testing::ValuesIn(testing::kZoo));

TEST(Sampling, SameSeedSameRun) {
  SearchSpace s = load("zoo/mobilenet.yaml");
  Rng a(42), b(42), c(43);
  std::vector<std::string> x, y, z;
  for (int i = 0; i < 50; ++i) {
    x.push_back(s.to_string(s.sample(a)));
    y.push_back(s.to_string(s.sample(b)));
    z.push_back(s.to_string(s.sample(c)));
  }
  EXPECT_EQ(x, y);
  EXPECT_NE(x, z);
}

TEST(Sampling, UniformOverArchitecturesWeighsDepthBySubspaceSize) {
  // encoder1.layers in {2, 3, 4} owns 6^2, 6^3, 6^4 architectures: probabilities 36/1548,
  // 216/1548 and 1296/1548 when every architecture is equally likely; 1/3 each per decision.
  SearchSpace s = load("zoo/transformer.yaml");
  int layers = s.find_decision("encoder1.layers");
  Rng rng(5);
  const int n = 30000;
  std::map<int64_t, int> uniform, per_decision;
  for (int i = 0; i < n; ++i) {
    ++uniform[s.int_value(s.sample(rng, SampleMode::kUniformArchitecture), layers)];
    ++per_decision[s.int_value(s.sample(rng, SampleMode::kUniformDecision), layers)];
  }
  EXPECT_NEAR(uniform[2] / double(n), 36.0 / 1548, 0.005);
  EXPECT_NEAR(uniform[3] / double(n), 216.0 / 1548, 0.01);
  EXPECT_NEAR(uniform[4] / double(n), 1296.0 / 1548, 0.01);
  for (int64_t l : {2, 3, 4}) EXPECT_NEAR(per_decision[l] / double(n), 1.0 / 3, 0.015);
}

TEST(Enumeration, MatchesTheExactSize) {
  SearchSpace s = load("zoo/transformer.yaml");
  auto all = s.enumerate();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 4644u);
  std::set<Architecture> unique(all->begin(), all->end());
  EXPECT_EQ(unique.size(), 4644u);
  for (const auto& a : *all) ASSERT_TRUE(s.validate(a).ok());
  SearchSpace m = load("zoo/mobilenet.yaml");
  EXPECT_EQ(m.enumerate(1000).status().message(),
            "the space has 3,203,828,206,488 architectures, more than the enumeration limit of "
            "1,000");
}

TEST(Neighbours, DeeperDepthCopiesThePreviousBlock) {
  SearchSpace s = load("tests/data/design_mobile_tiny.yaml");
  auto a = s.parse("stage1=d2w24:k5e6,k7e4/stage2=d2w40:k3e3,k3e3");
  ASSERT_TRUE(a.ok());
  std::set<std::string> ns;
  for (const auto& n : s.neighbours(*a)) ns.insert(s.to_string(n));
  EXPECT_TRUE(ns.count("stage1=d3w24:k5e6,k7e4,k7e4/stage2=d2w40:k3e3,k3e3"));
  EXPECT_TRUE(ns.count("stage1=d4w24:k5e6,k7e4,k7e4,k7e4/stage2=d2w40:k3e3,k3e3"));
  EXPECT_TRUE(ns.count("stage1=d2w32:k5e6,k7e4/stage2=d2w40:k3e3,k3e3"));
}

TEST(Dag, Nb201CellBecomesOpsOnVertices) {
  SearchSpace s = load("zoo/nb201.yaml");
  auto a = s.parse(
      "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_"
      "3x3~2|");
  ASSERT_TRUE(a.ok());
  LabelledDag dag = s.dag(*a);
  EXPECT_EQ(dag.labels.size(), 8u);  // input, output and six edges
  // input->3 edges, node1's edge->2, node2's two edges->1 each, 3 into the output
  EXPECT_EQ(dag.edges.size(), 10u);
  // `none` edges and edges cut off by them disappear.
  auto b =
      s.parse("|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|");
  ASSERT_TRUE(b.ok());
  LabelledDag pruned = s.dag(*b);
  EXPECT_EQ(pruned.labels, (std::vector<std::string>{"input", "output", "nor_conv_3x3",
                                                     "skip_connect", "nor_conv_1x1"}));
}

}  // namespace
}  // namespace nasforge
