// The units an architecture runs, and every distinct unit a space can produce.
#include "nasforge/searchspace/units.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "internal/unit_decisions.h"
#include "nasforge/searchspace/ops.h"

namespace nasforge {

const char* unit_kind_name(UnitKind k) {
  switch (k) {
    case UnitKind::kConv:
      return "conv";
    case UnitKind::kMBConv:
      return "mbconv";
    case UnitKind::kResBlock:
      return "resblock";
    case UnitKind::kShuffle:
      return "shuffle";
    case UnitKind::kCellOp:
      return "cell_op";
    case UnitKind::kCellPre:
      return "cell_pre";
    case UnitKind::kPool:
      return "pool";
    case UnitKind::kPatchEmbed:
      return "patch_embed";
    case UnitKind::kEncoder:
      return "encoder";
    case UnitKind::kLayerNorm:
      return "layer_norm";
    case UnitKind::kHead:
      return "head";
  }
  return "?";
}

int64_t make_divisible(double v, int64_t divisor) {
  int64_t r =
      std::max<int64_t>(divisor, static_cast<int64_t>(v + divisor / 2.0) / divisor * divisor);
  if (static_cast<double>(r) < 0.9 * v) r += divisor;
  return r;
}

int64_t se_width(int64_t mid) { return make_divisible(static_cast<double>(mid) / 4.0); }

namespace {
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
}  // namespace

int64_t Unit::out_height() const {
  if (kind == UnitKind::kPatchEmbed) return height / kernel;
  if (kind == UnitKind::kCellPre && op == "factorized_reduce") return ceil_div(height, 2);
  return ceil_div(height, stride);
}

int64_t Unit::out_width() const {
  if (kind == UnitKind::kPatchEmbed) return width / kernel;
  if (kind == UnitKind::kCellPre && op == "factorized_reduce") return ceil_div(width, 2);
  return ceil_div(width, stride);
}

std::string Unit::key() const {
  std::ostringstream o;
  o << unit_kind_name(kind);
  if (!op.empty()) o << ' ' << op;
  o << " in=" << in << " out=" << out << " hw=" << height << 'x' << width;
  switch (kind) {
    case UnitKind::kConv:
      o << " k=" << kernel << " s=" << stride << " act=" << activation_name(act);
      break;
    case UnitKind::kMBConv:
      o << " k=" << kernel << " s=" << stride << " e=" << expand << (expand_conv ? "" : "(no1x1)")
        << " se=" << se << " act=" << activation_name(act) << (residual ? " res" : "");
      if (groups > 1) o << " g=" << groups;
      break;
    case UnitKind::kShuffle:
      o << " k=" << kernel << " s=" << stride << (xception ? " xception" : "")
        << " act=" << activation_name(act);
      break;
    case UnitKind::kResBlock:
      o << " k=" << kernel << " s=" << stride << (projection ? " proj" : "")
        << (preact ? " pre" : "");  // only when set, so the keys of earlier profiles stay valid
      break;
    case UnitKind::kCellOp:
    case UnitKind::kCellPre:
      o << " s=" << stride;
      break;
    case UnitKind::kPool:
      o << (pool == PoolKind::kMax ? " max" : " avg") << " k=" << kernel << " s=" << stride;
      break;
    case UnitKind::kPatchEmbed:
      o << " patch=" << kernel;
      break;
    case UnitKind::kEncoder:
      o << " heads=" << heads << " ffn=" << ffn;
      break;
    case UnitKind::kLayerNorm:
      break;
    case UnitKind::kHead:
      o << " pool="
        << (global == GlobalPool::kAvg   ? "avg"
            : global == GlobalPool::kMax ? "max"
                                         : "flatten")
        << " hidden=" << hidden << " classes=" << classes << (tokens ? " tokens" : "");
      if (norm) o << " bn";  // only when set, so the keys of earlier profiles stay valid
      if (act != Activation::kNone) o << " act=" << activation_name(act);
      break;
  }
  return o.str();
}

uint64_t Unit::id() const {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 1099511628211ull;
  };
  for (char c : op) mix(static_cast<unsigned char>(c));
  for (int64_t v : {static_cast<int64_t>(kind), in, out, height, width, kernel, stride, expand, se,
                    groups, heads, ffn, hidden, classes, terms, static_cast<int64_t>(act),
                    static_cast<int64_t>(pool), static_cast<int64_t>(global)})
    mix(static_cast<uint64_t>(v));
  mix((residual ? 1u : 0u) | (expand_conv ? 2u : 0u) | (projection ? 4u : 0u) | (tokens ? 8u : 0u) |
      (max_pool ? 16u : 0u) | (xception ? 32u : 0u) | (norm ? 64u : 0u) | (preact ? 128u : 0u));
  return h;
}

namespace {

// Input of a layer on one path.
struct Flow {
  int64_t channels = 0, height = 0, width = 0;
};

// The unit of one plain block (conv, mbconv, resblock), or of an alternative of a layer choice:
// none for zero and for an identity that passes its input on, a 1x1 conv + BN for an identity
// that projects.
template <typename B>
std::optional<Unit> plain_unit(const SearchSpace& space, const Architecture& a, const B& block,
                               const Flow& in) {
  Unit u;
  u.in = in.channels;
  u.height = in.height;
  u.width = in.width;
  using T = std::decay_t<B>;
  if constexpr (std::is_same_v<T, ConvBlock>) {
    u.kind = UnitKind::kConv;
    u.out = space.value(a, block.out);
    u.kernel = space.value(a, block.kernel);
    u.stride = block.stride;
    u.act = block.act;
  } else if constexpr (std::is_same_v<T, MBConvBlock>) {
    u.kind = UnitKind::kMBConv;
    u.out = space.value(a, block.out);
    u.kernel = space.value(a, block.kernel);
    u.expand = space.value(a, block.expand);
    u.se = space.value(a, block.se);
    u.stride = block.stride;
    u.act = block.act;
    u.expand_conv = block.has_expand();
    u.groups = block.groups;
    u.residual = block.stride == 1 && u.in == u.out;
  } else if constexpr (std::is_same_v<T, ResBlock>) {
    u.kind = UnitKind::kResBlock;
    u.out = space.value(a, block.out);
    u.kernel = block.kernel;
    u.stride = block.stride;
    u.projection = block.shortcut != Shortcut::kIdentity && (block.stride != 1 || u.in != u.out);
    u.preact = block.order == ResOrder::kPre;
  } else if constexpr (std::is_same_v<T, ShuffleBlock>) {
    u.kind = UnitKind::kShuffle;
    u.out = space.value(a, block.out);
    u.kernel = space.value(a, block.kernel);
    u.stride = block.stride;
    u.xception = block.xception;
    u.act = block.act;
  } else if constexpr (std::is_same_v<T, IdentityBlock>) {
    if (!block.project) return std::nullopt;
    u.kind = UnitKind::kConv;
    u.out = space.value(a, block.out);
    u.kernel = 1;
    u.stride = block.stride;
    u.act = Activation::kNone;
  } else {
    static_assert(std::is_same_v<T, ZeroBlock>);
    return std::nullopt;
  }
  return u;
}

// The unit of one block spec (a layer's own, or a stage's block): a choice's is its chosen
// alternative's. Takes the spec itself, so that layers need not be copied into a Block first.
template <typename T>
std::optional<Unit> spec_unit(const SearchSpace& space, const Architecture& a, const T& b,
                              const Flow& in) {
  if constexpr (std::is_same_v<T, ChoiceBlock>) {
    return std::visit([&](const auto& alt) { return plain_unit(space, a, alt, in); },
                      b.alternatives[a[b.decision]]);
  } else {
    return plain_unit(space, a, b, in);
  }
}

std::optional<Unit> block_unit(const SearchSpace& space, const Architecture& a, const Block& block,
                               const Flow& in) {
  return std::visit([&](const auto& b) { return spec_unit(space, a, b, in); }, block);
}

Flow after(const Unit& u) { return {u.out, u.out_height(), u.out_width()}; }

// The ops on a cell's edges, as units, plus its preprocessing.
struct CellGeometry {
  const CellTemplate* cell;
  const CellLayer* spec;
  Flow in, older;
};

Unit cell_pre(const CellGeometry& g, bool first) {
  Unit u;
  u.kind = UnitKind::kCellPre;
  const Flow& f = first ? g.older : g.in;
  u.in = f.channels;
  u.out = g.spec->width;
  u.height = f.height;
  u.width = f.width;
  u.kernel = 1;
  const bool reduce = first && g.older.height != g.in.height;
  u.op = reduce ? "factorized_reduce" : "relu_conv_bn";
  u.stride = reduce ? 2 : 1;
  return u;
}

Unit cell_edge(const CellGeometry& g, int from, const std::string& op) {
  const CellTemplate& c = *g.cell;
  const bool from_input = from < c.inputs;
  Unit u;
  u.kind = UnitKind::kCellOp;
  u.op = op;
  u.in = from_input && c.inputs == 1 ? g.in.channels : g.spec->width;
  u.out = g.spec->width;
  u.stride = from_input ? g.spec->stride : 1;
  u.height = from_input ? g.in.height : ceil_div(g.in.height, g.spec->stride);
  u.width = from_input ? g.in.width : ceil_div(g.in.width, g.spec->stride);
  const CellOp* info = find_cell_op(op);
  u.kernel = info ? info->kernel : 0;
  u.max_pool = info && info->kind == CellOpKind::kMaxPool;
  return u;
}

Unit pool_unit(const PoolLayer& p, const Flow& in) {
  Unit u;
  u.kind = UnitKind::kPool;
  u.in = u.out = in.channels;
  u.height = in.height;
  u.width = in.width;
  u.kernel = p.kernel;
  u.stride = p.stride;
  u.pool = p.kind;
  return u;
}

Unit head_unit(const SearchSpace& space, const Architecture& a, const HeadLayer& h, const Flow& in,
               bool tokens) {
  Unit u;
  u.kind = UnitKind::kHead;
  u.in = in.channels;
  u.height = in.height;
  u.width = in.width;
  u.global = h.pool;
  u.norm = h.norm == HeadNorm::kBatch;
  u.act = h.act;
  u.hidden = space.value(a, h.hidden);
  u.classes = h.classes;
  u.out = h.classes;
  u.terms = tokens ? in.height : in.height * in.width;
  u.tokens = tokens;
  return u;
}

Unit encoder_unit(const SearchSpace& space, const Architecture& a, const EncoderBlock& b,
                  const Flow& in) {
  Unit u;
  u.kind = UnitKind::kEncoder;
  u.in = u.out = in.channels;
  u.height = in.height;
  u.width = 1;
  u.tokens = true;
  u.heads = space.value(a, b.heads);
  u.ffn = space.value(a, b.ffn);
  return u;
}

Unit norm_unit(const Flow& in) {
  Unit u;
  u.kind = UnitKind::kLayerNorm;
  u.tokens = true;
  u.in = u.out = in.channels;
  u.height = in.height;
  u.width = 1;
  return u;
}

Unit patch_unit(const SearchSpace& space, const Architecture& a, const PatchEmbedLayer& p,
                const Flow& in) {
  Unit u;
  u.kind = UnitKind::kPatchEmbed;
  u.in = in.channels;
  u.out = space.value(a, p.dim);
  u.height = in.height;
  u.width = in.width;
  u.kernel = p.patch;
  u.stride = p.patch;
  return u;
}

CellGeometry geometry(const SearchSpace& space, size_t i, const Flow& cur, const Flow& older) {
  const auto& spec = std::get<CellLayer>(space.layers()[i].spec);
  return {&space.cells()[spec.cell], &spec, cur, older};
}

Flow flow_of(const Shape& s, int64_t channels) { return {channels, s.height, s.width}; }

}  // namespace

const char* counting_name(Counting c) {
  return c == Counting::kAsImplemented ? "implemented" : "deployed";
}

std::optional<Counting> parse_counting(const std::string& name) {
  if (name == "deployed") return Counting::kAsDeployed;
  if (name == "implemented") return Counting::kAsImplemented;
  return std::nullopt;
}

std::vector<Unit> units(const SearchSpace& space, const Architecture& a, bool with_cells,
                        Counting counting) {
  std::vector<Unit> out;
  std::vector<std::optional<std::vector<SearchSpace::LiveEdge>>> live_by_cell(space.cells().size());
  const auto& layers = space.layers();
  Flow cur{space.input().channels, space.input().height, space.input().width};
  Flow older = cur;
  for (size_t i = 0; i < layers.size(); ++i) {
    const Layer& layer = layers[i];
    Flow next = cur;
    const size_t first_of_layer = out.size();
    std::visit(
        [&](const auto& spec) {
          using T = std::decay_t<decltype(spec)>;
          if constexpr (is_block_v<T>) {
            // An identity or zero choice runs nothing and keeps the shape.
            if (auto u = spec_unit(space, a, spec, cur)) {
              out.push_back(*u);
              next = after(*u);
            }
          } else if constexpr (std::is_same_v<T, StageLayer>) {
            const int64_t depth = space.value(a, spec.depth);
            for (int64_t b = 0; b < depth; ++b) {
              if (auto u = block_unit(space, a, spec.blocks[b], next)) {
                out.push_back(*u);
                out.back().part = static_cast<int>(b);
                next = after(*u);
              }
            }
          } else if constexpr (std::is_same_v<T, CellLayer>) {
            CellGeometry g = geometry(space, i, cur, older);
            if (with_cells && g.cell->inputs == 2) {
              out.push_back(cell_pre(g, true));
              out.push_back(cell_pre(g, false));
            }
            // Layers of one cell template share its genotype: compute its live edges once.
            if (with_cells) {
              auto& live = live_by_cell[spec.cell];
              if (!live)
                live = counting == Counting::kAsImplemented ? space.op_edges(a, spec.cell)
                                                            : space.live_edges(a, spec.cell);
              for (const auto& e : *live) {
                out.push_back(cell_edge(g, e.from, e.op));
                out.back().part = e.to;
              }
            }
            const int64_t n =
                g.cell->combine == Combine::kConcat ? g.cell->nodes - g.cell->inputs : 1;
            next = {spec.width * n, ceil_div(cur.height, spec.stride),
                    ceil_div(cur.width, spec.stride)};
          } else if constexpr (std::is_same_v<T, PoolLayer>) {
            out.push_back(pool_unit(spec, cur));
            next = after(out.back());
          } else if constexpr (std::is_same_v<T, PatchEmbedLayer>) {
            out.push_back(patch_unit(space, a, spec, cur));
            next = {out.back().out, out.back().out_height() * out.back().out_width(), 1};
          } else if constexpr (std::is_same_v<T, EncoderLayer>) {
            const int64_t n = space.value(a, spec.layers);
            for (int64_t l = 0; l < n; ++l) {
              out.push_back(encoder_unit(space, a, spec.blocks[l], cur));
              out.back().part = static_cast<int>(l);
            }
            out.push_back(norm_unit(cur));
          } else {
            out.push_back(head_unit(space, a, spec, cur, layer.in.tokens));
            next = {spec.classes, 1, 1};
          }
        },
        layer.spec);
    for (size_t k = first_of_layer; k < out.size(); ++k) out[k].layer = static_cast<int>(i);
    older = i == 0 ? next : cur;
    cur = next;
  }
  return out;
}

namespace {

// Calls f for every assignment of `decisions` (the others stay 0).
void for_each_assignment(const SearchSpace& space, std::vector<int> decisions,
                         const std::function<void(const Architecture&)>& f) {
  std::sort(decisions.begin(), decisions.end());
  decisions.erase(std::unique(decisions.begin(), decisions.end()), decisions.end());
  decisions.erase(std::remove(decisions.begin(), decisions.end(), -1), decisions.end());
  Architecture a(std::vector<uint32_t>(space.decisions().size(), 0));
  while (true) {
    f(a);
    size_t i = 0;
    for (; i < decisions.size(); ++i) {
      const int d = decisions[i];
      if (++a[d] < space.decisions()[d].domain.size()) break;
      a[d] = 0;
    }
    if (i == decisions.size()) return;
  }
}

}  // namespace

// The decisions a block's unit depends on (-1 for fixed parameters); a choice's are its own and
// those of every alternative.
std::vector<int> block_decisions(const Block& block) {
  std::vector<int> out;
  auto plain = [&](const auto& b) {
    using T = std::decay_t<decltype(b)>;
    out.push_back(b.out.decision);
    if constexpr (std::is_same_v<T, ConvBlock> || std::is_same_v<T, ShuffleBlock>)
      out.push_back(b.kernel.decision);
    if constexpr (std::is_same_v<T, MBConvBlock>)
      out.insert(out.end(), {b.kernel.decision, b.expand.decision, b.se.decision});
  };
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, ChoiceBlock>) {
          out.push_back(b.decision);
          for (const auto& alt : b.alternatives) std::visit(plain, alt);
        } else {
          plain(b);
        }
      },
      block);
  return out;
}

IntParam block_out(const Block& block) {
  return std::visit([](const auto& b) { return b.out; }, block);
}

StatusOr<std::vector<Unit>> distinct_units(const SearchSpace& space, size_t limit) {
  std::vector<Unit> found;
  std::set<std::string> seen;
  size_t visited = 0;
  bool over = false;
  auto add = [&](const Unit& u) {
    if (++visited > limit * 8) over = true;
    if (seen.insert(u.key()).second) found.push_back(u);
    if (found.size() > limit) over = true;
  };
  const auto& layers = space.layers();
  // The widths a layer's input (and a two-input cell's older input) can have.
  for (size_t i = 0; i < layers.size() && !over; ++i) {
    const Layer& layer = layers[i];
    const Shape& older_shape = i == 0 ? layers[0].in : i == 1 ? layers[0].out : layers[i - 1].in;
    std::visit(
        [&](const auto& spec) {
          using T = std::decay_t<decltype(spec)>;
          for (int64_t w : layer.in.channels) {
            const Flow in = flow_of(layer.in, w);
            if constexpr (is_block_v<T>) {
              const auto decisions = block_decisions(Block(spec));
              for_each_assignment(space, decisions, [&](const Architecture& a) {
                if (auto u = spec_unit(space, a, spec, in)) add(*u);
              });
            } else if constexpr (std::is_same_v<T, StageLayer>) {
              // Block b > 0 reads block b - 1's output, at the stage's reduced resolution.
              for (size_t b = 0; b < spec.blocks.size() && !over; ++b) {
                auto ds = block_decisions(spec.blocks[b]);
                if (b > 0) ds.push_back(block_out(spec.blocks[b - 1]).decision);
                for_each_assignment(space, ds, [&](const Architecture& a) {
                  Flow f = in;
                  if (b > 0) {
                    f = {space.value(a, block_out(spec.blocks[b - 1])),
                         ceil_div(in.height, spec.stride), ceil_div(in.width, spec.stride)};
                  }
                  if (auto u = block_unit(space, a, spec.blocks[b], f)) add(*u);
                });
              }
            } else if constexpr (std::is_same_v<T, CellLayer>) {
              for (int64_t ow : older_shape.channels) {
                CellGeometry g = geometry(space, i, in, flow_of(older_shape, ow));
                if (g.cell->inputs == 2) {
                  add(cell_pre(g, true));
                  add(cell_pre(g, false));
                }
                if (g.cell->choose == 0) {
                  for (const auto& e : g.cell->edges) {
                    for (const auto& name : space.decisions()[e.op].domain.names)
                      if (name != "none") add(cell_edge(g, e.from, name));
                  }
                } else {
                  for (const auto& ch : g.cell->choices)
                    for (int from = 0; from < ch.node; ++from)
                      for (const auto& name : space.decisions()[ch.ops[0]].domain.names)
                        if (name != "none") add(cell_edge(g, from, name));
                }
              }
            } else if constexpr (std::is_same_v<T, PoolLayer>) {
              add(pool_unit(spec, in));
            } else if constexpr (std::is_same_v<T, PatchEmbedLayer>) {
              for_each_assignment(space, {spec.dim.decision}, [&](const Architecture& a) {
                add(patch_unit(space, a, spec, in));
              });
            } else if constexpr (std::is_same_v<T, EncoderLayer>) {
              const Flow tokens{w, layer.in.height, 1};
              for (const auto& b : spec.blocks)
                for_each_assignment(
                    space, {b.heads.decision, b.ffn.decision},
                    [&](const Architecture& a) { add(encoder_unit(space, a, b, tokens)); });
              add(norm_unit(tokens));
            } else {
              for_each_assignment(space, {spec.hidden.decision}, [&](const Architecture& a) {
                add(head_unit(space, a, spec, in, layer.in.tokens));
              });
            }
          }
        },
        layer.spec);
  }
  if (over)
    return FailedPrecondition("the space has more than " + std::to_string(limit) +
                              " distinct units; profile a smaller space or raise the limit");
  return found;
}

}  // namespace nasforge
