// The DSL: the exact text of every diagnostic, with its file, line, column and key.
#include <gtest/gtest.h>

#include "test_util.h"

namespace nasforge {
namespace {

using testing::diagnose;

TEST(DslDiagnostics, MisspeltKeySuggestsInsteadOfReportingItMissing) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
netwrk: []
)yaml"),
      R"txt(t.yaml:5:1: error: netwrk: expected one of nasforge, name, description, input, classes, let, cells, network, constraints, objectives, got unknown key 'netwrk' (did you mean 'network'?)
)txt");
}

TEST(DslDiagnostics, MissingRequiredKeysAreNamed) {
  EXPECT_EQ(diagnose(R"yaml(nasforge: 1
name: t
network:
  - head: {}
)yaml"),
            R"txt(t.yaml:1:1: error: document: expected key 'input', got a mapping without it
t.yaml:1:1: error: document: expected key 'classes', got a mapping without it
)txt");
}

TEST(DslDiagnostics, VersionAndClassCount) {
  EXPECT_EQ(diagnose(R"yaml(nasforge: 2
name: t
input: {channels: 3, height: 32, width: 32}
classes: 1
network:
  - head: {}
)yaml"),
            R"txt(t.yaml:1:11: error: nasforge: expected DSL version 1, got 2
t.yaml:4:10: error: classes: expected a class count in [2, 100000], got 1
)txt");
}

TEST(DslDiagnostics, ChannelsKernelsAndStrides) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
network:
  - stem: {conv: {out: 0, kernel: 4, stride: 5}}
  - head: {pool: global_avg}
)yaml"),
      R"txt(t.yaml:6:24: error: network[0].stem.conv.out: expected a channel count in [1, 65536], got 0
t.yaml:6:35: error: network[0].stem.conv.kernel: expected an odd kernel size in [1, 15], got 4
t.yaml:6:46: error: network[0].stem.conv.stride: expected a stride in [1, 4], got 5
)txt");
}

TEST(DslDiagnostics, DepthOutOfRange) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
network:
  - stage: {depth: {choice: [0, 2]}, out: 16, block: {mbconv: {kernel: 3, expand: 3}}}
  - head: {}
)yaml"),
      R"txt(t.yaml:6:30: error: network[0].stage.depth.choice[0]: expected a depth in [1, 32], got 0
)txt");
}

TEST(DslDiagnostics, UnknownKeyInStageSuggests) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
network:
  - stage: {depth: 2, out: 16, dept: 3, block: {mbconv: {kernel: 3, expand: 3}}}
  - head: {}
)yaml"),
      R"txt(t.yaml:6:32: error: network[0].stage.dept: expected one of depth, out, stride, block, got unknown key 'dept' (did you mean 'depth'?)
)txt");
}

TEST(DslDiagnostics, StageSetsTheBlockWidth) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
network:
  - stage: {depth: 2, out: 16, block: {mbconv: {kernel: 3, expand: 3, out: 8}}}
  - head: {}
)yaml"),
      R"txt(t.yaml:6:71: error: network[0].stage.block.mbconv.out: expected no out in a stage's block (the stage's out applies to its blocks), got '8'
)txt");
}

TEST(DslDiagnostics, LetValuesAreTypedAtTheUseAndReportedOnce) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
let:
  K: {choice: [3, 4]}
network:
  - stage: {depth: 3, out: 16, block: {mbconv: {kernel: $K, expand: 3}}}
  - conv: {out: 8, kernel: $K}
  - head: {}
)yaml"),
      R"txt(t.yaml:6:19: error: let.K.choice[1]: expected an odd kernel size in [1, 15] (used as kernel at network[0].stage.block.mbconv.kernel), got 4
)txt");
}

TEST(DslDiagnostics, UndefinedLetSuggests) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
let:
  K: {choice: [3, 5]}
network:
  - conv: {out: 8, kernel: $K}
  - conv: {out: 8, kernel: $Q}
  - head: {}
)yaml"),
      R"txt(t.yaml:9:28: error: network[1].conv.kernel: expected a domain defined under let, got undefined '$Q' (did you mean '$K'?)
)txt");
}

TEST(DslDiagnostics, UnknownOpLayerAndCell) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
cells:
  c: {nodes: 4, edges: dense, op: {choice: [none, skip_conect, nor_conv_3x3]}}
  unused: {nodes: 2, edges: dense, op: {choice: [none]}}
network:
  - cel: c
  - cell: d
  - head: {}
)yaml"),
      R"txt(t.yaml:6:51: error: cells.c.op.choice[1]: expected a known op (none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3, max_pool_3x3, sep_conv_3x3, sep_conv_5x5, sep_conv_7x7, dil_conv_3x3, dil_conv_5x5), got 'skip_conect' (did you mean 'skip_connect'?)
t.yaml:9:5: error: network[0].cel: expected a layer kind (stem, conv, mbconv, resblock, shufflenet, xception, choose, stage, cell, repeat, pool, patch_embed, encoder, head), got 'cel' (did you mean 'cell'?)
t.yaml:10:11: error: network[1].cell: expected a cell defined under cells, got 'd' (did you mean 'c'?)
)txt");
}

TEST(DslDiagnostics, IdentityShortcutNeedsEqualShapes) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
network:
  - resblock: {out: 32, stride: 2, shortcut: identity}
  - head: {}
)yaml"),
      R"txt(t.yaml:6:5: error: network[0].resblock.shortcut: expected equal input and output shapes for an identity shortcut (use shortcut: auto to insert a 1x1 projection), got 3x32x32 -> 32x16x16
)txt");
}

TEST(DslDiagnostics, SpatialSizeNeverBelowOne) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 4, width: 4}
classes: 10
network:
  - conv: {out: 8, kernel: 3, stride: 2}
  - conv: {out: 8, kernel: 3, stride: 2}
  - conv: {out: 8, kernel: 3, stride: 2}
  - head: {}
)yaml"),
      R"txt(t.yaml:8:5: error: network[2].conv: expected a spatial size of at least 2x2 before a stride-2 layer, got 1x1
)txt");
}

TEST(DslDiagnostics, MetricsDevicesAndNumbers) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
network:
  - head: {}
constraints:
  - {latency_ms@my gpu: {max: 2}}
  - {param: {max: 200k}}
  - {params: {max: 200q}}
  - {macs: {min: 5M, max: 1M}}
objectives: {accuracy: maximize, latency_ms@: min}
)yaml"),
      R"txt(t.yaml:8:6: error: constraints[0].latency_ms@my gpu: expected a device name after '@' (letters, digits, '_', '-', '.'; for example cpu, raspi4, pixel7), got 'my gpu'
t.yaml:9:6: error: constraints[1].param: expected a metric (accuracy, latency_ms@DEVICE, params, macs), got 'param' (did you mean 'params'?)
t.yaml:10:20: error: constraints[2].params.max: expected a number >= 0 (suffixes k, M, G allowed), got '200q'
t.yaml:11:12: error: constraints[3].macs: expected min <= max, got min 5M > max 1M
t.yaml:12:24: error: objectives.accuracy: expected one of min, max, got 'maximize'
t.yaml:12:34: error: objectives.latency_ms@: expected a device name after '@' (letters, digits, '_', '-', '.'; for example cpu, raspi4, pixel7), got ''
)txt");
}

TEST(DslDiagnostics, TransformerShapes) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
network:
  - encoder: {layers: 2, heads: 2, ffn: 64}
  - patch_embed: {patch: 5, dim: 64}
  - patch_embed: {patch: 4, dim: {choice: [64, 96]}}
  - encoder: {layers: 2, heads: {choice: [2, 5]}, ffn: 64}
  - conv: {out: 8, kernel: 3}
  - head: {}
)yaml"),
      R"txt(t.yaml:6:23: error: network[0].encoder: expected a token sequence (put a patch_embed before the encoder), got an image
t.yaml:7:26: error: network[1].patch_embed.patch: expected a patch size that divides the 32x32 input, got 5
t.yaml:8:5: error: network[2].patch_embed: expected an image (channels x height x width), got a token sequence
t.yaml:9:33: error: network[3].encoder.heads: expected a head count that divides every hidden width 64, got 5 (64 % 5 = 4)
t.yaml:10:5: error: network[4].conv: expected an image (channels x height x width), got a token sequence
)txt");
}

TEST(DslDiagnostics, CellEdges) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
cells:
  a: {nodes: 4, edges: [[0, 1], [1, 1], [0, 3], [0, 3], [2, 3]], op: {choice: [nor_conv_3x3]}}
  b: {nodes: 4, edges: [[0, 1], [0, 2], [1, 3]], op: {choice: [nor_conv_3x3]}}
  c: {inputs: 2, nodes: 5, edges: {choose: 3}, op: {choice: [nor_conv_3x3]}}
network:
  - cell: a
  - cell: b
  - cell: c
  - head: {}
)yaml"),
      R"txt(t.yaml:6:33: error: cells.a.edges[1]: expected an edge [from, to] with 0 <= from < to < 4 into a non-input node (>= 1), got [1, 1]
t.yaml:6:49: error: cells.a.edges[3]: expected each edge once, got [0, 3] twice
t.yaml:7:24: error: cells.b.edges: expected node 2 to reach the cell output, got a dead end
t.yaml:8:44: error: cells.c.edges.choose: expected an input count per node in [1, 2] (the first node has only the cell inputs to choose from), got 3
)txt");
}

TEST(DslDiagnostics, CellWidthWithChannelKeepingOpsAndHeadPlacement) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
cells:
  c: {nodes: 3, edges: dense, op: {choice: [nor_conv_3x3, skip_connect]}}
network:
  - cell: {name: c, out: 16}
  - head: {}
  - conv: {out: 8, kernel: 3}
)yaml"),
      R"txt(t.yaml:8:18: error: network[0].cell: expected input channels equal to the cell width 16 because op 'skip_connect' keeps channels, got 3
t.yaml:9:5: error: network[1].head: expected the head as the last layer, got it before other layers
t.yaml:10:5: error: network[2]: expected a head as the last layer, got 'conv'
)txt");
}

TEST(DslDiagnostics, Domains) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
let:
  W: {range: {min: 64, max: 16, step: 8}}
  D: {choice: []}
  X: 5
network:
  - conv: {out: {choice: [8, 8]}, kernel: {range: {min: 1, max: 5, step: 2}}}
  - conv: {out: $W, kernel: {pick: [3]}}
  - head: {classifier: {hidden: {choice: [64, 128]}}}
)yaml"),
      R"txt(t.yaml:8:6: error: let.X: expected {choice: [...]} or {range: {min, max, step}}, got '5'
t.yaml:10:30: error: network[0].conv.out.choice[1]: expected distinct values, got 8 twice
t.yaml:6:14: error: let.W.range: expected min <= max, got min 64 > max 16
t.yaml:11:30: error: network[1].conv.kernel.pick: expected choice or range, got unknown key 'pick'
)txt");
}

TEST(DslDiagnostics, BrokenRepeatBodyIsReportedOnce) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
network:
  - repeat: {times: 3, body: [{conv: {out: 8, kernel: 2}}]}
  - head: {}
)yaml"),
      R"txt(t.yaml:6:55: error: network[0].repeat.body[0].conv.kernel: expected an odd kernel size in [1, 15], got 2
)txt");
}

TEST(DslDiagnostics, UnusedLetAndCellInAnOtherwiseCleanFile) {
  EXPECT_EQ(diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
let:
  K: {choice: [3, 5]}
cells:
  c: {nodes: 2, edges: dense, op: {choice: [nor_conv_3x3, skip_connect]}}
network:
  - conv: {out: 8, kernel: 3}
  - head: {}
)yaml"),
            R"txt(t.yaml:6:6: error: let.K: expected $K to be used, got no use
t.yaml:8:6: error: cells.c: expected cell 'c' to be used in the network, got no use
)txt");
}

TEST(DslDiagnostics, WrongTypes) {
  EXPECT_EQ(diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
network:
  - conv: {out: sixteen, kernel: [3], act: relu7}
  - pool: {type: median}
  - head: {dropout: 1.5}
)yaml"),
            R"txt(t.yaml:6:17: error: network[0].conv.out: expected an integer, got 'sixteen'
t.yaml:6:34: error: network[0].conv.kernel: expected a value, {choice: [...]}, {range: {min, max, step}} or $name, got a sequence
t.yaml:6:44: error: network[0].conv.act: expected one of relu, relu6, hswish, swish, gelu, none, got 'relu7' (did you mean 'relu'?)
t.yaml:7:18: error: network[1].pool.type: expected one of max, avg, got 'median'
t.yaml:8:21: error: network[2].head.dropout: expected a dropout rate in [0, 1), got 1.5
)txt");
}

TEST(DslDiagnostics, CellNamesCannotShadowSections) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
cells:
  stage1: {nodes: 2, edges: dense, op: {choice: [nor_conv_3x3, nor_conv_1x1]}}
network:
  - cell: {name: stage1, out: 3}
  - stage: {depth: {choice: [1, 2]}, out: 8, block: {conv: {kernel: 3}}}
  - head: {}
)yaml"),
      R"txt(t.yaml:6:11: error: cells.stage1: expected a cell name distinct from the generated section names (stage1, conv1, head, ...), got 'stage1'
)txt");
}

TEST(DslDiagnostics, DocumentLevelTypes) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: 'bad name!'
description: [1]
input: {channels: 0, height: 32, width: 9000}
classes: 10
network: {}
constraints: {params: 5}
objectives: [accuracy]
)yaml"),
      R"txt(t.yaml:2:7: error: name: expected a name of letters, digits, '_', '-' and '.', got 'bad name!'
t.yaml:3:14: error: description: expected a string, got a sequence
t.yaml:4:19: error: input.channels: expected an integer in [1, 65536], got 0
t.yaml:4:41: error: input.width: expected an integer in [1, 8192], got 9000
t.yaml:6:10: error: network: expected a non-empty sequence of layers, got an empty mapping
t.yaml:7:14: error: constraints: expected a sequence of {METRIC: {max: X}} items, got a mapping
t.yaml:8:13: error: objectives: expected a mapping of METRIC: min|max, got a sequence
)txt");
}

// Sizes the checker accepts must be allocatable: an input, or a layer's output, of more than
// 2^30 values per image is refused with the computed size (it was a std::bad_alloc later).
TEST(DslDiagnostics, ActivationsTooLargeToAllocate) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 65536, height: 8192, width: 8192}
classes: 10
network:
  - conv: {out: 8, kernel: 3}
  - head: {}
)yaml"),
      R"txt(t.yaml:3:8: error: input: expected at most 2^30 values (4 GiB of float32) in one image's activation, got 65536x8192x8192 = 4.398e+12 values (1.638e+04 GiB of float32)
)txt");
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 8192, width: 8192}
classes: 10
network:
  - conv: {out: {choice: [8, 32]}, kernel: 3}
  - head: {}
)yaml"),
      R"txt(t.yaml:6:5: error: network[0]: expected at most 2^30 values (4 GiB of float32) in one image's activation, got {8,32}x8192x8192 = 2.147e+09 values (8 GiB of float32)
)txt");
}

TEST(DslDiagnostics, LayerAndBlockShapesOfItems) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
network:
  - {conv: {out: 8, kernel: 3}, pool: {}}
  - stem: {convv: {out: 8, kernel: 3}}
  - stem: {conv: {out: 8, kernel: 3}, mbconv: {}}
  - stage: [1]
  - repeat: {times: 65, body: []}
  - repeat: {times: 2, body: []}
  - head: {classifier: mlp}
)yaml"),
      R"txt(t.yaml:6:5: error: network[0]: expected a mapping with one layer kind (stem, stage, cell, head, ...), got 2 keys
t.yaml:7:12: error: network[1].stem.convv: expected a block kind (conv, mbconv, resblock, shufflenet, xception, choose), got 'convv' (did you mean 'conv'?)
t.yaml:8:11: error: network[2].stem: expected a mapping with one block kind (conv, mbconv, resblock, shufflenet, xception, choose), got 2 keys
t.yaml:9:12: error: network[3].stage: expected {depth, out, stride, block}, got a sequence
t.yaml:10:21: error: network[4].repeat.times: expected a repeat count in [1, 64], got 65
t.yaml:11:30: error: network[5].repeat.body: expected a layer or a non-empty sequence of layers, got nothing
t.yaml:12:24: error: network[6].head.classifier: expected linear or {hidden: N}, got 'mlp'
)txt");
}

TEST(DslDiagnostics, CellDefinitionShapes) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
cells:
  bad!: {nodes: 2, edges: dense, op: {choice: [nor_conv_3x3]}}
  a: {nodes: 1, edges: dense, op: {choice: [nor_conv_3x3]}}
  b: {nodes: 3, edges: [[0]], op: {choice: [nor_conv_3x3]}}
  c: {nodes: 3, edges: [[0, 2]], op: {choice: [nor_conv_3x3]}}
  d: {nodes: 3, edges: sparse, op: {choice: [nor_conv_3x3]}}
  e: {nodes: 3, edges: dense, op: {range: {min: 1, max: 3}}}
  f: {nodes: 3, edges: dense, op: {choice: [[nor_conv_3x3]]}}
network:
  - cell: [c]
  - head: {}
)yaml"),
      R"txt(t.yaml:6:3: error: cells.bad!: expected a cell name of letters, digits, '_' and '-', got 'bad!'
t.yaml:7:14: error: cells.a.nodes: expected a node count in [2, 16] (inputs plus at least one node), got 1
t.yaml:8:25: error: cells.b.edges[0]: expected an edge [from, to] or [from, to, op], got a sequence
t.yaml:9:24: error: cells.c.edges: expected at least one edge into node 1, got none
t.yaml:10:24: error: cells.d.edges: expected dense, a sequence of [from, to] or [from, to, op] edges or {choose: K}, got 'sparse'
t.yaml:11:36: error: cells.e.op.range: expected choice for op values, got range
t.yaml:12:45: error: cells.f.op.choice[0]: expected an op name, got a sequence
t.yaml:14:11: error: network[0].cell: expected a cell name or {name, out, stride}, got a sequence
)txt");
}

TEST(DslDiagnostics, OneInputCellNeedsAFixedWidth) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
cells:
  one: {nodes: 2, edges: dense, op: {choice: [nor_conv_3x3, avg_pool_3x3]}}
network:
  - conv: {out: {choice: [8, 16]}, kernel: 3}
  - cell: one
  - head: {}
)yaml"),
      R"txt(t.yaml:9:11: error: network[1].cell: expected fixed input channels for cell 'one' (or an explicit out), got {8, 16}
)txt");
}

TEST(DslDiagnostics, TwoInputCellNeedsEqualOrTwiceTheResolution) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
cells:
  two: {inputs: 2, nodes: 3, edges: {choose: 1}, op: {choice: [nor_conv_3x3, skip_connect]}}
network:
  - conv: {out: 8, kernel: 3}
  - conv: {out: 8, kernel: 3, stride: 4}
  - cell: two
  - head: {}
)yaml"),
      R"txt(t.yaml:10:11: error: network[2].cell: expected the two inputs of cell 'two' at equal or twice the resolution, got 8x32x32 and 8x8x8
)txt");
}

TEST(DslDiagnostics, DomainForms) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
let:
  a.b: {choice: [1, 2]}
  E: {choice: []}
  F: {range: {min: 1, max: 10000}}
  G: {range: {min: 1, max: 5, step: 0}}
network:
  - mbconv: {out: 8, kernel: 3, expand: $E, se: {choice: [true, maybe]}}
  - conv: {out: $F, kernel: 3}
  - conv: {out: $G, kernel: 3}
  - head: {}
)yaml"),
      R"txt(t.yaml:6:3: error: let.a.b: expected a domain name of letters, digits, '_' and '-', got 'a.b'
t.yaml:7:15: error: let.E.choice: expected a non-empty sequence of values, got an empty sequence
t.yaml:11:65: error: network[0].mbconv.se.choice[1]: expected true or false, got 'maybe'
t.yaml:8:14: error: let.F.range: expected at most 4096 values, got 10000
t.yaml:9:37: error: let.G.range.step: expected an integer > 0, got 0
)txt");
}

TEST(DslDiagnostics, ConstraintForms) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
network:
  - head: {}
constraints:
  - params
  - {params: {}}
  - {params: {max: -1}}
  - {params: {most: 3}}
)yaml"),
      R"txt(t.yaml:8:5: error: constraints[0]: expected {METRIC: {min: X, max: Y}}, got 'params'
t.yaml:9:14: error: constraints[1].params: expected min or max, got neither
t.yaml:10:20: error: constraints[2].params.max: expected a number >= 0, got -1
t.yaml:11:15: error: constraints[3].params.most: expected one of min, max, got unknown key 'most'
)txt");
}

TEST(DslDiagnostics, ComplexKey) {
  EXPECT_EQ(diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
network:
  - head: {}
? [a, b]
: 1
)yaml"),
            R"txt(t.yaml:7:3: error: document: expected a plain scalar key, got a complex key
)txt");
}

TEST(DslDiagnostics, PatchRange) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
network:
  - patch_embed: {patch: 0, dim: 64}
  - head: {}
)yaml"),
      R"txt(t.yaml:6:26: error: network[0].patch_embed.patch: expected a patch size in [1, 64], got 0
)txt");
}

}  // namespace
}  // namespace nasforge
