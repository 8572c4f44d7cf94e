// The document half of the DSL checker: top-level keys, let domains, constraints, objectives.
#include <cctype>

#include "internal/checker.h"
#include "nasforge/searchspace/dsl.h"

namespace nasforge {

namespace {
bool is_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      return false;
  return true;
}
}  // namespace

std::optional<SearchSpace> SpaceBuilder::build(const AstNode& root) {
  const std::vector<std::string> kTop = {"nasforge",    "name",      "description", "input",
                                         "classes",     "let",       "cells",       "network",
                                         "constraints", "objectives"};
  const std::vector<std::string> kRequired = {"nasforge", "name", "input", "classes", "network"};
  s_.file_ = root.loc.file;
  if (!root.is_mapping()) {
    error(root, "document",
          "expected a mapping with keys nasforge, name, input, classes, network, got " +
              (root.is_null() ? std::string("an empty document") : root.describe()));
    return std::nullopt;
  }
  check_keys(root, "", kTop, kRequired);

  if (const AstNode* v = root.find("nasforge")) {
    auto x = get_int(*v, "nasforge", "DSL version " + std::to_string(kDslVersion));
    if (x && *x != kDslVersion)
      error(*v, "nasforge",
            "expected DSL version " + std::to_string(kDslVersion) + ", got " + std::to_string(*x));
  }
  if (const AstNode* v = root.find("name")) {
    if (v->is_scalar() && is_name(v->scalar)) {
      s_.name_ = v->scalar;
    } else {
      error(*v, "name",
            "expected a name of letters, digits, '_', '-' and '.', got " + v->describe());
    }
  }
  if (const AstNode* v = root.find("description"); v && !v->is_scalar())
    error(*v, "description", "expected a string, got " + v->describe());
  if (const AstNode* v = root.find("input")) {
    if (expect_mapping(*v, "input", "{channels, height, width}") &&
        check_keys(*v, "input", {"channels", "height", "width"}, {"channels", "height", "width"})) {
      struct Field {
        const char* key;
        int64_t* out;
        int64_t max;
      } fields[] = {{"channels", &s_.input_.channels, 65536},
                    {"height", &s_.input_.height, 8192},
                    {"width", &s_.input_.width, 8192}};
      for (const auto& f : fields) {
        const AstNode& n = *v->find(f.key);
        std::string expected = std::string("an integer in [1, ") + std::to_string(f.max) + "]";
        auto x = get_int(n, std::string("input.") + f.key, expected);
        if (x && (*x < 1 || *x > f.max)) {
          error(n, std::string("input.") + f.key, "expected " + expected + ", got " + n.scalar);
        } else if (x) {
          *f.out = *x;
        }
      }
      Shape in;
      in.channels = {s_.input_.channels};
      in.height = s_.input_.height;
      in.width = s_.input_.width;
      if (s_.input_.channels > 0 && s_.input_.height > 0 && s_.input_.width > 0)
        check_activation(*v, "input", in);
    }
  }
  if (const AstNode* v = root.find("classes")) {
    auto x = get_int(*v, "classes", "a class count in [2, 100000]");
    if (x && (*x < 2 || *x > 100000)) {
      error(*v, "classes", "expected a class count in [2, 100000], got " + v->scalar);
    } else if (x) {
      s_.classes_ = *x;
    }
  }
  if (const AstNode* v = root.find("let")) check_lets(*v, "let");
  if (const AstNode* v = root.find("cells")) check_cells(*v, "cells");
  if (const AstNode* v = root.find("network")) check_network(*v, "network");
  // Unused lets and cells are errors, but only in an otherwise clean file: an earlier error
  // may have stopped the checker before it reached their uses.
  if (d_.ok()) {
    if (const AstNode* v = root.find("let"); v && v->is_mapping()) {
      for (const auto& [k, def] : v->entries)
        if (lets_.count(k.scalar) && !used_lets_.count(k.scalar))
          error(def, "let." + k.scalar, "expected $" + k.scalar + " to be used, got no use");
    }
    for (const auto& [name, def] : cell_defs_) {
      if (!used_cells_.count(name))
        error(*def, "cells." + name,
              "expected cell '" + name + "' to be used in the network, got no use");
    }
  }
  // Cell names share the namespace of the arch string's sections (stage1, head, ...).
  for (const auto& cell : s_.cells_) {
    for (const auto& sec : s_.sections_)
      if (sec.kind != Section::Kind::kCell && sec.name == cell.name)
        d_.error(cell.loc, "cells." + cell.name,
                 "expected a cell name distinct from the generated section names (stage1, "
                 "conv1, head, ...), got '" +
                     cell.name + "'");
  }
  if (const AstNode* v = root.find("constraints")) check_constraints(*v, "constraints");
  if (const AstNode* v = root.find("objectives")) check_objectives(*v, "objectives");
  if (!d_.ok()) return std::nullopt;
  return std::move(s_);
}

void SpaceBuilder::check_lets(const AstNode& map, const std::string& path) {
  if (!expect_mapping(map, path, "a mapping of names to domains")) return;
  for (const auto& [k, v] : map.entries) {
    std::string p = path + "." + k.scalar;
    if (!is_name(k.scalar) || k.scalar.find('.') != std::string::npos) {
      error(k, p, "expected a domain name of letters, digits, '_' and '-', got '" + k.scalar + "'");
      continue;
    }
    if (!v.is_mapping() || v.entries.size() != 1 ||
        (v.entries[0].first.scalar != "choice" && v.entries[0].first.scalar != "range")) {
      error(v, p, "expected {choice: [...]} or {range: {min, max, step}}, got " + v.describe());
      continue;
    }
    lets_[k.scalar] = &v;
  }
}

void SpaceBuilder::check_constraints(const AstNode& seq, const std::string& path) {
  if (!seq.is_sequence()) {
    error(seq, path, "expected a sequence of {METRIC: {max: X}} items, got " + seq.describe());
    return;
  }
  for (size_t i = 0; i < seq.items.size(); ++i) {
    const AstNode& item = seq.items[i];
    std::string p = path + "[" + std::to_string(i) + "]";
    if (!item.is_mapping() || item.entries.size() != 1) {
      error(item, p, "expected {METRIC: {min: X, max: Y}}, got " + item.describe());
      continue;
    }
    const auto& [k, v] = item.entries[0];
    std::string mp = p + "." + k.scalar;
    auto metric = Metric::parse(k.scalar);
    if (!metric.ok()) {
      error(k, mp, metric.status().message());
      continue;
    }
    if (!expect_mapping(v, mp, "{min: X, max: Y}") || !check_keys(v, mp, {"min", "max"}, {}))
      continue;
    if (v.entries.empty()) {
      error(v, mp, "expected min or max, got neither");
      continue;
    }
    Constraint c;
    c.metric = *metric;
    c.loc = k.loc;
    bool ok = true;
    for (const char* bound : {"min", "max"}) {
      const AstNode* b = v.find(bound);
      if (!b) continue;
      auto x = get_number(*b, mp + "." + bound, "a number >= 0 (suffixes k, M, G allowed)");
      if (!x) {
        ok = false;
        continue;
      }
      if (*x < 0) {
        error(*b, mp + "." + bound, "expected a number >= 0, got " + b->scalar);
        ok = false;
        continue;
      }
      (std::string(bound) == "min" ? c.min : c.max) = *x;
    }
    if (!ok) continue;
    if (c.min && c.max && *c.min > *c.max) {
      error(v, mp,
            "expected min <= max, got min " + v.find("min")->scalar + " > max " +
                v.find("max")->scalar);
      continue;
    }
    s_.constraints_.push_back(c);
  }
}

void SpaceBuilder::check_objectives(const AstNode& map, const std::string& path) {
  if (!expect_mapping(map, path, "a mapping of METRIC: min|max")) return;
  for (const auto& [k, v] : map.entries) {
    std::string p = path + "." + k.scalar;
    auto metric = Metric::parse(k.scalar);
    if (!metric.ok()) {
      error(k, p, metric.status().message());
      continue;
    }
    auto dir = get_enum(v, p, {"min", "max"});
    if (!dir) continue;
    s_.objectives_.push_back(
        {*metric, *dir == "max" ? Direction::kMaximize : Direction::kMinimize});
  }
}

std::optional<SearchSpace> check_space(const AstNode& root, Diagnostics& diags) {
  return SpaceBuilder(diags).build(root);
}

std::optional<SearchSpace> load_space(const std::string& path, Diagnostics& diags) {
  auto ast = load_yaml_file(path, diags);
  if (!ast) return std::nullopt;
  return check_space(*ast, diags);
}

std::optional<SearchSpace> load_space_text(const std::string& text, const std::string& file,
                                           Diagnostics& diags) {
  auto ast = parse_yaml(text, file, diags);
  if (!ast) return std::nullopt;
  return check_space(*ast, diags);
}

}  // namespace nasforge
