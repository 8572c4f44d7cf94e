// The DSL: parsing with the documented semantics (what each key means once it checks).
#include <gtest/gtest.h>

#include "test_util.h"

namespace nasforge {
namespace {

using testing::diagnose;
using testing::load;
using testing::load_text;

TEST(DslParse, MobileExampleFromTheDesign) {
  SearchSpace s = load("tests/data/design_mobile_tiny.yaml");
  EXPECT_EQ(s.name(), "mobile-tiny");
  EXPECT_EQ(s.size().str(), "325989846");
  // Two stages of depth, width and four (kernel, expand) blocks each.
  ASSERT_EQ(s.decisions().size(), 20u);
  EXPECT_EQ(s.decisions()[0].label, "stage1.depth");
  EXPECT_EQ(s.decisions()[1].label, "stage1.out");
  EXPECT_EQ(s.decisions()[2].label, "stage1.block1.kernel");
  EXPECT_EQ(s.decisions()[3].label, "stage1.block1.expand");
  // Blocks within the smallest depth are always active; block 3 needs depth >= 3.
  EXPECT_FALSE(s.decisions()[2].gate.has_value());
  const Decision& k3 = s.decisions()[s.find_decision("stage1.block3.kernel")];
  ASSERT_TRUE(k3.gate.has_value());
  EXPECT_EQ(k3.gate->decision, 0);
  EXPECT_EQ(k3.gate->min_value, 3);
  EXPECT_EQ(k3.domain.str(), "{3, 5, 7}");
  EXPECT_EQ(k3.domain.type, DomainType::kKernel);
  // Layers and the shapes flowing between them: 28 -> 14 -> 7.
  ASSERT_EQ(s.layers().size(), 4u);
  EXPECT_EQ(s.layers()[1].name, "stage1");
  EXPECT_EQ(s.layers()[1].out.str(), "{24,32}x14x14");
  EXPECT_EQ(s.layers()[2].out.str(), "{40,48,64}x7x7");
  EXPECT_EQ(s.layers()[3].out.str(), "10x1x1");
  const auto& stage = std::get<StageLayer>(s.layers()[1].spec);
  ASSERT_EQ(stage.blocks.size(), 4u);
  EXPECT_EQ(std::get<MBConvBlock>(stage.blocks[0]).stride, 2);
  EXPECT_EQ(std::get<MBConvBlock>(stage.blocks[1]).stride, 1);
  // Constraints with units and suffixes, and objectives.
  ASSERT_EQ(s.constraints().size(), 2u);
  EXPECT_EQ(s.constraints()[0].str(), "latency_ms@cpu <= 2");
  EXPECT_EQ(s.constraints()[1].str(), "params <= 200000");
  ASSERT_EQ(s.objectives().size(), 2u);
  EXPECT_EQ(s.objectives()[0].str(), "accuracy: max");
  EXPECT_EQ(s.objectives()[1].str(), "latency_ms@cpu: min");
}

TEST(DslParse, Nb201ExampleFromTheDesign) {
  SearchSpace s = load("zoo/nb201.yaml");
  EXPECT_EQ(s.size().str(), "15625");
  ASSERT_EQ(s.decisions().size(), 6u);
  EXPECT_EQ(s.decisions()[0].label, "search.node1.from0");
  EXPECT_EQ(s.decisions()[5].label, "search.node3.from2");
  // One genotype shared by the 15 cells: the repeats add no decisions.
  int cells = 0;
  for (const auto& l : s.layers()) cells += std::holds_alternative<CellLayer>(l.spec);
  EXPECT_EQ(cells, 15);
  EXPECT_EQ(s.layers().back().in.str(), "64x8x8");
  ASSERT_EQ(s.cells().size(), 1u);
  EXPECT_EQ(s.cells()[0].edges.size(), 6u);
}

TEST(DslParse, EveryUseOfALetIsItsOwnDecision) {
  SearchSpace s = load_text(R"(nasforge: 1
name: t
input: {channels: 3, height: 8, width: 8}
classes: 10
let:
  K: {choice: [3, 5]}
  W: {range: {min: 8, max: 32, step: 8}}
network:
  - conv: {out: $W, kernel: $K}
  - conv: {out: $W, kernel: $K}
  - head: {}
)");
  ASSERT_EQ(s.decisions().size(), 4u);
  EXPECT_EQ(s.decisions()[0].label, "conv1.out");
  EXPECT_EQ(s.decisions()[0].domain.str(), "{8, 16, 24, 32}");
  EXPECT_EQ(s.size().str(), "64");  // (4 * 2)^2
}

TEST(DslParse, TransformerFamily) {
  SearchSpace s = load("zoo/transformer.yaml");
  EXPECT_EQ(s.size().str(), "4644");  // 3 widths * (6^2 + 6^3 + 6^4)
  EXPECT_EQ(s.layers()[0].out.str(), "49 tokens x {64,96,128}");
  EXPECT_EQ(s.decisions()[s.find_decision("encoder1.layer4.heads")].gate->min_value, 4);
}

TEST(DslParse, SqueezeExciteAsADecisionAndSuffixedNumbers) {
  SearchSpace s = load_text(R"(nasforge: 1
name: t
input: {channels: 3, height: 8, width: 8}
classes: 10
network:
  - mbconv: {out: 16, kernel: 3, expand: {choice: [1, 2]}, se: {choice: [true, false]}}
  - head: {classifier: {hidden: 128}}
constraints:
  - {macs: {max: 1.5M}}
  - {params: {min: 2k, max: 1G}}
  - {latency_ms@raspi4: {max: 15}}
)");
  EXPECT_EQ(s.size().str(), "4");
  EXPECT_EQ(s.decisions()[1].domain.str(), "{true, false}");
  EXPECT_EQ(s.constraints()[0].str(), "macs <= 1500000");
  EXPECT_EQ(s.constraints()[1].str(), "2000 <= params <= 1000000000");
  EXPECT_EQ(s.constraints()[2].str(), "latency_ms@raspi4 <= 15");
}

TEST(DslParse, ListedEdgesAndResidualBlocks) {
  SearchSpace s = load_text(R"(nasforge: 1
name: t
input: {channels: 16, height: 8, width: 8}
classes: 10
cells:
  c: {nodes: 4, edges: [[0, 1], [1, 2], [0, 3], [2, 3]], op: {choice: [nor_conv_3x3, skip_connect]}}
network:
  - cell: c
  - stage: {depth: {choice: [1, 2]}, out: 16, block: {resblock: {shortcut: identity}}}
  - head: {}
)");
  EXPECT_EQ(s.size().str(), "32");  // 2^4 edge ops * 2 depths (the blocks have no decisions)
  Architecture a =
      *s.parse("c=|nor_conv_3x3~0|+|skip_connect~1|+|skip_connect~0|nor_conv_3x3~2|/stage1=d2");
  EXPECT_EQ(s.to_string(a),
            "c=|nor_conv_3x3~0|+|skip_connect~1|+|skip_connect~0|nor_conv_3x3~2|/stage1=d2");
}

// Listed edges may fix their own op ([from, to, op]); the cell's op domain then covers only the
// edges without one, and is needed only if there are such edges.
TEST(Dsl, ListedEdgesMayFixTheirOwnOps) {
  auto s = load_text(R"yaml(nasforge: 1
name: t
input: {channels: 8, height: 8, width: 8}
classes: 10
cells:
  fixed: {nodes: 3, edges: [[0, 1, nor_conv_3x3], [1, 2, skip_connect], [0, 2, none]]}
  mixed: {nodes: 3, edges: [[0, 1], [1, 2, {choice: [none, avg_pool_3x3]}]], op: {choice: [nor_conv_1x1, nor_conv_3x3, skip_connect]}}
network:
  - cell: fixed
  - cell: mixed
  - head: {}
)yaml");
  EXPECT_EQ(s.size().str(), "6");  // 1 x (3 x 2)
  Architecture a(std::vector<uint32_t>(s.decisions().size(), 0));
  EXPECT_EQ(s.name_value(a, s.find_decision("fixed.node1.from0")), "nor_conv_3x3");
  EXPECT_EQ(s.name_value(a, s.find_decision("fixed.node2.from0")), "none");
  EXPECT_EQ(s.decisions()[s.find_decision("mixed.node2.from1")].domain.size(), 2u);
  EXPECT_EQ(s.decisions()[s.find_decision("mixed.node1.from0")].domain.size(), 3u);
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 8, height: 8, width: 8}
classes: 10
cells:
  a: {nodes: 3, edges: [[0, 1, nor_conv_3x3], [1, 2]]}
  b: {nodes: 3, edges: dense}
  c: {nodes: 3, edges: [[0, 1, conv9x9], [1, 2, none]]}
network:
  - cell: a
  - head: {}
)yaml"),
      R"txt(t.yaml:6:47: error: cells.a.edges[1]: expected op (the op domain of the cell's edges), got none
t.yaml:7:6: error: cells.b: expected op (the op domain of the cell's edges), got none
t.yaml:8:32: error: cells.c.edges[0][2]: expected a known op (none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3, max_pool_3x3, sep_conv_3x3, sep_conv_5x5, sep_conv_7x7, dil_conv_3x3, dil_conv_5x5), got 'conv9x9'
)txt");
}

// Encoder heads and FFN widths may be lists, one entry per layer.
TEST(Dsl, EncoderLayersMayEachHaveTheirOwnHeadsAndWidth) {
  auto s = load_text(R"yaml(nasforge: 1
name: t
input: {channels: 1, height: 8, width: 8}
classes: 10
network:
  - patch_embed: {patch: 4, dim: 64}
  - encoder: {layers: 3, heads: [4, 2, {choice: [2, 4]}], ffn: [128, 256, 64]}
  - head: {}
)yaml");
  EXPECT_EQ(s.size().str(), "2");
  const auto& enc = std::get<EncoderLayer>(s.layers()[1].spec);
  EXPECT_EQ(enc.blocks[1].heads.fixed, 2);
  EXPECT_EQ(enc.blocks[2].ffn.fixed, 64);
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 1, height: 8, width: 8}
classes: 10
network:
  - patch_embed: {patch: 4, dim: 64}
  - encoder: {layers: {choice: [1, 2]}, heads: [4], ffn: 64}
  - head: {}
)yaml"),
      R"txt(t.yaml:7:48: error: network[1].encoder.heads: expected one value per layer (2), got 1
)txt");
}

}  // namespace
}  // namespace nasforge
