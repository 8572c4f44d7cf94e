// Scalars, domains and keys: the value-level half of the DSL checker.
#include <algorithm>
#include <cmath>

#include "internal/checker.h"
#include "nasforge/searchspace/ops.h"

namespace nasforge {

namespace {
std::string join(const std::vector<std::string>& v, const std::string& sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}
}  // namespace

bool SpaceBuilder::check_keys(const AstNode& map, const std::string& path,
                              const std::vector<std::string>& allowed,
                              const std::vector<std::string>& required) {
  bool ok = true;
  std::vector<std::string> suggested;
  for (const auto& [k, v] : map.entries) {
    if (std::find(allowed.begin(), allowed.end(), k.scalar) != allowed.end()) continue;
    std::string msg = "expected one of " + join(allowed) + ", got unknown key '" + k.scalar + "'";
    std::string near = closest_match(k.scalar, allowed);
    if (!near.empty()) msg += " (did you mean '" + near + "'?)";
    suggested.push_back(near);
    error(k, path.empty() ? k.scalar : path + "." + k.scalar, msg);
    ok = false;
  }
  for (const auto& r : required) {
    if (map.find(r)) continue;
    ok = false;
    // A misspelt key already said "did you mean 'r'?"; saying "r is missing" adds nothing.
    if (std::find(suggested.begin(), suggested.end(), r) != suggested.end()) continue;
    error(map, path.empty() ? "document" : path,
          "expected key '" + r + "', got a mapping without it");
  }
  return ok;
}

bool SpaceBuilder::expect_mapping(const AstNode& n, const std::string& path,
                                  const std::string& what) {
  if (n.is_mapping()) return true;
  error(n, path, "expected " + what + ", got " + n.describe());
  return false;
}

std::optional<int64_t> SpaceBuilder::get_int(const AstNode& n, const std::string& path,
                                             const std::string& expected) {
  if (n.is_scalar() && !n.quoted) {
    if (auto v = parse_number(n.scalar); v && std::floor(*v) == *v && std::fabs(*v) < 9e15)
      return static_cast<int64_t>(*v);
  }
  error(n, path, "expected " + expected + ", got " + n.describe());
  return std::nullopt;
}

std::optional<double> SpaceBuilder::get_number(const AstNode& n, const std::string& path,
                                               const std::string& expected) {
  if (n.is_scalar() && !n.quoted) {
    if (auto v = parse_number(n.scalar)) return *v;
  }
  error(n, path, "expected " + expected + ", got " + n.describe());
  return std::nullopt;
}

std::optional<bool> SpaceBuilder::get_bool(const AstNode& n, const std::string& path) {
  if (n.is_scalar() && !n.quoted) {
    if (n.scalar == "true") return true;
    if (n.scalar == "false") return false;
  }
  error(n, path, "expected true or false, got " + n.describe());
  return std::nullopt;
}

std::optional<std::string> SpaceBuilder::get_enum(const AstNode& n, const std::string& path,
                                                  const std::vector<std::string>& options) {
  if (n.is_scalar() && std::find(options.begin(), options.end(), n.scalar) != options.end())
    return n.scalar;
  std::string msg = "expected one of " + join(options) + ", got " + n.describe();
  if (n.is_scalar()) {
    std::string near = closest_match(n.scalar, options);
    if (!near.empty()) msg += " (did you mean '" + near + "'?)";
  }
  error(n, path, msg);
  return std::nullopt;
}

const SpaceBuilder::IntRule SpaceBuilder::kStrideRule{1, 4, false, "a stride in [1, 4]"};
const SpaceBuilder::IntRule SpaceBuilder::kKernelRule{1, 15, true, "an odd kernel size in [1, 15]"};
const SpaceBuilder::IntRule SpaceBuilder::kChannelsRule{1, 65536, false,
                                                        "a channel count in [1, 65536]"};
const SpaceBuilder::IntRule SpaceBuilder::kGroupsRule{1, 64, false, "a group count in [1, 64]"};
const SpaceBuilder::IntRule SpaceBuilder::kRepeatRule{1, 64, false, "a repeat count in [1, 64]"};
const SpaceBuilder::IntRule SpaceBuilder::kInputsRule{1, 4, false, "an input count in [1, 4]"};

std::optional<int64_t> SpaceBuilder::fixed_int(const AstNode& map, const std::string& key,
                                               const std::string& path, const IntRule& rule,
                                               int64_t fallback) {
  const AstNode* n = map.find(key);
  if (!n) return fallback;
  const std::string p = path + "." + key;
  auto x = get_int(*n, p, rule.what);
  if (!x) return std::nullopt;
  if (*x < rule.lo || *x > rule.hi || (rule.odd && *x % 2 == 0)) {
    error(*n, p, std::string("expected ") + rule.what + ", got " + n->scalar);
    return std::nullopt;
  }
  return x;
}

std::optional<double> SpaceBuilder::dropout_of(const AstNode& map, const std::string& path) {
  const AstNode* n = map.is_mapping() ? map.find("dropout") : nullptr;
  if (!n) return 0.0;
  const char* what = "a dropout rate in [0, 1)";
  auto x = get_number(*n, path + ".dropout", what);
  if (x && (*x < 0 || *x >= 1)) {
    error(*n, path + ".dropout", std::string("expected ") + what + ", got " + n->scalar);
    return std::nullopt;
  }
  return x;
}

std::string SpaceBuilder::check_value(int64_t v, DomainType type) {
  switch (type) {
    case DomainType::kChannels:
      return v >= 1 && v <= 65536 ? "" : "a channel count in [1, 65536]";
    case DomainType::kKernel:
      return v >= 1 && v <= 15 && v % 2 == 1 ? "" : "an odd kernel size in [1, 15]";
    case DomainType::kExpand:
      return v >= 1 && v <= 16 ? "" : "an expand ratio in [1, 16]";
    case DomainType::kDepth:
      return v >= 1 && v <= 32 ? "" : "a depth in [1, 32]";
    case DomainType::kLayers:
      return v >= 1 && v <= 48 ? "" : "a layer count in [1, 48]";
    case DomainType::kHeads:
      return v >= 1 && v <= 64 ? "" : "a head count in [1, 64]";
    case DomainType::kBool:
      return v == 0 || v == 1 ? "" : "true or false";
    case DomainType::kInt:
    case DomainType::kOp:
    case DomainType::kInputs:
    case DomainType::kChoice:
      return "";
  }
  return "";
}

std::optional<Domain> SpaceBuilder::domain_at(const AstNode& n, const std::string& path,
                                              DomainType type) {
  if (!(n.is_scalar() && !n.quoted && !n.scalar.empty() && n.scalar[0] == '$'))
    return domain_of(n, path, type, "");
  // A use of a let.
  std::string name = n.scalar.substr(1);
  auto it = lets_.find(name);
  if (it == lets_.end()) {
    std::vector<std::string> names;
    for (const auto& [k, v] : lets_) names.push_back("$" + k);
    std::string msg = "expected a domain defined under let, got undefined '" + n.scalar + "'";
    std::string near = closest_match(n.scalar, names);
    if (!near.empty()) msg += " (did you mean '" + near + "'?)";
    error(n, path, msg);
    return std::nullopt;
  }
  used_lets_.insert(name);
  const std::string use_note =
      " (used as " + std::string(domain_type_name(type)) + " at " + path + ")";
  // Diagnose a let's values once per use type, not at every use.
  std::string tag = name + "/" + domain_type_name(type);
  if (reported_lets_.count(tag)) {
    Diagnostics scratch;
    SpaceBuilder quiet(scratch);
    quiet.lets_ = lets_;
    return quiet.domain_of(*it->second, "let." + name, type, use_note);
  }
  reported_lets_.insert(tag);
  return domain_of(*it->second, "let." + name, type, use_note);
}

std::optional<Domain> SpaceBuilder::domain_of(const AstNode& body, const std::string& body_path,
                                              DomainType type, const std::string& use_note) {
  Domain dom;
  dom.type = type;
  if (body.is_scalar()) {
    if (!add_domain_value(body, body_path, use_note, dom)) return std::nullopt;
    return dom;
  }
  if (!body.is_mapping() || body.entries.size() != 1) {
    error(body, body_path,
          "expected a value, {choice: [...]}, {range: {min, max, step}} or $name, got " +
              body.describe());
    return std::nullopt;
  }
  const auto& [k, v] = body.entries[0];
  std::string vpath = body_path + "." + k.scalar;
  if (k.scalar == "choice") {
    if (!v.is_sequence() || v.items.empty()) {
      error(v, vpath, "expected a non-empty sequence of values, got " + v.describe());
      return std::nullopt;
    }
    bool ok = true;
    for (size_t i = 0; i < v.items.size(); ++i)
      ok &= add_domain_value(v.items[i], vpath + "[" + std::to_string(i) + "]", use_note, dom);
    if (!ok) return std::nullopt;
    return dom;
  }
  if (k.scalar == "range") {
    if (type == DomainType::kOp || type == DomainType::kBool) {
      error(k, vpath,
            "expected choice for " + std::string(domain_type_name(type)) + " values, got range");
      return std::nullopt;
    }
    if (!add_domain_range(v, vpath, use_note, dom)) return std::nullopt;
    return dom;
  }
  std::string msg = "expected choice or range, got unknown key '" + k.scalar + "'";
  std::string near = closest_match(k.scalar, {"choice", "range"});
  if (!near.empty()) msg += " (did you mean '" + near + "'?)";
  error(k, vpath, msg);
  return std::nullopt;
}

bool SpaceBuilder::add_domain_value(const AstNode& v, const std::string& vpath,
                                    const std::string& use_note, Domain& dom) {
  if (dom.type == DomainType::kOp) {
    if (!v.is_scalar()) {
      error(v, vpath, "expected an op name, got " + v.describe());
      return false;
    }
    if (!find_cell_op(v.scalar)) {
      std::string msg =
          "expected a known op (" + join(cell_op_names()) + "), got '" + v.scalar + "'" + use_note;
      std::string near = closest_match(v.scalar, cell_op_names());
      if (!near.empty()) msg += " (did you mean '" + near + "'?)";
      error(v, vpath, msg);
      return false;
    }
    if (std::find(dom.names.begin(), dom.names.end(), v.scalar) != dom.names.end()) {
      error(v, vpath, "expected distinct values, got '" + v.scalar + "' twice");
      return false;
    }
    dom.names.push_back(v.scalar);
    return true;
  }
  std::optional<int64_t> x;
  if (dom.type == DomainType::kBool) {
    auto b = get_bool(v, vpath);
    if (!b) return false;
    x = *b ? 1 : 0;
  } else {
    x = get_int(v, vpath, "an integer" + use_note);
    if (!x) return false;
  }
  std::string expected = check_value(*x, dom.type);
  if (!expected.empty()) {
    error(v, vpath, "expected " + expected + use_note + ", got " + v.scalar);
    return false;
  }
  if (std::find(dom.ints.begin(), dom.ints.end(), *x) != dom.ints.end()) {
    error(v, vpath, "expected distinct values, got " + v.scalar + " twice");
    return false;
  }
  dom.ints.push_back(*x);
  return true;
}

bool SpaceBuilder::add_domain_range(const AstNode& v, const std::string& vpath,
                                    const std::string& use_note, Domain& dom) {
  if (!expect_mapping(v, vpath, "{min, max, step}")) return false;
  if (!check_keys(v, vpath, {"min", "max", "step"}, {"min", "max"})) return false;
  auto lo = get_int(*v.find("min"), vpath + ".min", "an integer");
  auto hi = get_int(*v.find("max"), vpath + ".max", "an integer");
  std::optional<int64_t> step = 1;
  if (const AstNode* s = v.find("step")) step = get_int(*s, vpath + ".step", "an integer > 0");
  if (!lo || !hi || !step) return false;
  if (*step <= 0) {
    error(*v.find("step"), vpath + ".step",
          "expected an integer > 0, got " + std::to_string(*step));
    return false;
  }
  if (*lo > *hi) {
    error(v, vpath,
          "expected min <= max, got min " + std::to_string(*lo) + " > max " + std::to_string(*hi));
    return false;
  }
  if ((*hi - *lo) / *step >= 4096) {
    error(v, vpath, "expected at most 4096 values, got " + std::to_string((*hi - *lo) / *step + 1));
    return false;
  }
  for (int64_t x = *lo; x <= *hi; x += *step) {
    std::string expected = check_value(x, dom.type);
    if (!expected.empty()) {
      error(v, vpath,
            "expected " + expected + use_note + " for every value, got " + std::to_string(x));
      return false;
    }
    dom.ints.push_back(x);
  }
  return true;
}

int SpaceBuilder::add_decision(const std::string& label, const std::string& key, Domain domain,
                               std::optional<Gate> gate, const SourceLoc& loc) {
  Decision d;
  d.label = label;
  d.key = key;
  d.domain = std::move(domain);
  d.gate = gate;
  d.section = section_;
  d.loc = loc;
  s_.decisions_.push_back(std::move(d));
  return static_cast<int>(s_.decisions_.size()) - 1;
}

std::optional<IntParam> SpaceBuilder::param(const AstNode& n, const std::string& path,
                                            DomainType type, const std::string& label,
                                            const std::string& key, std::optional<Gate> gate) {
  auto dom = domain_at(n, path, type);
  if (!dom) return std::nullopt;
  IntParam p;
  if (dom->size() == 1) {
    p.fixed = dom->ints[0];
    return p;
  }
  p.decision = add_decision(label, key, std::move(*dom), gate, n.loc);
  return p;
}

std::optional<IntParam> SpaceBuilder::param_or(const AstNode& map, const std::string& key_name,
                                               const std::string& path, DomainType type,
                                               const std::string& label, const std::string& key,
                                               std::optional<Gate> gate, int64_t fallback) {
  const AstNode* n = map.find(key_name);
  if (!n) return IntParam{fallback, -1};
  return param(*n, path + "." + key_name, type, label, key, gate);
}

std::vector<int64_t> SpaceBuilder::values(const IntParam& p) const {
  if (!p.is_decision()) return {p.fixed};
  std::vector<int64_t> v = s_.decisions_[p.decision].domain.ints;
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace nasforge
