// Unit terms: each layer's units enumerated over the few decisions they depend on.
#include "nasforge/searchspace/unit_terms.h"

#include <algorithm>
#include <map>
#include <set>

#include "internal/unit_decisions.h"

namespace nasforge {

namespace {

constexpr int kWholeLayer = -2;  // a slot that takes every unit of its layer

// A part of the network whose units depend only on `decisions`.
struct Slot {
  int layer = 0;
  int part = kWholeLayer;
};

std::vector<int> tidy(std::vector<int> ds) {
  ds.erase(std::remove(ds.begin(), ds.end(), -1), ds.end());
  std::sort(ds.begin(), ds.end());
  ds.erase(std::unique(ds.begin(), ds.end()), ds.end());
  return ds;
}

template <typename T>
Block as_block(const T& spec) {
  if constexpr (is_block_v<T>) return Block(spec);
  return Block(ConvBlock{});
}

// The decisions that set layer i's input width (none when it is fixed).
std::vector<int> width_decisions(const SearchSpace& space, int i) {
  const auto& layers = space.layers();
  std::vector<int> out;
  for (int j = i - 1; j >= 0; --j) {
    if (layers[static_cast<size_t>(j)].out.channels.size() <= 1) break;
    bool passes_on = false;
    std::visit(
        [&](const auto& spec) {
          using T = std::decay_t<decltype(spec)>;
          if constexpr (is_block_v<T>) {
            out.push_back(spec.out.decision);
            if constexpr (std::is_same_v<T, ChoiceBlock>) {
              out.push_back(spec.decision);
              for (const auto& alt : spec.alternatives)
                std::visit([&](const auto& b) { out.push_back(b.out.decision); }, alt);
            }
          } else if constexpr (std::is_same_v<T, StageLayer>) {
            out.insert(out.end(), {spec.depth.decision, spec.out.decision});
            for (const auto& b : spec.blocks) out.push_back(block_out(b).decision);
          } else if constexpr (std::is_same_v<T, PatchEmbedLayer>) {
            out.push_back(spec.dim.decision);
          } else if constexpr (std::is_same_v<T, PoolLayer> || std::is_same_v<T, EncoderLayer>) {
            passes_on = true;
          }
        },
        layers[static_cast<size_t>(j)].spec);
    if (!passes_on) break;
  }
  return tidy(out);
}

// The decisions of cell template `cell`, per target node.
std::map<int, std::vector<int>> cell_node_decisions(const CellTemplate& c) {
  std::map<int, std::vector<int>> out;
  if (c.choose == 0) {
    for (const auto& e : c.edges) out[e.to].push_back(e.op);
  } else {
    for (const auto& ch : c.choices) {
      out[ch.node].push_back(ch.inputs);
      out[ch.node].insert(out[ch.node].end(), ch.ops.begin(), ch.ops.end());
    }
  }
  return out;
}

// Whether a cell's edges count independently: no op can die because of another edge.
bool edges_independent(const SearchSpace& space, const CellTemplate& c, Counting counting) {
  if (counting == Counting::kAsImplemented) return true;
  if (c.combine != Combine::kConcat) return false;
  for (const auto& [node, ds] : cell_node_decisions(c))
    for (int d : ds)
      for (const auto& name : space.decisions()[static_cast<size_t>(d)].domain.names)
        if (name == "none") return false;
  return true;
}

// Every slot, grouped by the decisions it reads.
std::map<std::vector<int>, std::vector<Slot>> slots_of(const SearchSpace& space,
                                                       Counting counting) {
  std::map<std::vector<int>, std::vector<Slot>> groups;
  const auto& layers = space.layers();
  for (size_t li = 0; li < layers.size(); ++li) {
    const int i = static_cast<int>(li);
    const std::vector<int> in = width_decisions(space, i);
    auto add = [&](int part, std::vector<int> ds) {
      ds.insert(ds.end(), in.begin(), in.end());
      groups[tidy(ds)].push_back({i, part});
    };
    std::visit(
        [&](const auto& spec) {
          using T = std::decay_t<decltype(spec)>;
          std::vector<int> ds;
          if constexpr (is_block_v<T>) {
            ds = block_decisions(as_block(spec));
            add(kWholeLayer, ds);
          } else if constexpr (std::is_same_v<T, StageLayer>) {
            for (size_t b = 0; b < spec.blocks.size(); ++b) {
              ds = {spec.depth.decision};
              const auto own = block_decisions(spec.blocks[b]);
              ds.insert(ds.end(), own.begin(), own.end());
              if (b > 0) {
                ds.push_back(block_out(spec.blocks[b - 1]).decision);
                groups[tidy(ds)].push_back({i, static_cast<int>(b)});  // reads its predecessor
              } else {
                add(static_cast<int>(b), ds);
              }
            }
          } else if constexpr (std::is_same_v<T, CellLayer>) {
            const CellTemplate& c = space.cells()[static_cast<size_t>(spec.cell)];
            const std::vector<int> older = width_decisions(space, std::max(0, i - 1));
            auto with_older = [&](std::vector<int> v) {
              v.insert(v.end(), older.begin(), older.end());
              return v;
            };
            const auto nodes = cell_node_decisions(c);
            if (edges_independent(space, c, counting)) {
              add(-1, with_older({}));
              for (const auto& [node, node_ds] : nodes) add(node, with_older(node_ds));
            } else {
              for (const auto& [node, node_ds] : nodes)
                ds.insert(ds.end(), node_ds.begin(), node_ds.end());
              add(kWholeLayer, with_older(ds));
            }
          } else if constexpr (std::is_same_v<T, PoolLayer>) {
            add(kWholeLayer, {});
          } else if constexpr (std::is_same_v<T, PatchEmbedLayer>) {
            add(kWholeLayer, {spec.dim.decision});
          } else if constexpr (std::is_same_v<T, EncoderLayer>) {
            for (size_t l = 0; l < spec.blocks.size(); ++l)
              add(static_cast<int>(l), {spec.layers.decision, spec.blocks[l].heads.decision,
                                        spec.blocks[l].ffn.decision});
            add(-1, {});
          } else {
            add(kWholeLayer, {spec.hidden.decision});
          }
        },
        layers[li].spec);
  }
  return groups;
}

}  // namespace

bool holds(const UnitTerm& t, const Architecture& a) {
  for (const auto& [d, v] : t.when)
    if (a[static_cast<size_t>(d)] != v) return false;
  return true;
}

StatusOr<std::vector<UnitTerm>> unit_terms(const SearchSpace& space, Counting counting,
                                           size_t limit) {
  const auto groups = slots_of(space, counting);
  size_t total = 0;
  for (const auto& [ds, slots] : groups) {
    size_t n = 1;
    for (int d : ds) {
      n *= space.decisions()[static_cast<size_t>(d)].domain.size();
      if (n > limit) break;
    }
    total += n;
    if (n > limit || total > limit)
      return FailedPrecondition(
          "the units of layer '" + space.layers()[static_cast<size_t>(slots[0].layer)].name +
          "' of space '" + space.name() + "' depend on " + std::to_string(ds.size()) +
          " decisions together, more than " + std::to_string(limit) +
          " assignments to enumerate; an exact expected cost needs them fewer (count the cell "
          "as implemented, or drop `none` from its ops)");
  }
  std::vector<UnitTerm> out;
  for (const auto& [ds, slots] : groups) {
    Architecture a(std::vector<uint32_t>(space.decisions().size(), 0));
    while (true) {
      const auto us = units(space, a, /*with_cells=*/true, counting);
      std::vector<std::pair<int, uint32_t>> when;
      for (int d : ds) when.emplace_back(d, a[static_cast<size_t>(d)]);
      for (const Unit& u : us)
        for (const Slot& s : slots)
          if (u.layer == s.layer && (s.part == kWholeLayer || u.part == s.part))
            out.push_back({u, when});
      size_t k = 0;
      for (; k < ds.size(); ++k) {
        const auto d = static_cast<size_t>(ds[k]);
        if (++a[d] < space.decisions()[d].domain.size()) break;
        a[d] = 0;
      }
      if (k == ds.size()) break;
    }
  }
  return out;
}

}  // namespace nasforge
