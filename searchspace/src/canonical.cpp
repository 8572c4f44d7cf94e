// Canonical identity of architectures, and their labelled DAGs for graph kernels.
#include <algorithm>

#include "nasforge/searchspace/hash.h"
#include "nasforge/searchspace/ops.h"
#include "nasforge/searchspace/search_space.h"

namespace nasforge {

// Live edges of a cell: `none` edges dropped, then edges out of nodes that no input reaches and
// edges into nodes that reach no output.
std::vector<SearchSpace::LiveEdge> SearchSpace::op_edges(const Architecture& a, int cell) const {
  const CellTemplate& t = cells_[cell];
  std::vector<LiveEdge> edges;
  auto add = [&](int from, int to, int decision) {
    const std::string& op = name_value(a, decision);
    if (find_cell_op(op)->kind != CellOpKind::kZero) edges.push_back({from, to, op});
  };
  if (t.choose == 0) {
    for (const auto& e : t.edges) add(e.from, e.to, e.op);
  } else {
    for (const auto& ch : t.choices) {
      const auto& set = ch.input_sets[a[ch.inputs]];
      for (size_t i = 0; i < set.size(); ++i) add(set[i], ch.node, ch.ops[i]);
    }
  }
  std::stable_sort(edges.begin(), edges.end(), [](const LiveEdge& x, const LiveEdge& y) {
    return x.to != y.to ? x.to < y.to : x.from < y.from;
  });
  return edges;
}

std::vector<SearchSpace::LiveEdge> SearchSpace::live_edges(const Architecture& a, int cell) const {
  const CellTemplate& t = cells_[cell];
  const std::vector<LiveEdge> edges = op_edges(a, cell);
  std::vector<bool> live(t.nodes, false), useful(t.nodes, false);
  for (int i = 0; i < t.inputs; ++i) live[i] = true;
  for (int n = t.inputs; n < t.nodes; ++n)  // edges only go forward
    for (const auto& e : edges)
      if (e.to == n && live[e.from]) live[n] = true;
  for (int n = t.nodes - 1; n >= 0; --n) {
    bool is_output = n >= t.inputs && (t.combine == Combine::kConcat || n == t.nodes - 1);
    useful[n] = is_output && live[n];
    for (const auto& e : edges)
      if (e.from == n && useful[e.to] && live[n]) useful[n] = true;
  }
  std::vector<LiveEdge> kept;
  for (const auto& e : edges)
    if (live[e.from] && useful[e.to]) kept.push_back(e);
  return kept;
}

// The function a cell computes, as a symbolic expression: `skip_connect` is the identity,
// `none` is zero, every other op applies to its input's expression, and a node is the sorted
// multiset of its terms (sums commute, and a skip of a sum contributes that sum's terms). Since
// the expression alone cannot tell one shared op from two copies of it (conv(x) feeding two
// nodes versus two convs of x), the form also lists every live op edge (every op but none and
// skip_connect). Two cells with equal forms have the same function, the same ops and so the same
// parameter count.
std::string SearchSpace::cell_canonical(const Architecture& a, int cell) const {
  const CellTemplate& t = cells_[cell];
  const std::vector<LiveEdge> edges = live_edges(a, cell);
  if (edges.empty()) return "zero";
  // Long subexpressions are replaced by their hash, so that forms stay short in deep cells.
  auto compact = [](const std::string& e) { return e.size() <= 256 ? e : "h" + hex64(fnv1a64(e)); };
  auto join = [](const std::vector<std::string>& terms) {
    std::string s;
    for (const auto& x : terms) s += (s.empty() ? "" : "+") + x;
    return s;
  };
  std::vector<std::vector<std::string>> terms(t.nodes);
  std::vector<std::string> expr(t.nodes);
  std::vector<std::string> params;  // live op edges
  for (int i = 0; i < t.inputs; ++i) {
    terms[i] = {"x" + std::to_string(i)};
    expr[i] = terms[i][0];
  }
  for (int n = t.inputs; n < t.nodes; ++n) {
    for (const auto& e : edges) {
      if (e.to != n) continue;
      if (find_cell_op(e.op)->kind == CellOpKind::kIdentity) {
        terms[n].insert(terms[n].end(), terms[e.from].begin(), terms[e.from].end());
      } else {
        std::string term = e.op + "(" + compact(expr[e.from]) + ")";
        terms[n].push_back(term);
        params.push_back(term);
      }
    }
    std::sort(terms[n].begin(), terms[n].end());
    expr[n] = terms[n].empty() ? "0" : join(terms[n]);
  }
  std::string out;
  if (t.combine == Combine::kSum) {
    out = expr[t.nodes - 1];
  } else {
    std::vector<std::string> parts(expr.begin() + t.inputs, expr.end());
    std::sort(parts.begin(), parts.end());
    for (const auto& p : parts) out += (out.empty() ? "" : " | ") + compact(p);
  }
  std::sort(params.begin(), params.end());
  out += " # ";
  for (size_t i = 0; i < params.size(); ++i) out += (i ? "," : "") + params[i];
  return out;
}

std::string SearchSpace::canonical_tokens(const Architecture& a, const std::vector<int>& ds) const {
  std::string s;
  for (int d : ds) {
    if (!is_active(a, d)) continue;
    const Decision& dec = decisions_[d];
    if (dec.domain.type == DomainType::kChoice)
      s += "[" + (dec.computes.empty() ? name_value(a, d) : dec.computes[a[d]]) + "]";
    else
      s += dec.key + std::to_string(int_value(a, d));
  }
  return s;
}

std::string SearchSpace::canonical_form(const Architecture& a) const {
  std::string out;
  for (size_t si = 0; si < sections_.size(); ++si) {
    const Section& sec = sections_[si];
    out += sec.name + "=";
    if (sec.kind == Section::Kind::kCell) {
      out += cell_canonical(a, sec.cell);
    } else {
      // Only active decisions appear, so inactive blocks cannot change the form.
      out += canonical_tokens(a, sec.head);
      for (const auto& g : sec.groups) {
        if (!is_active(a, g[0])) continue;
        out += "," + canonical_tokens(a, g);
      }
    }
    out += ";";
  }
  return out;
}

uint64_t SearchSpace::canonical_hash(const Architecture& a) const {
  return fnv1a64(canonical_form(a));
}

std::string SearchSpace::canonical_hash_hex(const Architecture& a) const {
  return hex64(canonical_hash(a));
}

LabelledDag SearchSpace::dag(const Architecture& a) const {
  LabelledDag g;
  auto vertex = [&](std::string label) {
    g.labels.push_back(std::move(label));
    return static_cast<int>(g.labels.size()) - 1;
  };
  for (const Section& sec : sections_) {
    if (sec.kind == Section::Kind::kCell) {
      // Ops on vertices (as NAS-BOWL): input nodes, one vertex per live edge, one output.
      const CellTemplate& t = cells_[sec.cell];
      auto edges = live_edges(a, sec.cell);
      std::vector<int> inputs;
      for (int i = 0; i < t.inputs; ++i) inputs.push_back(vertex("input"));
      int output = vertex("output");
      std::vector<int> ev;
      for (const auto& e : edges) ev.push_back(vertex(e.op));
      for (size_t i = 0; i < edges.size(); ++i) {
        if (edges[i].from < t.inputs) g.edges.emplace_back(inputs[edges[i].from], ev[i]);
        for (size_t j = 0; j < edges.size(); ++j)
          if (edges[j].from == edges[i].to) g.edges.emplace_back(ev[i], ev[j]);
        bool feeds_output = t.combine == Combine::kConcat || edges[i].to == t.nodes - 1;
        if (feeds_output) g.edges.emplace_back(ev[i], output);
      }
      continue;
    }
    // Blocks become a chain: head decisions label the first vertex, each active block one more.
    auto label_of = [&](const std::vector<int>& ds, const std::string& prefix) {
      std::string s = prefix;
      for (int d : ds)
        if (is_active(a, d)) s += "_" + canonical_tokens(a, {d});
      return s;
    };
    int prev = vertex(label_of(sec.head, sec.name.substr(0, sec.name.find_first_of("0123456789"))));
    for (const auto& grp : sec.groups) {
      if (!is_active(a, grp[0])) continue;
      int v = vertex(label_of(grp, "block"));
      g.edges.emplace_back(prev, v);
      prev = v;
    }
  }
  return g;
}

}  // namespace nasforge
