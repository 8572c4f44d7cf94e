// The graph template of a search space: typed layers whose parameters are either fixed or
// bound to a decision. This is what the supernet compiler, the cost models and the exporters
// read; it holds no torch types.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "nasforge/searchspace/diagnostics.h"

namespace nasforge {

// A value that is fixed, or bound to decision `decision` (then `fixed` is unused).
struct IntParam {
  int64_t fixed = 0;
  int decision = -1;
  bool is_decision() const { return decision >= 0; }
};

enum class Activation { kRelu, kRelu6, kHswish, kSwish, kGelu, kNone };  // kSwish: x * sigmoid(x)
const char* activation_name(Activation a);

// Tensor shape flowing between layers. Spatial sizes are fixed (strides are never decisions);
// channels are the set of widths the layer can see across the space.
struct Shape {
  bool tokens = false;            // a token sequence (transformer) instead of an image
  std::vector<int64_t> channels;  // sorted, unique; for tokens: the embedding widths
  int64_t height = 0;             // for tokens: the number of tokens
  int64_t width = 0;              // for tokens: 1
  std::string str() const;        // "{16,24}x14x14" or "64 tokens x {96,128}"
};

struct ConvBlock {
  IntParam out, kernel;
  int stride = 1;
  Activation act = Activation::kRelu;
};

// Inverted residual (MobileNetV2/V3). The residual is used when stride is 1 and the input and
// output widths are equal. groups > 1 (FBNet's k3_e1_g2): both 1x1 convolutions are grouped,
// the expansion is kept even at expand 1, and a channel shuffle follows it.
struct MBConvBlock {
  IntParam out, kernel, expand, se;  // se: 0 or 1
  int stride = 1;
  Activation act = Activation::kRelu6;
  int groups = 1;
  bool expand_conv = false;  // keep the 1x1 expansion at expand 1 (FBNet's IRF block does)
  // Whether the block has its 1x1 expansion (MobileNetV2 drops it at expand 1).
  bool has_expand() const {
    return expand.is_decision() || expand.fixed != 1 || groups > 1 || expand_conv;
  }
};

// ShuffleNetV2's unit, as SPOS searches it. Stride 1: the input's channels are shuffled and
// split in half; one half passes on, the other runs the main branch, and the two are
// concatenated. Stride 2: the whole input runs the main branch and a projection branch
// (depthwise kxk, stride 2, + 1x1). Main branch: 1x1 -> depthwise kxk -> 1x1 (shufflenet), or
// three depthwise 3x3 + 1x1 pairs (xception). Input and output widths are fixed.
struct ShuffleBlock {
  IntParam out, kernel;
  int stride = 1;
  bool xception = false;
  Activation act = Activation::kRelu;
};

enum class Shortcut { kAuto, kIdentity };  // auto: 1x1 projection when shapes differ

// Two 3x3 conv-BN-ReLU layers plus a shortcut (ResNet basic block, as in NAS-Bench-201).
// kPost: conv -> BN -> ReLU, conv -> BN, the shortcut added, then ReLU (ResNet's basic block).
// kPre: ReLU -> conv -> BN twice and the shortcut added, no ReLU after; a strided projection is
// an average pool then a 1x1 conv without BN, an unstrided one ReLU -> 1x1 conv -> BN
// (NAS-Bench-201's ResNetBasicblock).
enum class ResOrder { kPost, kPre };
struct ResBlock {
  IntParam out;
  int stride = 1;
  int kernel = 3;
  Shortcut shortcut = Shortcut::kAuto;
  ResOrder order = ResOrder::kPost;
};

// The `identity` alternative of a layer choice: the input passes on. Where the output shape
// differs (another width, or stride 2) it is a 1x1 conv + BN projection (NAS-Bench-Macro's
// downsampling identity); `project` says so.
struct IdentityBlock {
  IntParam out;
  int stride = 1;
  bool project = false;
};

// The `zero` alternative (ProxylessNAS): the layer's own computation is dropped. Only allowed
// where the layer's input and output shapes are equal, so that the residual path keeps the
// network connected; the layer then passes its input on, as `identity` does.
struct ZeroBlock {
  IntParam out;
  int stride = 1;
};

// The blocks a layer choice chooses among.
using Alternative =
    std::variant<ConvBlock, MBConvBlock, ResBlock, ShuffleBlock, IdentityBlock, ZeroBlock>;

// A layer choice (NNI's LayerChoice, FBNet's candidate blocks): decision `decision` picks one
// alternative; each alternative's own decisions are active only while it is chosen.
struct ChoiceBlock {
  int decision = -1;                      // its domain's names are `names`
  std::vector<std::string> names;         // "mbconv_k3_e3", "identity", "zero", or given names
  std::vector<Alternative> alternatives;  // parallel to names
  IntParam out;                           // the output width every alternative produces
  int stride = 1;
};

using Block = std::variant<ConvBlock, MBConvBlock, ResBlock, ShuffleBlock, ChoiceBlock>;

// Whether T is one of Block's kinds (they stand alone as layers, too).
template <typename T>
inline constexpr bool is_block_v =
    std::is_same_v<T, ConvBlock> || std::is_same_v<T, MBConvBlock> || std::is_same_v<T, ResBlock> ||
    std::is_same_v<T, ShuffleBlock> || std::is_same_v<T, ChoiceBlock>;

// Elastic-depth stage: blocks past the active depth are skipped.
struct StageLayer {
  IntParam depth;
  IntParam out;               // shared by every block of the stage
  int stride = 1;             // applied by the first block
  std::vector<Block> blocks;  // max depth blocks; block i runs iff depth > i
};

struct CellLayer {
  int cell = 0;       // index into SearchSpace::cells()
  int64_t width = 0;  // channels of every node
  int stride = 1;     // applied to edges leaving the cell's input nodes
};

enum class PoolKind { kMax, kAvg };
struct PoolLayer {
  PoolKind kind = PoolKind::kMax;
  int kernel = 3;
  int stride = 2;
};

// Splits an image into patch x patch tokens and projects each to `dim` (the hidden width).
struct PatchEmbedLayer {
  int patch = 4;
  IntParam dim;
};

struct EncoderBlock {
  IntParam heads, ffn;
};

// Pre-norm transformer encoder: layers past the active count are skipped.
struct EncoderLayer {
  IntParam layers;
  std::vector<EncoderBlock> blocks;  // max layers
  double dropout = 0.0;
};

enum class GlobalPool { kAvg, kMax, kFlatten };
enum class HeadNorm { kNone, kBatch };
struct HeadLayer {
  GlobalPool pool = GlobalPool::kAvg;
  double dropout = 0.0;
  IntParam hidden;  // 0: a single linear classifier
  int64_t classes = 0;
  // Before pooling: a norm over the input's channels, then an activation (NAS-Bench-201's
  // `lastact`, BN then ReLU). Image inputs only for the norm.
  HeadNorm norm = HeadNorm::kNone;
  Activation act = Activation::kNone;
};

using LayerSpec =
    std::variant<ConvBlock, MBConvBlock, ResBlock, ShuffleBlock, ChoiceBlock, StageLayer, CellLayer,
                 PoolLayer, PatchEmbedLayer, EncoderLayer, HeadLayer>;

struct Layer {
  std::string name;  // "stem", "stage1", "cell3", "head", ...
  LayerSpec spec;
  Shape in, out;
  SourceLoc loc;
};

// Intermediate nodes always sum their incoming edges. `combine` says how the cell's output is
// formed: kSum - the last node is the output (NAS-Bench-201); kConcat - the channel
// concatenation of every non-input node (DARTS).
enum class Combine { kSum, kConcat };

// An edge of a cell whose op is decision `op`.
struct CellEdge {
  int from = 0, to = 0;
  int op = -1;
};

// A node that chooses `k` inputs among its predecessors (DARTS): decision `inputs` picks the
// set, and `ops[i]` the op on the i-th chosen input (in increasing source order).
struct CellNodeChoice {
  int node = 0;
  int inputs = -1;
  std::vector<std::vector<int>> input_sets;  // parallel to the inputs decision's domain
  std::vector<int> ops;
};

struct CellTemplate {
  std::string name;
  int inputs = 1;  // nodes 0..inputs-1 are the cell's inputs
  int nodes = 4;   // including the inputs
  Combine combine = Combine::kSum;
  int choose = 0;                       // >0: each node chooses this many inputs
  std::vector<CellEdge> edges;          // fixed edge set (dense or listed), ordered by (to, from)
  std::vector<CellNodeChoice> choices;  // for choose > 0, one per non-input node
  SourceLoc loc;
};

}  // namespace nasforge
