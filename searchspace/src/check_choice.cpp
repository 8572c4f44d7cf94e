// The layer-choice part of the DSL checker: `choose: [ALTERNATIVE, ...]`, as a layer, inside
// `repeat`, or as a stage's block. One decision picks the alternative; each alternative's own
// decisions are gated on it, so they count (and print) only while it is chosen.
#include <algorithm>
#include <cctype>
#include <set>

#include "internal/checker.h"

namespace nasforge {

namespace {

const std::vector<std::string> kAlternativeKinds = {
    "conv", "mbconv", "resblock", "shufflenet", "xception", "identity", "zero"};
const char* const kAlternativeList = "conv, mbconv, resblock, shufflenet, xception, identity, zero";

// The scalar under `key` of a block's options, or "" when it is absent or not a scalar.
std::string scalar_of(const AstNode& options, const char* key) {
  const AstNode* n = options.find(key);
  return n && n->is_scalar() ? n->scalar : "";
}

// A readable default name from the fixed options: mbconv_k3_e6, conv_k5, resblock, identity
// (the stride is the layer's, the same for every alternative, so it is left out).
std::string default_name(const std::string& kind, const AstNode* options) {
  std::string name = kind;
  if (!options || !options->is_mapping()) return name;
  if (const std::string k = scalar_of(*options, "kernel"); !k.empty()) name += "_k" + k;
  if (const std::string e = scalar_of(*options, "expand"); !e.empty()) name += "_e" + e;
  if (scalar_of(*options, "se") == "true") name += "_se";
  if (const std::string g = scalar_of(*options, "groups"); !g.empty() && g != "1") name += "_g" + g;
  return name;
}

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 64 ||
      !(std::isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_'))
    return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

}  // namespace

std::optional<std::vector<SpaceBuilder::WrittenAlternative>> SpaceBuilder::read_alternatives(
    const AstNode& list, const std::string& path) {
  if (!list.is_sequence() || list.items.size() < 2) {
    error(list, path,
          std::string("expected a sequence of at least two alternatives (") + kAlternativeList +
              "), got " +
              (list.is_sequence() ? std::to_string(list.items.size()) : list.describe()));
    return std::nullopt;
  }
  std::vector<WrittenAlternative> written;
  std::set<std::string> seen;
  bool ok = true;
  for (size_t i = 0; i < list.items.size(); ++i) {
    const AstNode& item = list.items[i];
    const std::string p = path + "[" + std::to_string(i) + "]";
    WrittenAlternative w;
    w.at = &item;
    if (item.is_scalar()) {
      w.kind = item.scalar;
      w.kind_key = &item;
    } else if (item.is_mapping()) {
      for (const auto& [k, v] : item.entries) {
        if (k.scalar == "name") {
          if (!v.is_scalar() || !valid_name(v.scalar)) {
            error(v, p + ".name",
                  "expected a name of letters, digits and '_' (not starting with a digit), got " +
                      (v.is_scalar() ? "'" + v.scalar + "'" : v.describe()));
            ok = false;
          }
          w.name = v.scalar;
        } else if (w.kind.empty()) {
          w.kind = k.scalar;
          w.kind_key = &k;
          w.options = &v;
        } else {
          error(k, p,
                "expected one block kind and an optional name, got '" + w.kind + "' and '" +
                    k.scalar + "'");
          ok = false;
        }
      }
    } else {
      error(item, p,
            "expected an alternative (identity, zero, or {KIND: {...}}), got " + item.describe());
      ok = false;
      continue;
    }
    if (std::find(kAlternativeKinds.begin(), kAlternativeKinds.end(), w.kind) ==
        kAlternativeKinds.end()) {
      std::string msg = std::string("expected an alternative kind (") + kAlternativeList +
                        "), got '" + w.kind + "'";
      const std::string near = closest_match(w.kind, kAlternativeKinds);
      if (!near.empty()) msg += " (did you mean '" + near + "'?)";
      error(w.kind_key ? *w.kind_key : item, p, msg);
      ok = false;
      continue;
    }
    if (w.name.empty()) w.name = default_name(w.kind, w.options);
    if (!seen.insert(w.name).second) {
      error(item, p,
            "expected distinct alternative names, got '" + w.name +
                "' twice (give one a name: NAME)");
      ok = false;
    }
    written.push_back(w);
  }
  if (!ok) return std::nullopt;
  return written;
}

std::optional<Alternative> SpaceBuilder::check_alternative(const WrittenAlternative& w,
                                                           const std::string& p,
                                                           const std::string& label, Gate chosen,
                                                           bool in_stage, std::vector<int>* group) {
  if (w.kind == "identity" || w.kind == "zero") {
    IntParam out;        // fixed 0: the layer's width, settled by check_choice_shapes
    int64_t stride = 0;  // 0: the layer's stride
    if (w.options && !w.options->is_null()) {
      if (in_stage) {
        error(*w.options, p + "." + w.kind,
              "expected no options for " + w.kind +
                  " in a stage's block (the stage sets out and stride), got " +
                  w.options->describe());
        return std::nullopt;
      }
      if (!expect_mapping(*w.options, p + "." + w.kind, "{out, stride}") ||
          !check_keys(*w.options, p + "." + w.kind, {"out", "stride"}, {}))
        return std::nullopt;
      if (const AstNode* o = w.options->find("out")) {
        auto x = param(*o, p + "." + w.kind + ".out", DomainType::kChannels, label + ".out", "w",
                       chosen);
        if (!x) return std::nullopt;
        if (x->is_decision()) group->push_back(x->decision);
        out = *x;
      }
      auto s = fixed_int(*w.options, "stride", p + "." + w.kind, kStrideRule, 0);
      if (!s) return std::nullopt;
      stride = *s;
    }
    if (w.kind == "identity") return IdentityBlock{out, static_cast<int>(stride), false};
    return ZeroBlock{out, static_cast<int>(stride)};
  }
  // The alternative without its name, as check_block reads it. A bare kind (`xception`, or
  // `mbconv` with nothing under it) has no options: an empty mapping, so that check_block
  // reports the keys it requires.
  AstNode none;
  none.kind = AstNode::Kind::kMapping;
  none.loc = w.kind_key->loc;
  AstNode single = *w.at;
  single.kind = AstNode::Kind::kMapping;
  single.entries.clear();
  single.entries.emplace_back(*w.kind_key, w.options && !w.options->is_null() ? *w.options : none);
  auto block = check_block(single, p, label, chosen, in_stage, group);
  if (!block) return std::nullopt;
  return std::visit(
      [](auto& b) -> std::optional<Alternative> {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, ChoiceBlock>) {
          return std::nullopt;  // check_block makes no choice for these kinds
        } else {
          return Alternative(b);
        }
      },
      *block);
}

std::optional<Block> SpaceBuilder::check_choice(const AstNode& list, const std::string& path,
                                                const std::string& label, std::optional<Gate> gate,
                                                bool in_stage, std::vector<int>* group) {
  // Kinds and names first, so that the choice decision exists before the decisions of its
  // alternatives (a gate always precedes what it gates).
  auto written = read_alternatives(list, path);
  if (!written) return std::nullopt;
  ChoiceBlock c;
  Domain dom;
  dom.type = DomainType::kChoice;
  for (const auto& w : *written) dom.names.push_back(w.name);
  c.names = dom.names;
  c.decision = add_decision(label + ".choice", "", std::move(dom), gate, list.loc);
  group->push_back(c.decision);
  // Then each alternative, its decisions gated on being chosen.
  for (size_t i = 0; i < written->size(); ++i) {
    const WrittenAlternative& w = (*written)[i];
    auto alt = check_alternative(w, path + "[" + std::to_string(i) + "]", label + "." + w.name,
                                 Gate{c.decision, 0, static_cast<int>(i)}, in_stage, group);
    if (!alt) return std::nullopt;
    c.alternatives.push_back(*alt);
  }
  return c;
}

void SpaceBuilder::check_choice_shapes(ChoiceBlock& c, const AstNode& at, const std::string& path,
                                       const Flow& flow, bool same_width) {
  // The layer's output: that of the first alternative that states one.
  const Shape& in = flow.cur;
  std::optional<size_t> ref;
  for (size_t i = 0; i < c.alternatives.size() && !ref; ++i)
    std::visit(
        [&](const auto& b) {
          if (b.out.is_decision() || b.out.fixed > 0) ref = i;
        },
        c.alternatives[i]);
  IntParam out;
  int stride = 1;
  if (ref) {
    std::visit(
        [&](const auto& b) {
          out = b.out;
          stride = b.stride > 0 ? b.stride : 1;
        },
        c.alternatives[*ref]);
  } else if (in.channels.size() == 1) {
    out.fixed = in.channels[0];
  } else {
    error(at, path,
          "expected an alternative with an out (its input width " + in.str() +
              " is not fixed), got only identity and zero");
    return;
  }
  c.out = out;
  c.stride = stride;
  const std::vector<int64_t> out_values = values(out);
  auto shape_str = [&](const std::vector<int64_t>& ch, int s) {
    Shape x;
    x.channels = ch;
    x.height = (in.height + s - 1) / s;
    x.width = (in.width + s - 1) / s;
    return x.str();
  };
  const bool same_as_input =
      stride == 1 && in.channels == out_values && (in.channels.size() == 1 || same_width);
  std::vector<std::string>& computes = s_.decisions_[c.decision].computes;
  computes = c.names;
  for (size_t i = 0; i < c.alternatives.size(); ++i) {
    const std::string p = path + "[" + std::to_string(i) + "]";
    std::visit(
        [&](auto& b) {
          using T = std::decay_t<decltype(b)>;
          const bool unstated = !b.out.is_decision() && b.out.fixed == 0;
          if (unstated) b.out = out;
          if (b.stride == 0) b.stride = stride;
          const std::vector<int64_t> v = values(b.out);
          if (v == out_values && b.stride == stride && !check_split_widths(b, in, at, p)) return;
          if (v != out_values || b.stride != stride) {
            error(at, p,
                  "expected every alternative to give the layer's output shape " +
                      shape_str(out_values, stride) + " (that of '" + c.names[ref.value_or(0)] +
                      "') from its input " + in.str() + ", got " + shape_str(v, b.stride) +
                      " from '" + c.names[i] + "'");
            return;
          }
          if constexpr (std::is_same_v<T, IdentityBlock>) {
            b.project = !same_as_input;
            if (same_as_input) computes[i] = "identity";
          } else if constexpr (std::is_same_v<T, ZeroBlock>) {
            computes[i] = "identity";
            if (!same_as_input)
              error(at, p,
                    "expected zero only where the layer's input and output shapes are equal, so "
                    "that the residual path keeps the network connected, got " +
                        in.str() + " -> " + shape_str(out_values, stride) +
                        " (use identity, which projects)");
          }
        },
        c.alternatives[i]);
  }
}

}  // namespace nasforge
