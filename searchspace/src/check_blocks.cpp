// The block part of the DSL checker: conv, mbconv and resblock blocks, the elastic-depth
// stages built from them, and the shape rules of each (strides, residual adds).
#include <algorithm>

#include "internal/checker.h"

namespace nasforge {

namespace {

const std::vector<std::string> kBlockKinds = {"conv", "mbconv", "resblock", "choose"};
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

std::optional<Block> SpaceBuilder::check_block(const AstNode& item, const std::string& path,
                                               const std::string& label, std::optional<Gate> gate,
                                               bool in_stage, std::vector<int>* group) {
  if (!item.is_mapping() || item.entries.size() != 1) {
    error(
        item, path,
        "expected a mapping with one block kind (conv, mbconv, resblock, choose), got " +
            (item.is_mapping() ? std::to_string(item.entries.size()) + " keys" : item.describe()));
    return std::nullopt;
  }
  const auto& [k, v] = item.entries[0];
  const std::string p = path + "." + k.scalar;
  if (std::find(kBlockKinds.begin(), kBlockKinds.end(), k.scalar) == kBlockKinds.end()) {
    std::string msg =
        "expected a block kind (conv, mbconv, resblock, choose), got '" + k.scalar + "'";
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
  auto keep = [&](const std::optional<IntParam>& x) {
    if (x && x->is_decision()) group->push_back(x->decision);
    return x.has_value();
  };
  auto stride_of = [&]() { return fixed_int(v, "stride", p, kStrideRule, 1); };
  auto act_of = [&](Activation fallback) -> std::optional<Activation> {
    const AstNode* a = v.find("act");
    if (!a) return fallback;
    auto s = get_enum(*a, p + ".act", kActivations);
    if (!s) return std::nullopt;
    return to_activation(*s);
  };
  auto out_of = [&]() -> std::optional<IntParam> {
    if (in_stage) return IntParam{};  // set by the stage
    return param(*v.find("out"), p + ".out", DomainType::kChannels, label + ".out", "w", gate);
  };

  if (k.scalar == "conv") {
    std::vector<std::string> keys = {"kernel", "act"};
    if (!in_stage) keys.insert(keys.begin(), {"out", "stride"});
    if (!check_keys(v, p, keys,
                    in_stage ? std::vector<std::string>{"kernel"}
                             : std::vector<std::string>{"out", "kernel"}))
      return std::nullopt;
    ConvBlock b;
    auto out = out_of();
    bool ok = keep(out);
    auto kernel =
        param(*v.find("kernel"), p + ".kernel", DomainType::kKernel, label + ".kernel", "k", gate);
    ok &= keep(kernel);
    auto stride = stride_of();
    auto act = act_of(Activation::kRelu);
    if (!ok || !stride || !act) return std::nullopt;
    b.out = *out;
    b.kernel = *kernel;
    b.stride = static_cast<int>(*stride);
    b.act = *act;
    return b;
  }
  if (k.scalar == "mbconv") {
    std::vector<std::string> keys = {"kernel", "expand", "se", "act"};
    if (!in_stage) keys.insert(keys.begin(), {"out", "stride"});
    if (!check_keys(v, p, keys,
                    in_stage ? std::vector<std::string>{"kernel", "expand"}
                             : std::vector<std::string>{"out", "kernel", "expand"}))
      return std::nullopt;
    MBConvBlock b;
    auto out = out_of();
    bool ok = keep(out);
    auto kernel =
        param(*v.find("kernel"), p + ".kernel", DomainType::kKernel, label + ".kernel", "k", gate);
    ok &= keep(kernel);
    auto expand =
        param(*v.find("expand"), p + ".expand", DomainType::kExpand, label + ".expand", "e", gate);
    ok &= keep(expand);
    auto se = param_or(v, "se", p, DomainType::kBool, label + ".se", "s", gate, 0);
    ok &= keep(se);
    auto stride = stride_of();
    auto act = act_of(Activation::kRelu6);
    if (!ok || !stride || !act) return std::nullopt;
    b.out = *out;
    b.kernel = *kernel;
    b.expand = *expand;
    b.se = *se;
    b.stride = static_cast<int>(*stride);
    b.act = *act;
    return b;
  }
  // resblock
  std::vector<std::string> keys = {"kernel", "shortcut"};
  if (!in_stage) keys.insert(keys.begin(), {"out", "stride"});
  if (!check_keys(v, p, keys,
                  in_stage ? std::vector<std::string>{} : std::vector<std::string>{"out"}))
    return std::nullopt;
  ResBlock b;
  auto out = out_of();
  bool ok = keep(out);
  auto stride = stride_of();
  auto kernel = fixed_int(v, "kernel", p, kKernelRule, 3);
  std::optional<std::string> shortcut = std::string("auto");
  if (const AstNode* sc = v.find("shortcut"))
    shortcut = get_enum(*sc, p + ".shortcut", {"auto", "identity"});
  if (!ok || !stride || !kernel || !shortcut) return std::nullopt;
  b.out = *out;
  b.stride = *stride;
  b.kernel = static_cast<int>(*kernel);
  b.shortcut = *shortcut == "identity" ? Shortcut::kIdentity : Shortcut::kAuto;
  return b;
}

void SpaceBuilder::apply_block(Block& block, const AstNode& at, const std::string& path, Flow& flow,
                               bool same_width) {
  if (!expect_image(at, path, flow)) {
    flow.ok = false;
    return;
  }
  if (auto* choice = std::get_if<ChoiceBlock>(&block))
    check_choice_shapes(*choice, at, path, flow, same_width);
  const Shape in = flow.cur;
  int stride = 1;
  IntParam out;
  std::visit(
      [&](const auto& b) {
        stride = b.stride;
        out = b.out;
      },
      block);
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
