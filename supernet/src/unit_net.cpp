// Standalone unit modules. Blocks, pools, heads and patch embeddings reuse the supernet's own
// layer modules with every parameter fixed, then extract them, so a unit runs exactly the code
// a network of the space runs; cell ops and encoder layers come from their files' factories.
#include "nasforge/supernet/unit_net.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "internal/layers.h"
#include "nasforge/supernet/supernet.h"

namespace nasforge::supernet {

namespace {

IntParam fixed(int64_t v) { return IntParam{v, -1}; }

Shape image(const Unit& u) {
  Shape s;
  s.channels = {u.in};
  s.height = u.height;
  s.width = u.width;
  return s;
}

Block block_of(const Unit& u) {
  switch (u.kind) {
    case UnitKind::kConv:
      return ConvBlock{fixed(u.out), fixed(u.kernel), static_cast<int>(u.stride), u.act};
    case UnitKind::kMBConv:
      return MBConvBlock{fixed(u.out),
                         fixed(u.kernel),
                         fixed(u.expand_conv ? u.expand : 1),
                         fixed(u.se),
                         static_cast<int>(u.stride),
                         u.act,
                         static_cast<int>(u.groups),
                         u.expand_conv};
    case UnitKind::kShuffle:
      return ShuffleBlock{fixed(u.out), fixed(u.kernel), static_cast<int>(u.stride), u.xception,
                          u.act};
    default:
      return ResBlock{fixed(u.out), static_cast<int>(u.stride), static_cast<int>(u.kernel),
                      u.projection ? Shortcut::kAuto : Shortcut::kIdentity,
                      u.preact ? ResOrder::kPre : ResOrder::kPost};
  }
}

std::shared_ptr<StaticLayer> build(const Unit& u) {
  static const SearchSpace kNoDecisions;  // every parameter below is fixed
  static const Architecture kEmpty;
  const PathContext ctx{kNoDecisions, kEmpty};
  Layer layer;
  layer.in = image(u);
  switch (u.kind) {
    case UnitKind::kConv:
    case UnitKind::kMBConv:
    case UnitKind::kResBlock:
    case UnitKind::kShuffle: {
      auto block = make_block(kNoDecisions, block_of(u), u.in, SupernetOptions());
      return block->extract(ctx, u.in).layer;
    }
    case UnitKind::kCellOp:
    case UnitKind::kCellPre:
      return make_cell_unit(u);
    case UnitKind::kEncoder:
    case UnitKind::kLayerNorm:
      return make_transformer_unit(u);
    case UnitKind::kPool:
      layer.spec = PoolLayer{u.pool, static_cast<int>(u.kernel), static_cast<int>(u.stride)};
      break;
    case UnitKind::kPatchEmbed:
      layer.spec = PatchEmbedLayer{static_cast<int>(u.kernel), fixed(u.out)};
      break;
    case UnitKind::kHead:
      layer.spec = HeadLayer{
          u.global, 0.0, fixed(u.hidden), u.classes, u.norm ? HeadNorm::kBatch : HeadNorm::kNone,
          u.act};
      layer.in.tokens = u.tokens;
      break;
  }
  auto module = make_layer(kNoDecisions, layer, layer.in, SupernetOptions());
  return module->extract(ctx, Widths{u.in, u.in}).layer;
}

}  // namespace

UnitNetImpl::UnitNetImpl(const Unit& unit, uint64_t seed) : unit_(unit) {
  auto layer = build(unit);
  register_module("unit", layer);
  run_ = [layer](const at::Tensor& x) { return layer->run(x, x); };
  lower_ = [layer](const std::vector<int64_t>& shape) {
    GraphBuilder g(shape);
    return g.finish(layer->lower(g, 0, 0));
  };
  initialize_weights(*this, seed);  // as the supernet draws them, so timings see alike values
  eval();
}

at::Tensor UnitNetImpl::forward(const at::Tensor& x) { return run_(x); }

std::vector<int64_t> UnitNetImpl::input_shape(int64_t batch) const {
  if (unit_.tokens) return {batch, unit_.height, unit_.in};
  return {batch, unit_.in, unit_.height, unit_.width};
}

}  // namespace nasforge::supernet
