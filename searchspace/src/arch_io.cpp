// Architecture serialisation: the canonical short string, JSON and YAML.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "nasforge/searchspace/json.h"
#include "nasforge/searchspace/search_space.h"

namespace nasforge {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

}  // namespace

std::string SearchSpace::cell_string(const Architecture& a, int cell) const {
  const CellTemplate& t = cells_[cell];
  std::string s;
  for (int node = t.inputs; node < t.nodes; ++node) {
    if (node > t.inputs) s += "+";
    s += "|";
    if (t.choose == 0) {
      for (const auto& e : t.edges)
        if (e.to == node) s += name_value(a, e.op) + "~" + std::to_string(e.from) + "|";
    } else {
      const CellNodeChoice& ch = t.choices[node - t.inputs];
      const auto& set = ch.input_sets[a[ch.inputs]];
      for (size_t i = 0; i < set.size(); ++i)
        s += name_value(a, ch.ops[i]) + "~" + std::to_string(set[i]) + "|";
    }
  }
  return s;
}

// The active decisions of `ds` as text: "k3e4" for keyed values; a layer choice prints the chosen
// alternative's name, followed by its own active decisions in parentheses: "mbconv_k3_e6",
// "mbconv(k5e6)", "identity".
std::string SearchSpace::decision_tokens(const Architecture& a, const std::vector<int>& ds) const {
  std::string s;
  std::vector<bool> used(ds.size(), false);
  for (size_t i = 0; i < ds.size(); ++i) {
    const int d = ds[i];
    if (used[i] || !is_active(a, d)) continue;
    if (decisions_[d].domain.type != DomainType::kChoice) {
      s += decisions_[d].key + std::to_string(int_value(a, d));
      continue;
    }
    s += name_value(a, d);
    std::vector<int> inner;
    for (size_t j = i + 1; j < ds.size(); ++j)
      if (!used[j] && decisions_[ds[j]].gate && decisions_[ds[j]].gate->decision == d) {
        used[j] = true;
        if (is_active(a, ds[j])) inner.push_back(ds[j]);
      }
    if (!inner.empty()) s += "(" + decision_tokens(a, inner) + ")";
  }
  return s;
}

Status SearchSpace::assign_tokens(const std::vector<int>& ds, const std::string& text,
                                  const std::string& where, Architecture& a) const {
  size_t pos = 0;
  std::vector<bool> used(ds.size(), false);
  auto expected = [&]() {
    std::string want;
    for (size_t i = 0; i < ds.size(); ++i) {
      const Decision& d = decisions_[ds[i]];
      if (d.gate && d.gate->equals >= 0) continue;  // inside a choice's parentheses
      want += d.domain.type == DomainType::kChoice ? "NAME[(...)]" : d.key + "N";
    }
    return InvalidArgument(where + ": expected '" + want + "', got '" + text + "'");
  };
  for (size_t i = 0; i < ds.size(); ++i) {
    const int d = ds[i];
    if (used[i] || !is_active(a, d)) continue;
    const Decision& dec = decisions_[d];
    if (dec.domain.type == DomainType::kChoice) {
      // The longest alternative name at pos.
      size_t best = dec.domain.size(), best_len = 0;
      for (size_t v = 0; v < dec.domain.size(); ++v) {
        const std::string& n = dec.domain.names[v];
        if (n.size() > best_len && text.compare(pos, n.size(), n) == 0)
          best = v, best_len = n.size();
      }
      if (best == dec.domain.size())
        return InvalidArgument(dec.label + ": expected one of " + dec.domain.str() + " at '" +
                               text.substr(pos) + "'");
      a[d] = static_cast<uint32_t>(best);
      pos += best_len;
      std::vector<int> inner;
      for (size_t j = i + 1; j < ds.size(); ++j)
        if (decisions_[ds[j]].gate && decisions_[ds[j]].gate->decision == d) {
          used[j] = true;
          if (is_active(a, ds[j])) inner.push_back(ds[j]);
        }
      if (inner.empty()) continue;
      if (pos >= text.size() || text[pos] != '(') return expected();
      size_t depth = 0, close = pos;
      for (; close < text.size(); ++close) {
        if (text[close] == '(') ++depth;
        if (text[close] == ')' && --depth == 0) break;
      }
      if (close == text.size()) return expected();
      NF_RETURN_IF_ERROR(assign_tokens(inner, text.substr(pos + 1, close - pos - 1), where, a));
      pos = close + 1;
      continue;
    }
    // A keyed value: KEY then an integer.
    if (text.compare(pos, dec.key.size(), dec.key) != 0) {
      size_t end = pos;
      while (end < text.size() && std::isalpha(static_cast<unsigned char>(text[end]))) ++end;
      if (end == pos || end == text.size()) return expected();
      return InvalidArgument(where + ": expected key '" + dec.key + "' for " + dec.label +
                             ", got '" + text.substr(pos, end - pos) + "'");
    }
    size_t v = pos + dec.key.size(), digits = v;
    if (v < text.size() && text[v] == '-') ++v, ++digits;
    while (v < text.size() && std::isdigit(static_cast<unsigned char>(text[v]))) ++v;
    if (v == digits || v - digits > 12) return expected();
    const int64_t x = std::stoll(text.substr(pos + dec.key.size(), v - pos - dec.key.size()));
    auto it = std::find(dec.domain.ints.begin(), dec.domain.ints.end(), x);
    if (it == dec.domain.ints.end())
      return InvalidArgument(dec.label + ": expected one of " + dec.domain.str() + ", got " +
                             std::to_string(x));
    a[d] = static_cast<uint32_t>(it - dec.domain.ints.begin());
    pos = v;
  }
  if (pos != text.size()) return expected();
  return Status::Ok();
}

std::string SearchSpace::to_string(const Architecture& a) const {
  if (sections_.empty()) return "-";
  std::string out;
  auto tokens = [&](const std::vector<int>& ds) { return decision_tokens(a, ds); };
  for (size_t si = 0; si < sections_.size(); ++si) {
    const Section& sec = sections_[si];
    std::string body;
    if (sec.kind == Section::Kind::kCell) {
      body = cell_string(a, sec.cell);
    } else {
      body = tokens(sec.head);
      if (!sec.groups.empty()) {
        body += ":";
        bool first = true;
        for (const auto& g : sec.groups) {
          if (!is_active(a, g[0])) continue;
          body += (first ? "" : ",") + tokens(g);
          first = false;
        }
      }
    }
    if (si) out += "/";
    out += sections_.size() == 1 ? body : sec.name + "=" + body;
  }
  return out;
}

Status SearchSpace::parse_cell(const std::string& text, int cell, Architecture& a) const {
  const CellTemplate& t = cells_[cell];
  auto nodes = split(text, '+');
  const int expected = t.nodes - t.inputs;
  if (static_cast<int>(nodes.size()) != expected)
    return InvalidArgument("expected " + std::to_string(expected) +
                           " nodes separated by '+', got " + std::to_string(nodes.size()));
  for (int ni = 0; ni < expected; ++ni) {
    const int node = t.inputs + ni;
    const std::string& part = nodes[ni];
    if (part.size() < 2 || part.front() != '|' || part.back() != '|')
      return InvalidArgument("node " + std::to_string(node) + ": expected |op~i|...|, got '" +
                             part + "'");
    auto items = split(part.substr(1, part.size() - 2), '|');
    std::vector<std::pair<int, std::string>> edges;  // (from, op)
    for (const auto& item : items) {
      size_t tilde = item.rfind('~');
      if (tilde == std::string::npos || tilde + 1 >= item.size() || item.size() - tilde > 3)
        return InvalidArgument("node " + std::to_string(node) + ": expected op~INPUT, got '" +
                               item + "'");
      std::string src = item.substr(tilde + 1);
      if (!std::all_of(src.begin(), src.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        return InvalidArgument("node " + std::to_string(node) + ": expected op~INPUT, got '" +
                               item + "'");
      edges.emplace_back(std::stoi(src), item.substr(0, tilde));
    }
    auto set_op = [&](int decision, const std::string& op) -> Status {
      const auto& names = decisions_[decision].domain.names;
      auto it = std::find(names.begin(), names.end(), op);
      if (it == names.end())
        return InvalidArgument(decisions_[decision].label + ": expected one of " +
                               decisions_[decision].domain.str() + ", got '" + op + "'");
      a[decision] = static_cast<uint32_t>(it - names.begin());
      return Status::Ok();
    };
    if (t.choose == 0) {
      std::vector<const CellEdge*> want;
      for (const auto& e : t.edges)
        if (e.to == node) want.push_back(&e);
      bool same = want.size() == edges.size();
      for (size_t i = 0; same && i < want.size(); ++i) same = want[i]->from == edges[i].first;
      if (!same) {
        std::string w;
        for (const auto* e : want) w += "|op~" + std::to_string(e->from);
        return InvalidArgument("node " + std::to_string(node) + ": expected inputs " + w +
                               "|, got '" + part + "'");
      }
      for (size_t i = 0; i < want.size(); ++i)
        NF_RETURN_IF_ERROR(set_op(want[i]->op, edges[i].second));
    } else {
      const CellNodeChoice& ch = t.choices[ni];
      std::vector<int> srcs;
      for (const auto& e : edges) srcs.push_back(e.first);
      auto it = std::find(ch.input_sets.begin(), ch.input_sets.end(), srcs);
      if (it == ch.input_sets.end())
        return InvalidArgument("node " + std::to_string(node) + ": expected " +
                               std::to_string(t.choose) +
                               " distinct inputs in increasing order below " +
                               std::to_string(node) + ", got '" + part + "'");
      a[ch.inputs] = static_cast<uint32_t>(it - ch.input_sets.begin());
      for (size_t i = 0; i < edges.size(); ++i)
        NF_RETURN_IF_ERROR(set_op(ch.ops[i], edges[i].second));
    }
  }
  return Status::Ok();
}

StatusOr<Architecture> SearchSpace::parse(const std::string& text) const {
  Architecture a(std::vector<uint32_t>(decisions_.size(), 0));
  if (sections_.empty()) {
    if (text == "-" || text.empty()) return a;
    return InvalidArgument("expected '-' for a space without decisions, got '" + text + "'");
  }
  std::vector<std::string> parts;
  std::vector<int> which;
  if (sections_.size() == 1) {
    std::string body = text;
    const std::string prefix = sections_[0].name + "=";
    if (body.rfind(prefix, 0) == 0) body = body.substr(prefix.size());
    parts.push_back(body);
    which.push_back(0);
  } else {
    auto raw = split(text, '/');
    std::vector<bool> seen(sections_.size(), false);
    for (const auto& r : raw) {
      size_t eq = r.find('=');
      std::string name = eq == std::string::npos ? r : r.substr(0, eq);
      int idx = -1;
      std::vector<std::string> names;
      for (size_t i = 0; i < sections_.size(); ++i) {
        names.push_back(sections_[i].name);
        if (sections_[i].name == name) idx = static_cast<int>(i);
      }
      if (eq == std::string::npos || idx < 0) {
        std::string msg = "expected SECTION=..., with SECTION one of ";
        for (size_t i = 0; i < names.size(); ++i) msg += (i ? ", " : "") + names[i];
        msg += ", got '" + r + "'";
        std::string near = closest_match(name, names);
        if (!near.empty()) msg += " (did you mean '" + near + "'?)";
        return InvalidArgument(msg);
      }
      if (seen[idx]) return InvalidArgument("expected section '" + name + "' once, got it twice");
      seen[idx] = true;
      parts.push_back(r.substr(eq + 1));
      which.push_back(idx);
    }
    for (size_t i = 0; i < sections_.size(); ++i)
      if (!seen[i])
        return InvalidArgument("expected section '" + sections_[i].name + "', got none");
  }
  auto assign = [&](const std::vector<int>& ds, const std::string& text, const std::string& where) {
    return assign_tokens(ds, text, where, a);
  };
  for (size_t p = 0; p < parts.size(); ++p) {
    const Section& sec = sections_[which[p]];
    if (sec.kind == Section::Kind::kCell) {
      NF_RETURN_IF_ERROR(parse_cell(parts[p], sec.cell, a).WithContext(sec.name));
      continue;
    }
    std::string head = parts[p], rest;
    bool has_groups = !sec.groups.empty();
    if (has_groups) {
      size_t colon = head.find(':');
      if (colon == std::string::npos)
        return InvalidArgument(sec.name + ": expected HEAD:BLOCK,BLOCK,..., got '" + parts[p] +
                               "'");
      rest = head.substr(colon + 1);
      head = head.substr(0, colon);
    }
    NF_RETURN_IF_ERROR(assign(sec.head, head, sec.name));
    if (!has_groups) continue;
    std::vector<const std::vector<int>*> active;
    for (const auto& g : sec.groups)
      if (is_active(a, g[0])) active.push_back(&g);
    auto blocks = rest.empty() ? std::vector<std::string>{} : split(rest, ',');
    if (blocks.size() != active.size())
      return InvalidArgument(sec.name + ": expected " + std::to_string(active.size()) +
                             " blocks for this depth, got " + std::to_string(blocks.size()));
    for (size_t b = 0; b < blocks.size(); ++b)
      NF_RETURN_IF_ERROR(assign(*active[b], blocks[b], sec.name));
  }
  NF_RETURN_IF_ERROR(validate(a));
  return a;
}

std::string SearchSpace::to_json(const Architecture& a) const {
  std::string s = "{";
  bool first = true;
  for (size_t i = 0; i < decisions_.size(); ++i) {
    if (!is_active(a, static_cast<int>(i))) continue;
    const Domain& dom = decisions_[i].domain;
    s += (first ? "" : ", ") + json_quote(decisions_[i].label) + ": ";
    first = false;
    s += dom.numeric() ? dom.value_str(a[i]) : json_quote(dom.names[a[i]]);
  }
  return s + "}";
}

std::string SearchSpace::to_yaml(const Architecture& a) const {
  std::string s;
  for (size_t i = 0; i < decisions_.size(); ++i) {
    if (!is_active(a, static_cast<int>(i))) continue;
    const Domain& dom = decisions_[i].domain;
    s += decisions_[i].label + ": " +
         (dom.numeric() ? dom.value_str(a[i]) : "'" + dom.names[a[i]] + "'") + "\n";
  }
  return s.empty() ? "{}\n" : s;
}

StatusOr<Architecture> SearchSpace::from_json(const std::string& text) const {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(
        "expected a JSON or YAML mapping of decision labels to values, got a "
        "syntax error (" +
        e.msg + ")");
  }
  if (!(root.IsMap() || (root.IsNull() && decisions_.empty())))
    return InvalidArgument("expected a mapping of decision labels to values");
  Architecture a(std::vector<uint32_t>(decisions_.size(), 0));
  std::vector<bool> given(decisions_.size(), false);
  std::vector<std::string> labels;
  for (const auto& d : decisions_) labels.push_back(d.label);
  if (root.IsMap()) {
    for (const auto& kv : root) {
      std::string label = kv.first.IsScalar() ? kv.first.Scalar() : "?";
      int d = find_decision(label);
      if (d < 0) {
        std::string msg = "expected a decision label, got '" + label + "'";
        std::string near = closest_match(label, labels);
        if (!near.empty()) msg += " (did you mean '" + near + "'?)";
        return InvalidArgument(msg);
      }
      if (given[d]) return InvalidArgument(label + ": expected one value, got two");
      const Domain& dom = decisions_[d].domain;
      std::string v = kv.second.IsScalar() ? kv.second.Scalar() : "";
      size_t idx = dom.size();
      for (size_t i = 0; i < dom.size(); ++i)
        if (dom.value_str(i) == v ||
            (dom.type == DomainType::kBool && v == std::to_string(dom.ints[i])))
          idx = i;
      // A named domain (ops, input sets) also takes the 0-based index of a value, as the
      // benchmark tables that key architectures by op indices write them.
      if (idx == dom.size() && !dom.numeric() && !v.empty() && v.size() < 10 &&
          std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
          std::stoul(v) < dom.size())
        idx = std::stoul(v);
      if (idx == dom.size())
        return InvalidArgument(label + ": expected one of " + dom.str() +
                               (dom.numeric() ? "" : " or its 0-based index") + ", got '" + v +
                               "'");
      a[d] = static_cast<uint32_t>(idx);
      given[d] = true;
    }
  }
  for (size_t i = 0; i < decisions_.size(); ++i) {
    bool active = is_active(a, static_cast<int>(i));
    if (active && !given[i])
      return InvalidArgument(decisions_[i].label + ": expected a value, got none");
    if (!active && given[i]) {
      // Name the nearest gate up the chain that leaves it out.
      int d = static_cast<int>(i);
      while (gate_admits(a, d)) d = decisions_[d].gate->decision;
      const Decision& gd = decisions_[decisions_[d].gate->decision];
      return InvalidArgument(decisions_[i].label + ": expected no value, since " + gd.label +
                             " = " + gd.domain.value_str(a[decisions_[d].gate->decision]) +
                             " leaves it inactive");
    }
  }
  return a;
}

}  // namespace nasforge
