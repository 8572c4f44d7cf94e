// Architecture diagrams (diagram.h).
#include "diagram.h"

#include <map>
#include <set>
#include <type_traits>
#include <variant>

#include "nasforge/searchspace/json.h"
#include "nasforge/searchspace/units.h"

namespace nasforge::report {
namespace {

// The alternative a layer choice picked, per (layer, block within the layer); -1: the layer.
std::map<std::pair<int, int>, std::string> chosen_alternatives(const SearchSpace& space,
                                                               const Architecture& a) {
  std::map<std::pair<int, int>, std::string> out;
  const auto& layers = space.layers();
  for (size_t l = 0; l < layers.size(); ++l) {
    std::visit(
        [&](const auto& spec) {
          using T = std::decay_t<decltype(spec)>;
          if constexpr (std::is_same_v<T, ChoiceBlock>) {
            out[{static_cast<int>(l), -1}] = spec.names[a[spec.decision]];
          } else if constexpr (std::is_same_v<T, StageLayer>) {
            const int64_t depth = spec.depth.is_decision() ? space.int_value(a, spec.depth.decision)
                                                           : spec.depth.fixed;
            for (int64_t b = 0; b < depth && b < static_cast<int64_t>(spec.blocks.size()); ++b)
              if (const auto* c = std::get_if<ChoiceBlock>(&spec.blocks[b]))
                out[{static_cast<int>(l), static_cast<int>(b)}] = c->names[a[c->decision]];
          }
        },
        layers[l].spec);
  }
  return out;
}

std::string block_json(const Unit& u, const std::string& layer, const std::string& choice) {
  std::string s =
      "{\"layer\": " + json_quote(layer) + ", \"kind\": " + json_quote(unit_kind_name(u.kind)) +
      ", \"out\": " + std::to_string(u.out) + ", \"stride\": " + std::to_string(u.stride);
  if (u.kernel) s += ", \"k\": " + std::to_string(u.kernel);
  if (u.kind == UnitKind::kMBConv) s += ", \"e\": " + std::to_string(u.expand);
  if (u.se) s += ", \"se\": true";
  if (u.kind == UnitKind::kEncoder)
    s += ", \"heads\": " + std::to_string(u.heads) + ", \"ffn\": " + std::to_string(u.ffn);
  if (u.kind == UnitKind::kPool)
    s += ", \"pool\": " + json_quote(u.pool == PoolKind::kMax ? "max" : "avg");
  if (!choice.empty()) s += ", \"choice\": " + json_quote(choice);
  return s + "}";
}

// One cell as a DAG: every edge whose op is not none, marked live or dead, and its dead nodes.
std::string cell_json(const SearchSpace& space, const Architecture& a, int cell,
                      const std::vector<std::string>& layers) {
  const CellTemplate& t = space.cells()[cell];
  const auto all = space.op_edges(a, cell);
  const auto live = space.live_edges(a, cell);
  std::set<std::pair<int, int>> live_set;
  std::set<int> live_nodes;
  for (const auto& e : live) {
    live_set.insert({e.from, e.to});
    live_nodes.insert(e.from);
    live_nodes.insert(e.to);
  }
  std::string s = "{\"name\": " + json_quote(t.name) + ", \"inputs\": " + std::to_string(t.inputs) +
                  ", \"nodes\": " + std::to_string(t.nodes) +
                  ", \"combine\": " + json_quote(t.combine == Combine::kSum ? "sum" : "concat") +
                  ", \"layers\": [";
  for (size_t i = 0; i < layers.size(); ++i) s += (i ? ", " : "") + json_quote(layers[i]);
  s += "], \"edges\": [";
  for (size_t i = 0; i < all.size(); ++i) {
    const auto& e = all[i];
    s += std::string(i ? ", " : "") + "{\"from\": " + std::to_string(e.from) +
         ", \"to\": " + std::to_string(e.to) + ", \"op\": " + json_quote(e.op) +
         ", \"live\": " + (live_set.count({e.from, e.to}) ? "true" : "false") + "}";
  }
  // A node is dead when no live edge touches it: no input reaches it, or it reaches no output.
  // The inputs are never dead; the output is, when nothing live reaches it (a zero cell).
  s += "], \"dead\": [";
  bool first = true;
  for (int n = t.inputs; n < t.nodes; ++n)
    if (!live_nodes.count(n)) {
      s += (first ? "" : ", ") + std::to_string(n);
      first = false;
    }
  return s + "]}";
}

}  // namespace

std::string diagram_json(const SearchSpace& space, const Architecture& a) {
  const auto& layers = space.layers();
  const auto chosen = chosen_alternatives(space, a);
  std::string strip;
  auto add = [&](const std::string& item) { strip += (strip.empty() ? "" : ", ") + item; };
  // Cell templates, each drawn once, with the layers that repeat it.
  std::map<int, std::vector<std::string>> cell_layers;
  const std::vector<Unit> us = units(space, a, /*with_cells=*/false);
  size_t next = 0;
  for (size_t l = 0; l < layers.size(); ++l) {
    if (const auto* c = std::get_if<CellLayer>(&layers[l].spec)) {
      cell_layers[c->cell].push_back(layers[l].name);
      add("{\"layer\": " + json_quote(layers[l].name) + ", \"kind\": \"cell\", \"cell\": " +
          json_quote(space.cells()[c->cell].name) + ", \"out\": " + std::to_string(c->width) +
          ", \"stride\": " + std::to_string(c->stride) + "}");
      continue;
    }
    bool any = false;
    for (; next < us.size() && us[next].layer == static_cast<int>(l); ++next) {
      const Unit& u = us[next];
      auto it = chosen.find({u.layer, u.part});
      add(block_json(u, layers[l].name, it == chosen.end() ? "" : it->second));
      any = true;
    }
    // A choice of identity or zero runs no unit; the strip still shows what was chosen.
    if (!any)
      for (const auto& [key, name] : chosen)
        if (key.first == static_cast<int>(l))
          add("{\"layer\": " + json_quote(layers[l].name) +
              ", \"kind\": \"choice\", \"choice\": " + json_quote(name) + "}");
  }
  std::string cells;
  for (const auto& [cell, names] : cell_layers)
    cells += (cells.empty() ? "" : ", ") + cell_json(space, a, cell, names);
  return "{\"strip\": [" + strip + "], \"cells\": [" + cells + "]}";
}

}  // namespace nasforge::report
