// The block part of the DSL checker: conv, mbconv and resblock blocks, the elastic-depth
// stages built from them, and the shape rules of each (strides, residual adds).
#include <algorithm>

#include "internal/checker.h"

namespace nasforge {

namespace {

const std::vector<std::string> kBlockKinds = {"conv",       "mbconv",   "resblock",
                                              "shufflenet", "xception", "choose"};
const char* const kBlockKindList = "conv, mbconv, resblock, shufflenet, xception, choose";
const std::vector<std::string> kActivations = {"relu", "relu6", "hswish", "swish", "gelu", "none"};

Activation to_activation(const std::string& s) {
  if (s == "relu6") return Activation::kRelu6;
  if (s == "hswish") return Activation::kHswish;
  if (s == "gelu") return Activation::kGelu;
  if (s == "swish") return Activation::kSwish;
  if (s == "none") return Activation::kNone;
  return Activation::kRelu;
}

}  // namespace

std::optional<Activation> SpaceBuilder::act_of(const AstNode& map, const std::string& path,
                                               Activation fallback) {
  const AstNode* a = map.is_mapping() ? map.find("act") : nullptr;
  if (!a) return fallback;
  auto s = get_enum(*a, path + ".act", kActivations);
  return s ? std::optional<Activation>(to_activation(*s)) : std::nullopt;
}

std::optional<Block> SpaceBuilder::check_block(const AstNode& item, const std::string& path,
                                               const std::string& label, std::optional<Gate> gate,
                                               bool in_stage, std::vector<int>* group) {
  if (!item.is_mapping() || item.entries.size() != 1) {
    error(
        item, path,
        std::string("expected a mapping with one block kind (") + kBlockKindList + "), got " +
            (item.is_mapping() ? std::to_string(item.entries.size()) + " keys" : item.describe()));
    return std::nullopt;
  }
  const auto& [k, v] = item.entries[0];
  const std::string p = path + "." + k.scalar;
  if (std::find(kBlockKinds.begin(), kBlockKinds.end(), k.scalar) == kBlockKinds.end()) {
    std::string msg =
        std::string("expected a block kind (") + kBlockKindList + "), got '" + k.scalar + "'";
    std::string near = closest_match(k.scalar, kBlockKinds);
    if (!near.empty()) msg += " (did you mean '" + near + "'?)";
    error(k, p, msg);
    return std::nullopt;
  }
  if (k.scalar == "choose") return check_choice(v, p, label, gate, in_stage, group);
  if (!expect_mapping(v, p, "a mapping of " + k.scalar + " options")) return std::nullopt;
  if (in_stage) {
    for (const char* owned : {"out", "stride"})
      if (const AstNode* key = v.find_key(owned)) {
        error(*key, p + "." + owned,
              std::string("expected no ") + owned + " in a stage's block (the stage's " + owned +
                  " applies to its blocks), got " + v.find(owned)->describe());
        return std::nullopt;
      }
  }
  const BlockOptions o{v, p, label, gate, in_stage, group};
  if (k.scalar == "mbconv") return check_mbconv(o);
  if (k.scalar == "resblock") return check_resblock(o);
  const bool xception = k.scalar == "xception";
  std::vector<std::string> keys = {"act"}, required;
  if (!xception) keys.insert(keys.begin(), "kernel");
  if (!in_stage) keys.insert(keys.begin(), {"out", "stride"});
  if (!in_stage) required.push_back("out");
  if (!xception) required.push_back("kernel");
  if (!check_keys(v, p, keys, required)) return std::nullopt;
  auto c = conv_like(o, Activation::kRelu, xception ? 3 : 0);
  if (!c) return std::nullopt;
  if (k.scalar == "conv") return ConvBlock{c->out, c->kernel, c->stride, c->act};
  return ShuffleBlock{c->out, c->kernel, c->stride, xception, c->act};
}

std::optional<SpaceBuilder::ConvLike> SpaceBuilder::conv_like(const BlockOptions& o,
                                                              Activation default_act,
                                                              int64_t fixed_kernel) {
  ConvLike c;
  bool ok = true;
  auto keep = [&](const std::optional<IntParam>& x) {
    if (x && x->is_decision()) o.group->push_back(x->decision);
    return x.has_value();
  };
  if (!o.in_stage) {  // else set by the stage
    auto out = param(*o.v.find("out"), o.path + ".out", DomainType::kChannels, o.label + ".out",
                     "w", o.gate);
    ok &= keep(out);
    if (out) c.out = *out;
  }
  if (fixed_kernel > 0) {
    c.kernel = IntParam{fixed_kernel, -1};
  } else {
    auto kernel = param(*o.v.find("kernel"), o.path + ".kernel", DomainType::kKernel,
                        o.label + ".kernel", "k", o.gate);
    ok &= keep(kernel);
    if (kernel) c.kernel = *kernel;
  }
  auto stride = fixed_int(o.v, "stride", o.path, kStrideRule, 1);
  std::optional<Activation> act = act_of(o.v, o.path, default_act);
  if (!ok || !stride || !act) return std::nullopt;
  c.stride = static_cast<int>(*stride);
  c.act = *act;
  return c;
}

std::optional<Block> SpaceBuilder::check_mbconv(const BlockOptions& o) {
  std::vector<std::string> keys = {"kernel", "expand", "se", "act", "groups", "expand_conv"};
  if (!o.in_stage) keys.insert(keys.begin(), {"out", "stride"});
  if (!check_keys(o.v, o.path, keys,
                  o.in_stage ? std::vector<std::string>{"kernel", "expand"}
                             : std::vector<std::string>{"out", "kernel", "expand"}))
    return std::nullopt;
  auto c = conv_like(o, Activation::kRelu6);
  auto keep = [&](const std::optional<IntParam>& x) {
    if (x && x->is_decision()) o.group->push_back(x->decision);
    return x.has_value();
  };
  auto expand = param(*o.v.find("expand"), o.path + ".expand", DomainType::kExpand,
                      o.label + ".expand", "e", o.gate);
  bool ok = keep(expand);
  auto se = param_or(o.v, "se", o.path, DomainType::kBool, o.label + ".se", "s", o.gate, 0);
  ok &= keep(se);
  auto groups = fixed_int(o.v, "groups", o.path, kGroupsRule, 1);
  std::optional<bool> expand_conv = false;
  if (const AstNode* e = o.v.find("expand_conv"))
    expand_conv = get_bool(*e, o.path + ".expand_conv");
  if (!c || !ok || !groups || !expand_conv) return std::nullopt;
  MBConvBlock b;
  b.out = c->out;
  b.kernel = c->kernel;
  b.expand = *expand;
  b.se = *se;
  b.stride = c->stride;
  b.act = c->act;
  b.groups = static_cast<int>(*groups);
  b.expand_conv = *expand_conv;
  return b;
}

std::optional<Block> SpaceBuilder::check_resblock(const BlockOptions& o) {
  std::vector<std::string> keys = {"kernel", "shortcut", "order"};
  if (!o.in_stage) keys.insert(keys.begin(), {"out", "stride"});
  if (!check_keys(o.v, o.path, keys,
                  o.in_stage ? std::vector<std::string>{} : std::vector<std::string>{"out"}))
    return std::nullopt;
  ResBlock b;
  bool ok = true;
  if (!o.in_stage) {
    auto out = param(*o.v.find("out"), o.path + ".out", DomainType::kChannels, o.label + ".out",
                     "w", o.gate);
    ok = out.has_value();
    if (out && out->is_decision()) o.group->push_back(out->decision);
    if (out) b.out = *out;
  }
  auto stride = fixed_int(o.v, "stride", o.path, kStrideRule, 1);
  auto kernel = fixed_int(o.v, "kernel", o.path, kKernelRule, 3);
  std::optional<std::string> shortcut = std::string("auto");
  if (const AstNode* sc = o.v.find("shortcut"))
    shortcut = get_enum(*sc, o.path + ".shortcut", {"auto", "identity"});
  std::optional<std::string> order = std::string("post");
  if (const AstNode* od = o.v.find("order"))
    order = get_enum(*od, o.path + ".order", {"post", "pre"});
  if (!ok || !stride || !kernel || !shortcut || !order) return std::nullopt;
  b.order = *order == "pre" ? ResOrder::kPre : ResOrder::kPost;
  b.stride = static_cast<int>(*stride);
  b.kernel = static_cast<int>(*kernel);
  b.shortcut = *shortcut == "identity" ? Shortcut::kIdentity : Shortcut::kAuto;
  return b;
}

bool SpaceBuilder::check_split_widths(const MBConvBlock& b, const Shape& in, const AstNode& at,
                                      const std::string& path) {
  if (b.groups == 1) return true;
  const std::string g = std::to_string(b.groups);
  if (in.channels.size() != 1 || b.out.is_decision() || b.expand.is_decision()) {
    error(at, path + ".groups",
          "expected a fixed input width, out and expand with groups: " + g +
              " (the group boundaries would move with a width), got input " + in.str() +
              (b.out.is_decision() ? ", out a decision" : "") +
              (b.expand.is_decision() ? ", expand a decision" : ""));
    return false;
  }
  const int64_t w = in.channels[0], mid = w * b.expand.fixed;
  for (auto [name, v] : {std::pair<const char*, int64_t>{"input width", w},
                         {"hidden width", mid},
                         {"out", b.out.fixed}})
    if (v % b.groups != 0) {
      error(at, path + ".groups",
            std::string("expected the ") + name + " to divide into " + g + " groups, got " +
                std::to_string(v));
      return false;
    }
  return true;
}

bool SpaceBuilder::check_split_widths(const ShuffleBlock& b, const Shape& in, const AstNode& at,
                                      const std::string& path) {
  const char* kind = b.xception ? "xception" : "shufflenet";
  if (in.channels.size() != 1 || b.out.is_decision()) {
    error(at, path,
          std::string("expected a fixed input width and out for ") + kind +
              " (its channel split would move with a width), got input " + in.str() +
              (b.out.is_decision() ? " and out a decision" : ""));
    return false;
  }
  const int64_t w = in.channels[0], out = b.out.fixed;
  // Stride 1 passes half the input on; stride 2 projects all of it. The main branch makes the
  // rest of the output, through out / 2 hidden channels.
  const int64_t passed = b.stride == 1 ? w / 2 : w;
  if ((b.stride == 1 && w % 2 != 0) || out - passed < 1 || out / 2 < 1) {
    error(at, path,
          std::string("expected ") + kind + " widths where " +
              (b.stride == 1 ? "an even input width's half" : "the input width") +
              " is less than out, got input " + std::to_string(w) + ", out " + std::to_string(out) +
              ", stride " + std::to_string(b.stride));
    return false;
  }
  return true;
}

void SpaceBuilder::apply_block(Block& block, const AstNode& at, const std::string& path, Flow& flow,
                               bool same_width) {
  if (!expect_image(at, path, flow)) {
    flow.ok = false;
    return;
  }
  if (auto* choice = std::get_if<ChoiceBlock>(&block))
    check_choice_shapes(*choice, at, path, flow, same_width);
  if (!std::visit([&](const auto& b) { return check_split_widths(b, flow.cur, at, path); },
                  block)) {
    flow.ok = false;
    return;
  }
  const Shape in = flow.cur;
  int stride = 1;
  IntParam out;
  std::visit(
      [&](const auto& b) {
        stride = b.stride;
        out = b.out;
      },
      block);
  if (const auto* rb = std::get_if<ResBlock>(&block);
      rb && rb->order == ResOrder::kPre && stride > 1 &&
      (in.height % stride != 0 || in.width % stride != 0)) {
    error(at, path + ".order",
          "expected an input size divisible by the stride for order: pre (its shortcut "
          "average-pools " +
              std::to_string(stride) + "x" + std::to_string(stride) + "), got " +
              std::to_string(in.height) + "x" + std::to_string(in.width));
    flow.ok = false;
    return;
  }
  if (!apply_stride(stride, at, path, flow.cur)) {
    flow.ok = false;
    return;
  }
  flow.cur.channels = values(out);
  if (const auto* rb = std::get_if<ResBlock>(&block); rb && rb->shortcut == Shortcut::kIdentity) {
    bool same =
        stride == 1 && in.channels == flow.cur.channels && (in.channels.size() == 1 || same_width);
    if (!same) {
      error(at, path + ".shortcut",
            "expected equal input and output shapes for an identity shortcut (use shortcut: "
            "auto to insert a 1x1 projection), got " +
                in.str() + " -> " + flow.cur.str());
      flow.ok = false;
    }
  }
}

void SpaceBuilder::check_stage(const AstNode& v, const std::string& p, Flow& flow,
                               const SourceLoc& loc) {
  if (!expect_mapping(v, p, "{depth, out, stride, block}") ||
      !check_keys(v, p, {"depth", "out", "stride", "block"}, {"depth", "out", "block"}))
    return;
  Layer layer;
  layer.loc = loc;
  layer.in = flow.cur;
  layer.name = next_name("stage");
  open_section(layer.name, Section::Kind::kBlocks);
  StageLayer st;
  auto depth = param(*v.find("depth"), p + ".depth", DomainType::kDepth, layer.name + ".depth", "d",
                     std::nullopt);
  auto out = param(*v.find("out"), p + ".out", DomainType::kChannels, layer.name + ".out", "w",
                   std::nullopt);
  auto stride = fixed_int(v, "stride", p, kStrideRule, 1);
  if (!depth || !out || !stride) return;
  Section& sec = s_.sections_[section_];
  if (depth->is_decision()) sec.head.push_back(depth->decision);
  if (out->is_decision()) sec.head.push_back(out->decision);
  st.depth = *depth;
  st.out = *out;
  st.stride = static_cast<int>(*stride);
  const auto depths = values(*depth);
  const int64_t max_depth = depths.back(), min_depth = depths.front();
  for (int64_t b = 1; b <= max_depth; ++b) {
    std::optional<Gate> gate;
    if (depth->is_decision() && b > min_depth) gate = Gate{depth->decision, b};
    std::vector<int> group;
    size_t before = d_.size();
    auto block = check_block(*v.find("block"), p + ".block",
                             layer.name + ".block" + std::to_string(b), gate, true, &group);
    if (!block || d_.size() != before) return;
    auto set_shape = [&](auto& x) {
      x.out = *out;
      x.stride = b == 1 ? st.stride : 1;
    };
    std::visit(set_shape, *block);
    if (auto* choice = std::get_if<ChoiceBlock>(&*block))
      for (auto& alt : choice->alternatives) std::visit(set_shape, alt);
    if (!group.empty()) s_.sections_[section_].groups.push_back(group);
    if (flow.ok) {
      const AstNode& block_node = *v.find("block");
      // Blocks after the first have the stage's width on both ends.
      apply_block(*block, block_node.entries.empty() ? v : block_node.entries[0].first,
                  p + ".block." + block_node.entries[0].first.scalar, flow, b > 1);
    }
    st.blocks.push_back(*block);
  }
  if (s_.sections_[section_].head.empty() && s_.sections_[section_].groups.empty())
    s_.sections_.pop_back();
  section_ = -1;
  layer.spec = st;
  layer.out = flow.cur;
  push_layer(std::move(layer), flow);
}

}  // namespace nasforge
