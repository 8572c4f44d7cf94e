// Layer choice (`choose`): decisions gated on the chosen alternative, exact sizes, strings that
// parse back, uniform sampling, canonical hashes that see identity and zero as what they
// compute, units, and the checker's shape rules.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "nasforge/searchspace/units.h"
#include "test_util.h"

namespace nasforge {
namespace {

using testing::diagnose;
using testing::load_text;

// layer1: 3 alternatives; layer2: identity (projects), mbconv, and 'wide' with a kernel
// decision (4 in all); stage: depth {1, 2} of a block choosing zero, identity or an mbconv
// (3 + 3 * 3 = 12). Size 3 * 4 * 12 = 144.
const char* kMacro = R"(nasforge: 1
name: macro_tiny
input: {channels: 3, height: 16, width: 16}
classes: 10
network:
  - stem: {conv: {out: 16, kernel: 3}}
  - choose: [identity, {mbconv: {out: 16, kernel: 3, expand: 3}}, {mbconv: {out: 16, kernel: 5, expand: 6}}]
  - choose:
      - {identity: {out: 32, stride: 2}}
      - {mbconv: {out: 32, kernel: 3, expand: 3, stride: 2}}
      - {mbconv: {out: 32, kernel: {choice: [3, 5]}, expand: 6, stride: 2}, name: wide}
  - stage: {depth: {choice: [1, 2]}, out: 32, block: {choose: [zero, identity, {mbconv: {kernel: 3, expand: 3}}]}}
  - head: {}
)";

TEST(LayerChoice, DecisionsSizeAndSummary) {
  SearchSpace s = load_text(kMacro);
  EXPECT_EQ(s.size().str(), "144");
  const int c1 = s.find_decision("layer1.choice");
  ASSERT_GE(c1, 0);
  EXPECT_EQ(s.decisions()[c1].domain.str(), "{identity, mbconv_k3_e3, mbconv_k5_e6}");
  const int k = s.find_decision("layer2.wide.kernel");
  ASSERT_GE(k, 0);
  ASSERT_TRUE(s.decisions()[k].gate.has_value());
  EXPECT_EQ(s.decisions()[k].gate->equals, 2);
  // Nested gates: the second block's choice needs depth 2.
  const int b2 = s.find_decision("stage1.block2.choice");
  ASSERT_GE(b2, 0);
  EXPECT_EQ(s.decisions()[b2].gate->min_value, 2);
  EXPECT_NE(s.summary().find("layer2.wide.kernel  kernel {3, 5}  if layer2.choice = wide"),
            std::string::npos)
      << s.summary();
  auto all = s.enumerate();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 144u);
  std::set<std::string> strings;
  for (const auto& a : *all) {
    ASSERT_TRUE(s.validate(a).ok());
    strings.insert(s.to_string(a));
  }
  EXPECT_EQ(strings.size(), 144u);
}

TEST(LayerChoice, StringsAndJsonParseBack) {
  SearchSpace s = load_text(kMacro);
  auto all = s.enumerate();
  ASSERT_TRUE(all.ok());
  for (const auto& a : *all) {
    auto back = s.parse(s.to_string(a));
    ASSERT_TRUE(back.ok()) << s.to_string(a) << ": " << back.status().message();
    EXPECT_EQ(*back, a) << s.to_string(a);
    auto json = s.from_json(s.to_json(a));
    ASSERT_TRUE(json.ok()) << s.to_json(a) << ": " << json.status().message();
    EXPECT_EQ(*json, a);
  }
  auto a = s.parse("layer1=identity/layer2=wide(k5)/stage1=d2:zero,mbconv_k3_e3");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(s.to_string(*a), "layer1=identity/layer2=wide(k5)/stage1=d2:zero,mbconv_k3_e3");
  // The JSON form takes an alternative's name or its 0-based index.
  auto j = s.from_json(R"({"layer1.choice": 0, "layer2.choice": "wide", "layer2.wide.kernel": 5,
      "stage1.depth": 2, "stage1.block1.choice": "zero", "stage1.block2.choice": 2})");
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ(*j, *a);
  auto off = s.from_json(R"({"layer1.choice": 0, "layer2.choice": 1, "layer2.wide.kernel": 5,
      "stage1.depth": 1, "stage1.block1.choice": 0})");
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.status().message(),
            "layer2.wide.kernel: expected no value, since layer2.choice = mbconv_k3_e3 leaves it "
            "inactive");
  auto bad = s.parse("layer1=identity/layer2=wide/stage1=d1:zero");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("layer2: expected 'NAME[(...)]'"), std::string::npos)
      << bad.status().message();
}

TEST(LayerChoice, UniformSamplingAndValidNeighbours) {
  SearchSpace s = load_text(kMacro);
  std::map<std::string, int> seen;
  Rng rng(7);
  const int n = 144 * 150;
  for (int i = 0; i < n; ++i) ++seen[s.to_string(s.sample(rng))];
  EXPECT_EQ(seen.size(), 144u);
  for (const auto& [arch, count] : seen) {
    EXPECT_GT(count, 150 / 2) << arch;  // each of the 144 is equally likely: about 150
    EXPECT_LT(count, 150 * 2) << arch;
  }
  Architecture a = *s.parse("layer1=identity/layer2=wide(k3)/stage1=d1:zero");
  for (const auto& nb : s.neighbours(a)) EXPECT_TRUE(s.validate(nb).ok()) << s.to_string(nb);
  for (int i = 0; i < 200; ++i) {
    a = s.mutate(a, rng);
    ASSERT_TRUE(s.validate(a).ok()) << s.to_string(a);
  }
}

TEST(LayerChoice, IdentityAndZeroHashAsWhatTheyCompute) {
  SearchSpace s = load_text(kMacro);
  auto zero = *s.parse("layer1=identity/layer2=wide(k3)/stage1=d1:zero");
  auto identity = *s.parse("layer1=identity/layer2=wide(k3)/stage1=d1:identity");
  auto conv = *s.parse("layer1=identity/layer2=wide(k3)/stage1=d1:mbconv_k3_e3");
  EXPECT_EQ(s.canonical_hash(zero), s.canonical_hash(identity));
  EXPECT_NE(s.canonical_hash(zero), s.canonical_hash(conv));
  // Units: a passing identity and zero run nothing; the stride-2 identity is a 1x1 conv + BN.
  auto proj = *s.parse("layer1=identity/layer2=identity/stage1=d1:zero");
  auto us = units(s, proj);
  ASSERT_EQ(us.size(), 3u);  // stem, the projection, head
  EXPECT_EQ(us[1].kind, UnitKind::kConv);
  EXPECT_EQ(us[1].kernel, 1);
  EXPECT_EQ(us[1].stride, 2);
  EXPECT_EQ(us[1].out, 32);
  EXPECT_EQ(us[1].act, Activation::kNone);
  EXPECT_EQ(units(s, conv).size(), 4u);
  auto distinct = distinct_units(s);
  ASSERT_TRUE(distinct.ok());
  int mbconvs = 0;
  for (const auto& u : *distinct) mbconvs += u.kind == UnitKind::kMBConv;
  EXPECT_EQ(mbconvs, 2 + 3 + 1);  // layer1: 2; layer2: 1 + 2 kernels; stage: 1
}

TEST(LayerChoice, CheckerNamesWhatIsWrong) {
  const std::string head = R"(nasforge: 1
name: t
input: {channels: 3, height: 16, width: 16}
classes: 10
network:
  - stem: {conv: {out: 16, kernel: 3}}
)";
  EXPECT_EQ(
      diagnose(
          head +
          R"(  - choose: [{mbconv: {out: 16, kernel: 3, expand: 3}}, {conv: {out: 32, kernel: 3}}]
  - head: {}
)"),
      "t.yaml:7:5: error: network[1].choose[1]: expected every alternative to give the layer's "
      "output shape 16x16x16 (that of 'mbconv_k3_e3') from its input 16x16x16, got 32x16x16 from "
      "'conv_k3'\n");
  EXPECT_EQ(diagnose(head + R"(  - choose: [zero, {conv: {out: 32, kernel: 3, stride: 2}}]
  - head: {}
)"),
            "t.yaml:7:5: error: network[1].choose[0]: expected zero only where the layer's input "
            "and output shapes are equal, so that the residual path keeps the network connected, "
            "got 16x16x16 -> 32x8x8 (use identity, which projects)\n");
  EXPECT_EQ(diagnose(head + R"(  - choose: [identity, identity]
  - head: {}
)"),
            "t.yaml:7:24: error: network[1].choose[1]: expected distinct alternative names, got "
            "'identity' twice (give one a name: NAME)\n");
  EXPECT_EQ(diagnose(head + R"(  - choose: [identity, {sepconv: {out: 16}}]
  - head: {}
)"),
            "t.yaml:7:25: error: network[1].choose[1]: expected an alternative kind (conv, mbconv, "
            "resblock, shufflenet, xception, identity, zero), got 'sepconv'\n");
  EXPECT_EQ(diagnose(head + R"(  - choose: [identity]
  - head: {}
)"),
            "t.yaml:7:13: error: network[1].choose: expected a sequence of at least two "
            "alternatives (conv, mbconv, resblock, shufflenet, xception, identity, zero), got 1\n");
}

// Grouped 1x1 convolutions and ShuffleNet units split their channels, so their widths must be
// fixed and divide; the checker says which width breaks the split.
TEST(LayerChoice, GroupsAndShuffleUnitsNeedWidthsThatSplit) {
  const std::string head = R"(nasforge: 1
name: t
input: {channels: 3, height: 16, width: 16}
classes: 10
network:
  - stem: {conv: {out: {choice: [16, 24]}, kernel: 3}}
)";
  EXPECT_EQ(diagnose(head + R"(  - mbconv: {out: 16, kernel: 3, expand: 1, groups: 2}
  - head: {}
)"),
            "t.yaml:7:5: error: network[1].mbconv.groups: expected a fixed input width, out and "
            "expand with groups: 2 (the group boundaries would move with a width), got input "
            "{16,24}x16x16\n");
  const std::string fixed = R"(nasforge: 1
name: t
input: {channels: 3, height: 16, width: 16}
classes: 10
network:
  - stem: {conv: {out: 18, kernel: 3}}
)";
  EXPECT_EQ(diagnose(fixed + R"(  - mbconv: {out: 16, kernel: 3, expand: 1, groups: 4}
  - head: {}
)"),
            "t.yaml:7:5: error: network[1].mbconv.groups: expected the input width to divide "
            "into 4 groups, got 18\n");
  EXPECT_EQ(
      diagnose(fixed + R"(  - choose: [{shufflenet: {out: 8, kernel: 3}}, {xception: {out: 8}}]
  - head: {}
)"),
      "t.yaml:7:5: error: network[1].choose[0]: expected shufflenet widths where an even "
      "input width's half is less than out, got input 18, out 8, stride 1\n"
      "t.yaml:7:5: error: network[1].choose[1]: expected xception widths where an even "
      "input width's half is less than out, got input 18, out 8, stride 1\n");
  EXPECT_EQ(diagnose(head + R"(  - xception: {out: 32, stride: 2}
  - head: {}
)"),
            "t.yaml:7:5: error: network[1].xception: expected a fixed input width and out for "
            "xception (its channel split would move with a width), got input {16,24}x16x16\n");
  // A bare kind that needs options is told which (it once dereferenced nothing).
  EXPECT_EQ(diagnose(fixed + R"(  - choose: [identity, mbconv]
  - head: {}
)"),
            "t.yaml:7:24: error: network[1].choose[1].mbconv: expected key 'out', got a mapping "
            "without it\n"
            "t.yaml:7:24: error: network[1].choose[1].mbconv: expected key 'kernel', got a "
            "mapping without it\n"
            "t.yaml:7:24: error: network[1].choose[1].mbconv: expected key 'expand', got a "
            "mapping without it\n");
  // Names: groups show in the default name; a shufflenet's kernel can be a decision.
  SearchSpace s = load_text(fixed + R"(  - choose:
      - {mbconv: {out: 18, kernel: 3, expand: 1, groups: 2}}
      - {shufflenet: {out: 18, kernel: {choice: [3, 5, 7]}}}
      - {xception: {out: 18}}
  - head: {}
)");
  EXPECT_EQ(s.size().str(), "5");
  const Decision& d = s.decisions()[s.find_decision("layer1.choice")];
  EXPECT_EQ(d.domain.names,
            (std::vector<std::string>{"mbconv_k3_e1_g2", "shufflenet", "xception"}));
  EXPECT_GE(s.find_decision("layer1.shufflenet.kernel"), 0);
}

}  // namespace
}  // namespace nasforge
