// Architecture serialisation: canonical strings (NAS-Bench-201 convention for cells), JSON and
// YAML, each parsing back to an equal architecture, and precise errors for bad input.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "nasforge/searchspace/files.h"
#include "test_util.h"

namespace nasforge {
namespace {

using testing::load;

TEST(ArchitectureStrings, KeysTheNasBench201TableDirectly) {
  SearchSpace s = load("zoo/nb201.yaml");
  const std::string csv = testing::source_path("data/nasbench201/nb201_cifar10.csv.gz");
  auto text = read_text_file(csv);
  ASSERT_TRUE(text.ok()) << text.status().message();
  std::istringstream in(*text);
  std::string line;
  std::getline(in, line);
  ASSERT_EQ(line.substr(0, 11), "index,arch,");
  std::set<Architecture> seen;
  size_t rows = 0;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string index, arch;
    std::getline(ss, index, ',');
    std::getline(ss, arch, ',');
    auto a = s.parse(arch);
    ASSERT_TRUE(a.ok()) << arch << ": " << a.status().message();
    EXPECT_EQ(s.to_string(*a), arch);
    seen.insert(*a);
    ++rows;
  }
  EXPECT_EQ(rows, 15625u);
  EXPECT_EQ(seen.size(), 15625u);
}

class RoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(RoundTrip, StringJsonAndYamlParseBack) {
  SearchSpace s = load(GetParam());
  Rng rng(7);
  for (int i = 0; i < 2000; ++i) {
    Architecture a =
        s.sample(rng, i % 2 ? SampleMode::kUniformDecision : SampleMode::kUniformArchitecture);
    auto from_string = s.parse(s.to_string(a));
    ASSERT_TRUE(from_string.ok()) << s.to_string(a) << ": " << from_string.status().message();
    EXPECT_EQ(*from_string, a);
    auto from_json = s.from_json(s.to_json(a));
    ASSERT_TRUE(from_json.ok()) << s.to_json(a) << ": " << from_json.status().message();
    EXPECT_EQ(*from_json, a);
    auto from_yaml = s.from_yaml(s.to_yaml(a));
    ASSERT_TRUE(from_yaml.ok()) << s.to_yaml(a) << ": " << from_yaml.status().message();
    EXPECT_EQ(*from_yaml, a);
  }
}

INSTANTIATE_TEST_SUITE_P(Zoo, RoundTrip, ::testing::ValuesIn(testing::kZoo));

TEST(ArchitectureStrings, PinnedForms) {
  SearchSpace m = load("tests/data/design_mobile_tiny.yaml");
  auto a = m.parse("stage1=d3w32:k3e4,k5e6,k7e3/stage2=d2w64:k3e3,k7e6");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(m.to_string(*a), "stage1=d3w32:k3e4,k5e6,k7e3/stage2=d2w64:k3e3,k7e6");
  EXPECT_EQ(
      m.to_json(*a),
      "{\"stage1.depth\": 3, \"stage1.out\": 32, \"stage1.block1.kernel\": 3, "
      "\"stage1.block1.expand\": 4, \"stage1.block2.kernel\": 5, \"stage1.block2.expand\": 6, "
      "\"stage1.block3.kernel\": 7, \"stage1.block3.expand\": 3, \"stage2.depth\": 2, "
      "\"stage2.out\": 64, \"stage2.block1.kernel\": 3, \"stage2.block1.expand\": 3, "
      "\"stage2.block2.kernel\": 7, \"stage2.block2.expand\": 6}");
  SearchSpace t = load("zoo/transformer.yaml");
  auto b = t.parse("embed1=w96/encoder1=l2:h4f128,h2f384");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(t.to_yaml(*b),
            "embed1.dim: 96\nencoder1.layers: 2\nencoder1.layer1.heads: 4\n"
            "encoder1.layer1.ffn: 128\nencoder1.layer2.heads: 2\nencoder1.layer2.ffn: 384\n");
}

TEST(ArchitectureStrings, ParseErrorsSayWhatWasExpected) {
  SearchSpace m = load("tests/data/design_mobile_tiny.yaml");
  auto err = [&](const SearchSpace& s, const std::string& text) {
    auto a = s.parse(text);
    EXPECT_FALSE(a.ok()) << text;
    return a.ok() ? std::string() : a.status().message();
  };
  EXPECT_EQ(err(m, "stage1=d3w32:k3e4,k5e6/stage2=d2w64:k3e3,k7e6"),
            "stage1: expected 3 blocks for this depth, got 2");
  EXPECT_EQ(err(m, "stage1=d3w33:k3e4,k5e6,k7e3/stage2=d2w64:k3e3,k7e6"),
            "stage1.out: expected one of {24, 32}, got 33");
  EXPECT_EQ(
      err(m, "stage1=d3w32:k3e4,k5e6,k7e3/stage3=d2w64:k3e3,k7e6"),
      "expected SECTION=..., with SECTION one of stage1, stage2, got 'stage3=d2w64:k3e3,k7e6' "
      "(did you mean 'stage1'?)");
  EXPECT_EQ(err(m, "stage1=d3w32:k3e4,k5e6,k7e3"), "expected section 'stage2', got none");
  EXPECT_EQ(err(m, "stage1=d3w32:k3x4,k5e6,k7e3/stage2=d2w64:k3e3,k7e6"),
            "stage1: expected key 'e' for stage1.block1.expand, got 'x'");
  SearchSpace n = load("zoo/nb201.yaml");
  EXPECT_EQ(
      err(n, "|nor_conv_3x3~0|+|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"),
      "search: node 2: expected inputs |op~0|op~1|, got '|nor_conv_3x3~0|'");
  EXPECT_EQ(
      err(n, "|conv~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"),
      "search: search.node1.from0: expected one of {none, skip_connect, nor_conv_1x1, "
      "nor_conv_3x3, avg_pool_3x3}, got 'conv'");
  EXPECT_EQ(err(n, "|nor_conv_3x3~0|"), "search: expected 3 nodes separated by '+', got 1");
  SearchSpace d = load("zoo/darts.yaml");
  EXPECT_EQ(err(d, "normal=|sep_conv_3x3~1|sep_conv_3x3~0|+|a~0|a~1|+|a~0|a~1|+|a~0|a~1|/reduce=-"),
            "normal: node 2: expected 2 distinct inputs in increasing order below 2, got "
            "'|sep_conv_3x3~1|sep_conv_3x3~0|'");
}

TEST(ArchitectureJson, ErrorsNameTheLabel) {
  SearchSpace m = load("tests/data/design_mobile_tiny.yaml");
  EXPECT_EQ(m.from_json("{\"stage1.dept\": 2}").status().message(),
            "expected a decision label, got 'stage1.dept' (did you mean 'stage1.depth'?)");
  EXPECT_EQ(m.from_json("{\"stage1.depth\": 5}").status().message(),
            "stage1.depth: expected one of {2, 3, 4}, got '5'");
  EXPECT_EQ(m.from_json("{\"stage1.depth\": 2}").status().message(),
            "stage1.out: expected a value, got none");
  auto a = m.parse("stage1=d2w32:k3e4,k5e6/stage2=d2w64:k3e3,k7e6");
  ASSERT_TRUE(a.ok());
  std::string json = m.to_json(*a);
  json.insert(json.size() - 1, ", \"stage1.block3.kernel\": 3");
  EXPECT_EQ(m.from_json(json).status().message(),
            "stage1.block3.kernel: expected no value, since stage1.depth = 2 leaves it inactive");
  EXPECT_EQ(m.from_json("[1, 2").status().message(),
            "expected a JSON or YAML mapping of decision labels to values, got a syntax error "
            "(end of sequence flow not found)");
}

TEST(ArchitectureStrings, SpaceWithoutDecisionsIsADash) {
  SearchSpace s = testing::load_text(R"(nasforge: 1
name: fixed
input: {channels: 1, height: 8, width: 8}
classes: 10
network:
  - conv: {out: 8, kernel: 3}
  - head: {}
)");
  EXPECT_EQ(s.size().str(), "1");
  Rng rng(1);
  Architecture a = s.sample(rng);
  EXPECT_EQ(s.to_string(a), "-");
  EXPECT_TRUE(s.parse("-").ok());
  EXPECT_EQ(s.to_json(a), "{}");
  EXPECT_TRUE(s.from_json(s.to_json(a)).ok());
}

}  // namespace
}  // namespace nasforge
