// The cell half of the DSL checker: cell DAGs (NAS-Bench-201 and DARTS style), checked with
// Boost.Graph.
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/reverse_graph.hpp>

#include "internal/checker.h"

namespace nasforge {

namespace {

using CellGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;

template <typename Graph>
std::vector<bool> reachable_from(const Graph& g, int source) {
  std::vector<bool> seen(boost::num_vertices(g), false);
  struct Visitor : boost::default_bfs_visitor {
    std::vector<bool>* seen;
    void discover_vertex(typename boost::graph_traits<Graph>::vertex_descriptor v,
                         const Graph&) const {
      (*seen)[v] = true;
    }
  } vis;
  vis.seen = &seen;
  boost::breadth_first_search(g, boost::vertex(source, g), boost::visitor(vis));
  return seen;
}

void combinations(int n, int k, int start, std::vector<int>& cur,
                  std::vector<std::vector<int>>& out) {
  if (static_cast<int>(cur.size()) == k) {
    out.push_back(cur);
    return;
  }
  for (int i = start; i < n; ++i) {
    cur.push_back(i);
    combinations(n, k, i + 1, cur, out);
    cur.pop_back();
  }
}

bool is_identifier(const std::string& s) {
  if (s.empty() || s.size() > 64 ||
      !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_'))
    return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

}  // namespace

void SpaceBuilder::check_cells(const AstNode& map, const std::string& path) {
  if (!expect_mapping(map, path, "a mapping of cell names to definitions")) return;
  for (const auto& [k, v] : map.entries) {
    if (!is_identifier(k.scalar)) {
      error(k, path + "." + k.scalar,
            "expected a cell name of letters, digits, '_' and '-', got '" + k.scalar + "'");
      continue;
    }
    cell_defs_[k.scalar] = &v;
    check_cell(k.scalar, v, path + "." + k.scalar);
  }
}

void SpaceBuilder::check_cell(const std::string& name, const AstNode& def, const std::string& p) {
  if (!expect_mapping(def, p, "{nodes, edges, op, combine}") ||
      !check_keys(def, p, {"inputs", "nodes", "edges", "op", "combine"}, {"nodes", "edges"}))
    return;
  CellTemplate cell;
  cell.name = name;
  cell.loc = def.loc;
  const size_t errors_before = d_.size();
  std::optional<Domain> ops;  // the op domain of every edge without its own op
  if (!check_cell_shape(def, p, cell, ops)) return;
  std::vector<CellEdgeSpec> edges;
  if (!check_cell_edges(def, p, ops, cell, edges) || d_.size() != errors_before) return;
  if (cell.choose == 0 && !check_cell_graph(*def.find("edges"), p, cell, edges)) return;
  add_cell_decisions(def, cell, edges, ops);
  s_.cells_.push_back(std::move(cell));
}

bool SpaceBuilder::check_cell_shape(const AstNode& def, const std::string& p, CellTemplate& cell,
                                    std::optional<Domain>& ops) {
  auto inputs = fixed_int(def, "inputs", p, kInputsRule, 1);
  if (!inputs) return false;
  cell.inputs = static_cast<int>(*inputs);
  const AstNode& nodes_node = *def.find("nodes");
  auto nodes = get_int(nodes_node, p + ".nodes", "a node count in [2, 16]");
  if (!nodes) return false;
  if (*nodes <= cell.inputs || *nodes > 16) {
    error(nodes_node, p + ".nodes",
          "expected a node count in [" + std::to_string(cell.inputs + 1) +
              ", 16] (inputs plus at least one node), got " + nodes_node.scalar);
    return false;
  }
  cell.nodes = static_cast<int>(*nodes);
  if (const AstNode* c = def.find("combine")) {
    auto s = get_enum(*c, p + ".combine", {"sum", "concat"});
    if (!s) return false;
    cell.combine = *s == "concat" ? Combine::kConcat : Combine::kSum;
  }
  if (const AstNode* op_node = def.find("op")) {
    ops = domain_at(*op_node, p + ".op", DomainType::kOp);
    if (!ops) return false;
  }
  return true;
}

bool SpaceBuilder::check_cell_edges(const AstNode& def, const std::string& p,
                                    const std::optional<Domain>& ops, CellTemplate& cell,
                                    std::vector<CellEdgeSpec>& out) {
  const AstNode& edges = *def.find("edges");
  if (edges.is_sequence()) return check_listed_edges(def, p, ops, cell, out);
  const bool dense = edges.is_scalar() && edges.scalar == "dense";
  if (!dense && !edges.is_mapping()) {
    error(edges, p + ".edges",
          "expected dense, a sequence of [from, to] or [from, to, op] edges or {choose: K}, got " +
              edges.describe());
    return false;
  }
  if (!ops) {
    error(def, p, "expected op (the op domain of the cell's edges), got none");
    return false;
  }
  if (dense) {
    const SourceLoc op_loc = def.find("op")->loc;
    for (int to = cell.inputs; to < cell.nodes; ++to)
      for (int from = 0; from < to; ++from) out.push_back({from, to, std::nullopt, op_loc});
    return true;
  }
  if (!check_keys(edges, p + ".edges", {"choose"}, {"choose"})) return false;
  auto k = get_int(*edges.find("choose"), p + ".edges.choose", "an input count per node");
  if (!k) return false;
  if (*k < 1 || *k > cell.inputs) {
    error(*edges.find("choose"), p + ".edges.choose",
          "expected an input count per node in [1, " + std::to_string(cell.inputs) +
              "] (the first node has only the cell inputs to choose from), got " +
              std::to_string(*k));
    return false;
  }
  cell.choose = static_cast<int>(*k);
  return true;
}

bool SpaceBuilder::check_listed_edges(const AstNode& def, const std::string& p,
                                      const std::optional<Domain>& ops, const CellTemplate& cell,
                                      std::vector<CellEdgeSpec>& out) {
  const AstNode& edges = *def.find("edges");
  for (size_t i = 0; i < edges.items.size(); ++i) {
    const AstNode& e = edges.items[i];
    std::string ep = p + ".edges[" + std::to_string(i) + "]";
    if (!e.is_sequence() || (e.items.size() != 2 && e.items.size() != 3)) {
      error(e, ep, "expected an edge [from, to] or [from, to, op], got " + e.describe());
      continue;
    }
    std::optional<Domain> own;
    if (e.items.size() == 3) {
      own = domain_at(e.items[2], ep + "[2]", DomainType::kOp);
      if (!own) continue;
    } else if (!ops) {
      error(e, ep, "expected op (the op domain of the cell's edges), got none");
      continue;
    }
    auto from = get_int(e.items[0], ep + "[0]", "a node index");
    auto to = get_int(e.items[1], ep + "[1]", "a node index");
    if (!from || !to) continue;
    if (*from < 0 || *from >= *to || *to >= cell.nodes || *to < cell.inputs) {
      error(e, ep,
            "expected an edge [from, to] with 0 <= from < to < " + std::to_string(cell.nodes) +
                " into a non-input node (>= " + std::to_string(cell.inputs) + "), got [" +
                std::to_string(*from) + ", " + std::to_string(*to) + "]");
      continue;
    }
    const int f = static_cast<int>(*from), t = static_cast<int>(*to);
    if (std::any_of(out.begin(), out.end(),
                    [&](const CellEdgeSpec& x) { return x.from == f && x.to == t; })) {
      error(e, ep,
            "expected each edge once, got [" + std::to_string(*from) + ", " + std::to_string(*to) +
                "] twice");
      continue;
    }
    out.push_back({f, t, own, own ? e.items[2].loc : def.find("op")->loc});
  }
  std::stable_sort(out.begin(), out.end(), [](const CellEdgeSpec& a, const CellEdgeSpec& b) {
    return std::tie(a.to, a.from) < std::tie(b.to, b.from);
  });
  return true;
}

bool SpaceBuilder::check_cell_graph(const AstNode& edges, const std::string& p,
                                    const CellTemplate& cell,
                                    const std::vector<CellEdgeSpec>& listed) {
  const size_t errors_before = d_.size();
  CellGraph g(cell.nodes);
  for (const auto& e : listed) boost::add_edge(e.from, e.to, g);
  // Every non-input node needs an input, and every node must contribute to the output.
  std::vector<bool> reported(cell.nodes, false);
  for (int n = cell.inputs; n < cell.nodes; ++n)
    if (boost::in_degree(n, g) == 0) {
      error(edges, p + ".edges",
            "expected at least one edge into node " + std::to_string(n) + ", got none");
      reported[n] = true;  // one error per node
    }
  std::vector<bool> useful(cell.nodes, false);
  auto rg = boost::make_reverse_graph(g);
  if (cell.combine == Combine::kSum) {
    useful = reachable_from(rg, cell.nodes - 1);
  } else {
    for (int n = cell.inputs; n < cell.nodes; ++n) {
      auto r = reachable_from(rg, n);
      for (int i = 0; i < cell.nodes; ++i) useful[i] = useful[i] || r[i];
    }
  }
  for (int n = 0; n < cell.nodes; ++n)
    if (!useful[n] && !reported[n])
      error(edges, p + ".edges",
            "expected node " + std::to_string(n) + " to reach the cell output, got a dead end");
  return d_.size() == errors_before;
}

void SpaceBuilder::add_cell_decisions(const AstNode& def, CellTemplate& cell,
                                      const std::vector<CellEdgeSpec>& listed,
                                      const std::optional<Domain>& ops) {
  const std::string& name = cell.name;
  open_section(name, Section::Kind::kCell);
  s_.sections_[section_].cell = static_cast<int>(s_.cells_.size());
  if (cell.choose == 0) {
    for (const auto& e : listed) {
      int d = add_decision(name + ".node" + std::to_string(e.to) + ".from" + std::to_string(e.from),
                           "", e.op ? *e.op : *ops, std::nullopt, e.loc);
      cell.edges.push_back({e.from, e.to, d});
      s_.sections_[section_].head.push_back(d);
    }
  } else {
    for (int n = cell.inputs; n < cell.nodes; ++n) {
      CellNodeChoice ch;
      ch.node = n;
      std::vector<int> cur;
      combinations(n, cell.choose, 0, cur, ch.input_sets);
      Domain sets;
      sets.type = DomainType::kInputs;
      for (const auto& s : ch.input_sets) {
        std::string label;
        for (int x : s) label += (label.empty() ? "" : "+") + std::to_string(x);
        sets.names.push_back(label);
      }
      std::string prefix = name + ".node" + std::to_string(n);
      ch.inputs = add_decision(prefix + ".inputs", "", sets, std::nullopt, def.find("edges")->loc);
      s_.sections_[section_].head.push_back(ch.inputs);
      for (int i = 1; i <= cell.choose; ++i) {
        int d = add_decision(prefix + ".op" + std::to_string(i), "", *ops, std::nullopt,
                             def.find("op")->loc);
        ch.ops.push_back(d);
        s_.sections_[section_].head.push_back(d);
      }
      cell.choices.push_back(ch);
    }
  }
  section_ = -1;
}

}  // namespace nasforge
