// The network part of the DSL checker: the layer sequence, cell uses, the transformer layers,
// the head, and the shapes that flow between them. Blocks and stages are in check_blocks.cpp.
#include <algorithm>
#include <cstdio>
#include <set>

#include "internal/checker.h"
#include "nasforge/searchspace/ops.h"

namespace nasforge {

namespace {

const std::vector<std::string> kLayerKinds = {
    "stem",  "conv", "mbconv", "resblock", "shufflenet",  "xception", "choose",
    "stage", "cell", "repeat", "pool",     "patch_embed", "encoder",  "head"};

std::string set_str(const std::vector<int64_t>& v) {
  if (v.size() == 1) return std::to_string(v[0]);
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "}";
}

}  // namespace

std::string SpaceBuilder::next_name(const std::string& kind) {
  return kind + std::to_string(++counters_[kind]);
}

int SpaceBuilder::open_section(const std::string& name, Section::Kind kind) {
  Section sec;
  sec.name = name;
  sec.kind = kind;
  s_.sections_.push_back(sec);
  section_ = static_cast<int>(s_.sections_.size()) - 1;
  return section_;
}

bool SpaceBuilder::expect_image(const AstNode& at, const std::string& path, const Flow& flow) {
  if (!flow.cur.tokens) return true;
  error(at, path, "expected an image (channels x height x width), got a token sequence");
  return false;
}

bool SpaceBuilder::apply_stride(int stride, const AstNode& at, const std::string& path, Shape& s) {
  if (stride == 1) return true;
  if (s.height < stride || s.width < stride) {
    error(at, path,
          "expected a spatial size of at least " + std::to_string(stride) + "x" +
              std::to_string(stride) + " before a stride-" + std::to_string(stride) +
              " layer, got " + std::to_string(s.height) + "x" + std::to_string(s.width));
    return false;
  }
  // Odd kernels with padding k/2 give ceil(size / stride).
  s.height = (s.height + stride - 1) / stride;
  s.width = (s.width + stride - 1) / stride;
  return true;
}

namespace {

// One image's activation must be allocatable: this bounds it, so that a space check accepts
// only what a supernet can hold, instead of an out-of-memory abort later.
constexpr double kMaxActivationValues = 1073741824.0;  // 2^30 values, 4 GiB of float32

// The values of the largest activation of this shape (the widest channel choice).
double activation_values(const Shape& s) {
  if (s.channels.empty()) return 0;
  return static_cast<double>(s.channels.back()) * static_cast<double>(s.height) *
         static_cast<double>(s.width);
}

}  // namespace

bool SpaceBuilder::check_activation(const AstNode& at, const std::string& path, const Shape& s) {
  const double values = activation_values(s);
  if (values <= kMaxActivationValues) return true;
  char got[96];
  std::snprintf(got, sizeof got, "%.4g values (%.4g GiB of float32)", values,
                values * 4 / (1024.0 * 1024 * 1024));
  error(at, path,
        "expected at most 2^30 values (4 GiB of float32) in one image's activation, got " +
            s.str() + " = " + got);
  return false;
}

void SpaceBuilder::push_layer(Layer layer, Flow& flow) {
  // A two-input cell reads the outputs of the two layers before it; right after the first
  // layer both are that layer's output (as in DARTS, where both come from the stem).
  flow.prev = s_.layers_.empty() ? flow.cur : layer.in;
  s_.layers_.push_back(std::move(layer));
}

void SpaceBuilder::check_network(const AstNode& seq, const std::string& path) {
  if (!seq.is_sequence() || seq.items.empty()) {
    error(seq, path, "expected a non-empty sequence of layers, got " + seq.describe());
    return;
  }
  Flow flow;
  flow.cur.channels = {s_.input_.channels};
  flow.cur.height = s_.input_.height;
  flow.cur.width = s_.input_.width;
  flow.prev = flow.cur;
  flow.ok = s_.input_.channels > 0 && s_.input_.height > 0 && s_.input_.width > 0;
  // An input too large to allocate is reported where it is declared; no layer is sized on it.
  flow.ok = flow.ok && activation_values(flow.cur) <= kMaxActivationValues;
  for (size_t i = 0; i < seq.items.size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    check_item(seq.items[i], at, flow, i + 1 == seq.items.size());
    if (flow.ok && !check_activation(seq.items[i], at, flow.cur)) flow.ok = false;
  }
  const AstNode& last = seq.items.back();
  if (!last.is_mapping() || last.entries.size() != 1 || last.entries[0].first.scalar != "head") {
    std::string got = last.is_mapping() && !last.entries.empty()
                          ? "'" + last.entries[0].first.scalar + "'"
                          : last.describe();
    error(last, path + "[" + std::to_string(seq.items.size() - 1) + "]",
          "expected a head as the last layer, got " + got);
  }
}

void SpaceBuilder::check_item(const AstNode& item, const std::string& path, Flow& flow,
                              bool is_last) {
  if (!item.is_mapping() || item.entries.size() != 1) {
    error(
        item, path,
        "expected a mapping with one layer kind (stem, stage, cell, head, ...), got " +
            (item.is_mapping() ? std::to_string(item.entries.size()) + " keys" : item.describe()));
    return;
  }
  const auto& [k, v] = item.entries[0];
  const std::string kind = k.scalar;
  const std::string p = path + "." + kind;
  section_ = -1;
  if (std::find(kLayerKinds.begin(), kLayerKinds.end(), kind) == kLayerKinds.end()) {
    std::string msg =
        "expected a layer kind (stem, conv, mbconv, resblock, shufflenet, xception, choose, "
        "stage, cell, repeat, pool, patch_embed, encoder, head), got '" +
        kind + "'";
    std::string near = closest_match(kind, kLayerKinds);
    if (!near.empty()) msg += " (did you mean '" + near + "'?)";
    error(k, p, msg);
    return;
  }
  if (kind == "head" && !is_last) {
    error(k, p, "expected the head as the last layer, got it before other layers");
    return;
  }
  if (kind == "repeat") {
    if (!expect_mapping(v, p, "{times, body}") ||
        !check_keys(v, p, {"times", "body"}, {"times", "body"}))
      return;
    auto times = fixed_int(v, "times", p, kRepeatRule, 1);
    if (!times) return;
    const AstNode& body = *v.find("body");
    std::vector<const AstNode*> items;
    if (body.is_sequence()) {
      for (const auto& b : body.items) items.push_back(&b);
    } else {
      items.push_back(&body);
    }
    if (items.empty()) {
      error(body, p + ".body", "expected a layer or a non-empty sequence of layers, got nothing");
      return;
    }
    for (int64_t t = 0; t < *times; ++t) {
      size_t before = d_.size();
      for (size_t j = 0; j < items.size(); ++j)
        check_item(*items[j],
                   body.is_sequence() ? p + ".body[" + std::to_string(j) + "]" : p + ".body", flow,
                   false);
      if (d_.size() != before) break;  // report a broken body once, not `times` times
    }
    return;
  }
  if (kind == "stage") return check_stage(v, p, flow, k.loc);
  if (kind == "cell") return check_cell_use(v, p, flow, k.loc);
  if (kind == "encoder") return check_encoder(v, p, flow, k.loc);
  if (kind == "head") return check_head(v, p, flow, k.loc);

  Layer layer;
  layer.loc = k.loc;
  layer.in = flow.cur;
  if (kind == "pool") {
    if (!expect_mapping(v, p, "{type, kernel, stride}") ||
        !check_keys(v, p, {"type", "kernel", "stride"}, {}))
      return;
    PoolLayer pool;
    if (const AstNode* t = v.find("type")) {
      auto s = get_enum(*t, p + ".type", {"max", "avg"});
      if (!s) return;
      pool.kind = *s == "avg" ? PoolKind::kAvg : PoolKind::kMax;
    }
    auto kernel = fixed_int(v, "kernel", p, kKernelRule, pool.kernel);
    auto stride = fixed_int(v, "stride", p, kStrideRule, pool.stride);
    if (!kernel || !stride) return;
    pool.kernel = static_cast<int>(*kernel);
    pool.stride = static_cast<int>(*stride);
    layer.name = next_name("pool");
    if (flow.ok && expect_image(k, p, flow))
      flow.ok = apply_stride(pool.stride, v.find("stride") ? *v.find("stride") : k, p, flow.cur);
    layer.spec = pool;
  } else if (kind == "patch_embed") {
    if (!expect_mapping(v, p, "{patch, dim}") ||
        !check_keys(v, p, {"patch", "dim"}, {"patch", "dim"}))
      return;
    layer.name = next_name("embed");
    open_section(layer.name, Section::Kind::kLayer);
    auto patch = get_int(*v.find("patch"), p + ".patch", "a patch size in [1, 64]");
    auto dim = param(*v.find("dim"), p + ".dim", DomainType::kChannels, layer.name + ".dim", "w",
                     std::nullopt);
    if (!patch || !dim) return;
    if (dim->is_decision()) s_.sections_[section_].head.push_back(dim->decision);
    if (*patch < 1 || *patch > 64) {
      error(*v.find("patch"), p + ".patch",
            "expected a patch size in [1, 64], got " + std::to_string(*patch));
      return;
    }
    if (flow.ok && expect_image(k, p, flow)) {
      if (flow.cur.height % *patch != 0 || flow.cur.width % *patch != 0 ||
          flow.cur.height < *patch || flow.cur.width < *patch) {
        error(*v.find("patch"), p + ".patch",
              "expected a patch size that divides the " + std::to_string(flow.cur.height) + "x" +
                  std::to_string(flow.cur.width) + " input, got " + std::to_string(*patch));
      }
      // After an error, go on with the whole patches that fit so later layers are checked too.
      if (flow.cur.height < *patch || flow.cur.width < *patch) {
        flow.ok = false;
      } else {
        flow.cur.tokens = true;
        flow.cur.height = (flow.cur.height / *patch) * (flow.cur.width / *patch);
        flow.cur.width = 1;
        flow.cur.channels = values(*dim);
      }
    }
    layer.spec = PatchEmbedLayer{static_cast<int>(*patch), *dim};
  } else {
    // stem or a standalone block
    const AstNode* block_item = &item;
    std::string block_path = path;
    if (kind == "stem") {
      layer.name = "stem";
      block_item = &v;
      block_path = p;
    } else {
      layer.name = next_name(kind == "choose" ? "layer" : kind);
    }
    open_section(layer.name, Section::Kind::kLayer);
    std::vector<int> decisions;
    auto block = check_block(*block_item, block_path, layer.name, std::nullopt, false, &decisions);
    if (!block) return;
    s_.sections_[section_].head = decisions;
    if (flow.ok) apply_block(*block, k, p, flow, false);
    std::visit([&](const auto& b) { layer.spec = b; }, *block);
  }
  if (section_ >= 0 && s_.sections_[section_].head.empty() &&
      s_.sections_[section_].groups.empty() &&
      section_ + 1 == static_cast<int>(s_.sections_.size()))
    s_.sections_.pop_back();
  section_ = -1;
  layer.out = flow.cur;
  push_layer(std::move(layer), flow);
}

void SpaceBuilder::check_cell_use(const AstNode& v, const std::string& p, Flow& flow,
                                  const SourceLoc& loc) {
  const AstNode* name_node = &v;
  std::optional<int64_t> width, stride = 1;
  if (v.is_mapping()) {
    if (!check_keys(v, p, {"name", "out", "stride"}, {"name"})) return;
    name_node = v.find("name");
    if (v.find("out")) {
      width = fixed_int(v, "out", p, kChannelsRule, 0);
      if (!width) return;
    }
    stride = fixed_int(v, "stride", p, kStrideRule, 1);
    if (!stride) return;
  }
  if (!name_node->is_scalar()) {
    error(*name_node, p,
          "expected a cell name or {name, out, stride}, got " + name_node->describe());
    return;
  }
  const std::string& name = name_node->scalar;
  auto def = cell_defs_.find(name);
  if (def == cell_defs_.end()) {
    std::vector<std::string> names;
    for (const auto& [n, _] : cell_defs_) names.push_back(n);
    std::string msg = "expected a cell defined under cells, got '" + name + "'";
    std::string near = closest_match(name, names);
    if (!near.empty()) msg += " (did you mean '" + near + "'?)";
    error(*name_node, p, msg);
    return;
  }
  int idx = -1;
  for (size_t i = 0; i < s_.cells_.size(); ++i)
    if (s_.cells_[i].name == name) idx = static_cast<int>(i);
  used_cells_.insert(name);
  if (idx < 0) {  // the definition had errors, already reported
    flow.ok = false;
    return;
  }
  const CellTemplate& cell = s_.cells_[idx];
  Layer layer;
  layer.loc = loc;
  layer.in = flow.cur;
  layer.name = next_name("cell");
  CellLayer use;
  use.cell = idx;
  use.stride = static_cast<int>(*stride);
  if (flow.ok && expect_image(*name_node, p, flow)) {
    if (!width) {
      if (flow.cur.channels.size() != 1) {
        error(*name_node, p,
              "expected fixed input channels for cell '" + name + "' (or an explicit out), got " +
                  set_str(flow.cur.channels));
        flow.ok = false;
        return;
      }
      width = flow.cur.channels[0];
    }
    use.width = *width;
    if (cell.inputs == 1) {
      // Without preprocessing, ops that keep channels need matching widths on both ends.
      bool keeps_channels = false;
      std::string which;
      for (const auto& e : cell.edges)
        for (const auto& op : s_.decisions_[e.op].domain.names)
          if (!find_cell_op(op)->can_change_channels && which.empty()) which = op;
      keeps_channels = !which.empty();
      if (keeps_channels && (flow.cur.channels.size() != 1 || flow.cur.channels[0] != *width)) {
        error(*name_node, p,
              "expected input channels equal to the cell width " + std::to_string(*width) +
                  " because op '" + which + "' keeps channels, got " + set_str(flow.cur.channels));
        flow.ok = false;
      }
    } else {
      // Two-input cells preprocess their inputs; the older one may be at twice the resolution.
      const Shape& older = flow.prev;
      bool same = older.height == flow.cur.height && older.width == flow.cur.width;
      bool twice = older.height == 2 * flow.cur.height || older.height == 2 * flow.cur.height - 1;
      if (older.tokens || (!same && !twice)) {
        error(*name_node, p,
              "expected the two inputs of cell '" + name +
                  "' at equal or twice the resolution, got " + older.str() + " and " +
                  flow.cur.str());
        flow.ok = false;
      }
    }
    if (flow.ok && apply_stride(use.stride, *name_node, p, flow.cur)) {
      int64_t n = cell.combine == Combine::kConcat ? cell.nodes - cell.inputs : 1;
      flow.cur.channels = {*width * n};
    } else {
      flow.ok = false;
    }
  }
  layer.spec = use;
  layer.out = flow.cur;
  push_layer(std::move(layer), flow);
}

void SpaceBuilder::check_encoder(const AstNode& v, const std::string& p, Flow& flow,
                                 const SourceLoc& loc) {
  if (!expect_mapping(v, p, "{layers, heads, ffn, dropout}") ||
      !check_keys(v, p, {"layers", "heads", "ffn", "dropout"}, {"layers", "heads", "ffn"}))
    return;
  Layer layer;
  layer.loc = loc;
  layer.in = flow.cur;
  layer.name = next_name("encoder");
  open_section(layer.name, Section::Kind::kBlocks);
  EncoderLayer enc;
  auto layers = param(*v.find("layers"), p + ".layers", DomainType::kLayers, layer.name + ".layers",
                      "l", std::nullopt);
  auto dropout = dropout_of(v, p);
  if (!dropout) return;
  enc.dropout = *dropout;
  if (!layers) return;
  if (layers->is_decision()) s_.sections_[section_].head.push_back(layers->decision);
  enc.layers = *layers;
  // An encoder on an image is reported, and the image flows on so later layers are still
  // checked.
  const bool on_tokens = flow.cur.tokens;
  if (flow.ok && !on_tokens)
    error(*v.find("layers"), p,
          "expected a token sequence (put a patch_embed before the encoder), got an image");
  const auto counts = values(*layers);
  // heads and ffn: one domain for every layer, or a sequence with one per layer.
  auto per_layer = [&](const char* key) {
    const AstNode& n = *v.find(key);
    if (!n.is_sequence()) return true;
    if (static_cast<int64_t>(n.items.size()) == counts.back()) return true;
    error(n, p + "." + key,
          "expected one value per layer (" + std::to_string(counts.back()) + "), got " +
              std::to_string(n.items.size()));
    return false;
  };
  if (!per_layer("heads") || !per_layer("ffn")) return;
  auto at = [&](const char* key, int64_t l, std::string& path) -> const AstNode& {
    const AstNode& n = *v.find(key);
    path = p + "." + key;
    if (!n.is_sequence()) return n;
    path += "[" + std::to_string(l - 1) + "]";
    return n.items[static_cast<size_t>(l - 1)];
  };
  for (int64_t l = 1; l <= counts.back(); ++l) {
    std::optional<Gate> gate;
    if (layers->is_decision() && l > counts.front()) gate = Gate{layers->decision, l};
    std::string label = layer.name + ".layer" + std::to_string(l);
    size_t before = d_.size();
    std::string heads_path, ffn_path;
    const AstNode& heads_node = at("heads", l, heads_path);
    const AstNode& ffn_node = at("ffn", l, ffn_path);
    auto heads = param(heads_node, heads_path, DomainType::kHeads, label + ".heads", "h", gate);
    auto ffn = param(ffn_node, ffn_path, DomainType::kChannels, label + ".ffn", "f", gate);
    if (!heads || !ffn || d_.size() != before) return;
    std::vector<int> group;
    if (heads->is_decision()) group.push_back(heads->decision);
    if (ffn->is_decision()) group.push_back(ffn->decision);
    if (!group.empty()) s_.sections_[section_].groups.push_back(group);
    if ((l == 1 || v.find("heads")->is_sequence()) && flow.ok && on_tokens) {
      for (int64_t h : values(*heads))
        for (int64_t c : flow.cur.channels)
          if (c % h != 0) {
            error(heads_node, heads_path,
                  "expected a head count that divides every hidden width " +
                      set_str(flow.cur.channels) + ", got " + std::to_string(h) + " (" +
                      std::to_string(c) + " % " + std::to_string(h) + " = " +
                      std::to_string(c % h) + ")");
            return;
          }
    }
    enc.blocks.push_back({*heads, *ffn});
  }
  if (s_.sections_[section_].head.empty() && s_.sections_[section_].groups.empty())
    s_.sections_.pop_back();
  section_ = -1;
  layer.spec = enc;
  layer.out = flow.cur;
  push_layer(std::move(layer), flow);
}

void SpaceBuilder::check_head(const AstNode& v, const std::string& p, Flow& flow,
                              const SourceLoc& loc) {
  if (!v.is_null() && (!expect_mapping(v, p, "{norm, act, pool, dropout, classifier}") ||
                       !check_keys(v, p, {"norm", "act", "pool", "dropout", "classifier"}, {})))
    return;
  Layer layer;
  layer.loc = loc;
  layer.in = flow.cur;
  layer.name = "head";
  HeadLayer head;
  head.classes = s_.classes_;
  if (const AstNode* pn = v.is_mapping() ? v.find("pool") : nullptr) {
    auto s = get_enum(*pn, p + ".pool", {"global_avg", "global_max", "flatten"});
    if (!s) return;
    head.pool = *s == "global_max" ? GlobalPool::kMax
                : *s == "flatten"  ? GlobalPool::kFlatten
                                   : GlobalPool::kAvg;
  }
  if (const AstNode* nn = v.is_mapping() ? v.find("norm") : nullptr) {
    auto s = get_enum(*nn, p + ".norm", {"batch", "none"});
    if (!s) return;
    head.norm = *s == "batch" ? HeadNorm::kBatch : HeadNorm::kNone;
    if (head.norm == HeadNorm::kBatch && flow.cur.tokens) {
      error(*nn, p + ".norm",
            "expected an image input for norm: batch, got tokens (an encoder's layers end in "
            "their own layer norm)");
      return;
    }
  }
  auto act = act_of(v, p, Activation::kNone);
  if (!act) return;
  head.act = *act;
  auto dropout = dropout_of(v, p);
  if (!dropout) return;
  head.dropout = *dropout;
  if (const AstNode* cn = v.is_mapping() ? v.find("classifier") : nullptr) {
    if (cn->is_scalar() && cn->scalar == "linear") {
      // default
    } else if (cn->is_mapping()) {
      if (!check_keys(*cn, p + ".classifier", {"hidden"}, {"hidden"})) return;
      open_section("head", Section::Kind::kLayer);
      auto hidden = param(*cn->find("hidden"), p + ".classifier.hidden", DomainType::kChannels,
                          "head.hidden", "w", std::nullopt);
      if (!hidden) return;
      if (hidden->is_decision())
        s_.sections_[section_].head.push_back(hidden->decision);
      else
        s_.sections_.pop_back();
      section_ = -1;
      head.hidden = *hidden;
    } else {
      error(*cn, p + ".classifier", "expected linear or {hidden: N}, got " + cn->describe());
      return;
    }
  }
  flow.cur.tokens = false;
  flow.cur.channels = {s_.classes_};
  flow.cur.height = flow.cur.width = 1;
  layer.spec = head;
  layer.out = flow.cur;
  push_layer(std::move(layer), flow);
}

}  // namespace nasforge
