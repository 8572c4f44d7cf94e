// The concrete operations one architecture runs, with their shapes: the seam between a search
// space and everything that costs it (exact params and MACs, latency tables, device backends).
// A unit is what a latency table keys on: a block, one cell edge's op, a pool, a head, one
// encoder layer. Computed from the template alone, no tensors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nasforge/searchspace/search_space.h"

namespace nasforge {

enum class UnitKind {
  kConv,        // conv -> BN -> act (ConvBlock)
  kMBConv,      // inverted residual (MBConvBlock)
  kResBlock,    // two conv-BN layers plus a shortcut (ResBlock)
  kShuffle,     // ShuffleNetV2 / Xception unit (ShuffleBlock)
  kCellOp,      // one live edge of a cell: op is the cell op's name
  kCellPre,     // a two-input cell's preprocessing: ReLU-conv1x1-BN, or factorized reduce
  kPool,        // max or avg pooling layer
  kPatchEmbed,  // patch x patch conv to `out` features, plus position embeddings
  kEncoder,     // one pre-norm encoder layer
  kLayerNorm,   // the encoder's final norm
  kHead,        // [BN] -> [act] -> global pool -> [hidden linear -> ReLU] -> classifier
};
const char* unit_kind_name(UnitKind k);

struct Unit {
  UnitKind kind = UnitKind::kConv;
  std::string op;                   // cell op name; kCellPre: "relu_conv_bn" or "factorized_reduce"
  int64_t in = 0, out = 0;          // channels (features for tokens)
  int64_t height = 0, width = 0;    // input spatial size; tokens: (count, 1)
  int64_t kernel = 0, stride = 1;   // conv-like units; kPool: window; kPatchEmbed: patch
  int64_t expand = 0, se = 0;       // kMBConv
  int64_t groups = 1;               // kMBConv: groups of both 1x1 convolutions
  int64_t heads = 0, ffn = 0;       // kEncoder
  int64_t hidden = 0, classes = 0;  // kHead
  int64_t terms = 0;                // kHead: pooled positions
  Activation act = Activation::kNone;
  PoolKind pool = PoolKind::kMax;        // kPool
  GlobalPool global = GlobalPool::kAvg;  // kHead
  bool residual = false;                 // kMBConv: adds its input
  bool expand_conv = false;  // kMBConv: has the 1x1 expansion (expand may be a decision)
  bool projection = false;   // kResBlock: 1x1 shortcut
  bool tokens = false;       // the input is N x T x D tokens (height = T, width = 1)
  int layer = -1;            // index of the space's layer it belongs to (not part of the key)
  int part = -1;  // within its layer: a stage's block, an encoder's layer, a cell edge's target
                  // node (-1: the whole layer, a cell's preprocessing); not part of the key
  bool max_pool = false;  // kCellOp pools
  bool xception = false;  // kShuffle: the Xception main branch
  bool norm = false;      // kHead: a batch norm before pooling (then `act`)
  bool preact = false;    // kResBlock: ResOrder::kPre

  // Output spatial size (same padding): ceil(in / stride), or in / patch for patch embedding.
  int64_t out_height() const;
  int64_t out_width() const;
  // Everything that changes the unit's cost, as a stable string: the latency table's key.
  std::string key() const;
  // A 64-bit hash of the same fields as key(), without building a string: for fast lookups.
  uint64_t id() const;
};

// Which cell ops count. An op whose output never reaches the cell's output (it feeds a node
// that reaches the output only through `none`), or whose input no cell input reaches, computes
// nothing the network uses.
enum class Counting {
  kAsDeployed,     // dropped, as nasforge's extraction and export drop them (the default)
  kAsImplemented,  // kept, as NAS-Bench-201's reference implementation builds and runs them;
                   // the published NAS-Bench-201 parameter counts and latencies are of these
};
const char* counting_name(Counting c);  // "deployed", "implemented"
std::optional<Counting> parse_counting(const std::string& name);

// The units `a` runs, in execution order. Without `with_cells`, cell layers contribute none
// (for callers that price a cell as a whole, by its genotype).
std::vector<Unit> units(const SearchSpace& space, const Architecture& a, bool with_cells = true,
                        Counting counting = Counting::kAsDeployed);

// Every distinct unit (by key) that some architecture of the space runs, in a stable order,
// found without enumerating architectures: per layer, the product of the values that layer's
// units can see (input widths, the layer's own decisions). Fails when that exceeds `limit`.
StatusOr<std::vector<Unit>> distinct_units(const SearchSpace& space, size_t limit = 200000);

// The squeeze-excite width of an MBConv block whose hidden width is `mid` (mid / 4 rounded to
// a multiple of 8, MobileNetV3's rule). The supernet and the cost models share it.
int64_t se_width(int64_t mid);
int64_t make_divisible(double v, int64_t divisor = 8);

}  // namespace nasforge
