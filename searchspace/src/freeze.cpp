#include "nasforge/searchspace/freeze.h"

#include <cstdio>
#include <sstream>

namespace nasforge {

namespace {

const char* yes_no(int64_t v) { return v ? "true" : "false"; }

// Shortest faithful form for the values a space holds (dropout rates, bounds): 0.1, 200000.
std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

class Freezer {
 public:
  Freezer(const SearchSpace& s, const Architecture& a) : s_(s), a_(a) {}

  std::string run() {
    out_ << "# " << s_.name() << " frozen at " << s_.to_string(a_) << "\n"
         << "# (written by nasforge export --format yaml; every choice is fixed)\n"
         << "nasforge: 1\n"
         << "name: " << s_.name() << "-frozen\n"
         << "input: {channels: " << s_.input().channels << ", height: " << s_.input().height
         << ", width: " << s_.input().width << "}\n"
         << "classes: " << s_.classes() << "\n";
    cells();
    out_ << "network:\n";
    for (const auto& l : s_.layers()) std::visit([&](const auto& spec) { layer(l, spec); }, l.spec);
    if (!s_.constraints().empty()) {
      out_ << "constraints:\n";
      for (const auto& c : s_.constraints()) {
        out_ << "  - {" << c.metric.str() << ": {";
        if (c.min) out_ << "min: " << number(*c.min) << (c.max ? ", " : "");
        if (c.max) out_ << "max: " << number(*c.max);
        out_ << "}}\n";
      }
    }
    if (!s_.objectives().empty()) {
      out_ << "objectives: {";
      for (size_t i = 0; i < s_.objectives().size(); ++i)
        out_ << (i ? ", " : "") << s_.objectives()[i].str();
      out_ << "}\n";
    }
    return out_.str();
  }

 private:
  int64_t v(const IntParam& p) const { return s_.value(a_, p); }

  void cells() {
    if (s_.cells().empty()) return;
    out_ << "cells:\n";
    for (const auto& c : s_.cells()) {
      // Edges with their fixed ops: a listed cell computes what the chosen cell computes.
      std::vector<std::tuple<int, int, std::string>> edges;
      if (c.choose == 0) {
        for (const auto& e : c.edges) edges.emplace_back(e.from, e.to, s_.name_value(a_, e.op));
      } else {
        for (const auto& ch : c.choices) {
          const auto& set = ch.input_sets[a_[ch.inputs]];
          for (size_t i = 0; i < set.size(); ++i)
            edges.emplace_back(set[i], ch.node, s_.name_value(a_, ch.ops[i]));
        }
        // An input no node chose still has to reach the output: a `none` edge adds nothing.
        for (int in = 0; in < c.inputs; ++in) {
          bool read = false;
          for (const auto& e : edges) read |= std::get<0>(e) == in;
          if (!read) edges.emplace_back(in, c.inputs, "none");
        }
      }
      out_ << "  " << c.name << ": {inputs: " << c.inputs << ", nodes: " << c.nodes
           << ", combine: " << (c.combine == Combine::kConcat ? "concat" : "sum") << ", edges: [";
      for (size_t i = 0; i < edges.size(); ++i)
        out_ << (i ? ", " : "") << "[" << std::get<0>(edges[i]) << ", " << std::get<1>(edges[i])
             << ", " << std::get<2>(edges[i]) << "]";
      out_ << "]}\n";
    }
  }

  // An expand ratio of 1 that was a decision keeps its 1x1 expansion convolution: written as a
  // one-value choice, it stays a decision (of size 1), where a fixed 1 has no expansion.
  std::string expand(const IntParam& e) const {
    const std::string value = std::to_string(v(e));
    return e.is_decision() && v(e) == 1 ? "{choice: [1]}" : value;
  }

  // A layer choice freezes to its chosen alternative: a projecting identity is the 1x1 conv + BN
  // it runs; an identity that passes its input on, or zero, leaves no layer.
  void alternative(const Alternative& alt) {
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, IdentityBlock>) {
            if (x.project)
              out_ << "  - conv: {out: " << v(x.out) << ", kernel: 1, stride: " << x.stride
                   << ", act: none}\n";
          } else if constexpr (!std::is_same_v<T, ZeroBlock>) {
            block(Block(x));
          }
        },
        alt);
  }

  void block(const Block& b, bool stem = false) {
    if (const auto* ch = std::get_if<ChoiceBlock>(&b)) {
      alternative(ch->alternatives[a_[ch->decision]]);
    } else if (const auto* c = std::get_if<ConvBlock>(&b)) {
      out_ << (stem ? "  - stem: {conv: {" : "  - conv: {") << "out: " << v(c->out)
           << ", kernel: " << v(c->kernel) << ", stride: " << c->stride
           << ", act: " << activation_name(c->act) << (stem ? "}}\n" : "}\n");
    } else if (const auto* m = std::get_if<MBConvBlock>(&b)) {
      out_ << "  - mbconv: {out: " << v(m->out) << ", kernel: " << v(m->kernel)
           << ", expand: " << expand(m->expand) << ", se: " << yes_no(v(m->se))
           << ", stride: " << m->stride << ", act: " << activation_name(m->act);
      if (m->groups > 1) out_ << ", groups: " << m->groups;
      if (m->expand_conv) out_ << ", expand_conv: true";
      out_ << "}\n";
    } else if (const auto* sh = std::get_if<ShuffleBlock>(&b)) {
      out_ << "  - " << (sh->xception ? "xception" : "shufflenet") << ": {out: " << v(sh->out);
      if (!sh->xception) out_ << ", kernel: " << v(sh->kernel);
      out_ << ", stride: " << sh->stride << ", act: " << activation_name(sh->act) << "}\n";
    } else {
      const auto& r = std::get<ResBlock>(b);
      out_ << "  - resblock: {out: " << v(r.out) << ", stride: " << r.stride
           << ", kernel: " << r.kernel
           << ", shortcut: " << (r.shortcut == Shortcut::kAuto ? "auto" : "identity")
           << (r.order == ResOrder::kPre ? ", order: pre" : "") << "}\n";
    }
  }

  void layer(const Layer& l, const ConvBlock& b) { block(b, l.name == "stem"); }
  void layer(const Layer&, const MBConvBlock& b) { block(b); }
  void layer(const Layer&, const ResBlock& b) { block(b); }
  void layer(const Layer&, const ShuffleBlock& b) { block(b); }
  void layer(const Layer&, const ChoiceBlock& b) { block(b); }
  void layer(const Layer&, const StageLayer& st) {
    for (int64_t i = 0; i < v(st.depth); ++i) block(st.blocks[static_cast<size_t>(i)]);
  }
  void layer(const Layer&, const CellLayer& c) {
    out_ << "  - cell: {name: " << s_.cells()[c.cell].name << ", out: " << c.width
         << ", stride: " << c.stride << "}\n";
  }
  void layer(const Layer&, const PoolLayer& p) {
    out_ << "  - pool: {type: " << (p.kind == PoolKind::kMax ? "max" : "avg")
         << ", kernel: " << p.kernel << ", stride: " << p.stride << "}\n";
  }
  void layer(const Layer&, const PatchEmbedLayer& p) {
    out_ << "  - patch_embed: {patch: " << p.patch << ", dim: " << v(p.dim) << "}\n";
  }
  void layer(const Layer&, const EncoderLayer& e) {
    const int64_t n = v(e.layers);
    out_ << "  - encoder: {layers: " << n << ", heads: [";
    for (int64_t l = 0; l < n; ++l) out_ << (l ? ", " : "") << v(e.blocks[l].heads);
    out_ << "], ffn: [";
    for (int64_t l = 0; l < n; ++l) out_ << (l ? ", " : "") << v(e.blocks[l].ffn);
    out_ << "], dropout: " << number(e.dropout) << "}\n";
  }
  void layer(const Layer&, const HeadLayer& h) {
    out_ << "  - head: {";
    if (h.norm == HeadNorm::kBatch) out_ << "norm: batch, ";
    if (h.act != Activation::kNone) out_ << "act: " << activation_name(h.act) << ", ";
    out_ << "pool: "
         << (h.pool == GlobalPool::kAvg   ? "global_avg"
             : h.pool == GlobalPool::kMax ? "global_max"
                                          : "flatten")
         << ", dropout: " << number(h.dropout);
    if (v(h.hidden) > 0) out_ << ", classifier: {hidden: " << v(h.hidden) << "}";
    out_ << "}\n";
  }

  const SearchSpace& s_;
  const Architecture& a_;
  std::ostringstream out_;
};

}  // namespace

std::string freeze_space(const SearchSpace& space, const Architecture& arch) {
  return Freezer(space, arch).run();
}

}  // namespace nasforge
