// Elastic blocks (conv, mbconv, resblock), with their extraction; shuffle blocks are in
// shuffle.cpp, layer choices in choice.cpp.
#include <torch/torch.h>

#include "internal/layers.h"
#include "nasforge/searchspace/units.h"

namespace nasforge::supernet {

namespace {

// conv -> BN -> activation, the static form of ConvBNAct.
class StaticConvBNAct : public StaticLayer {
 public:
  StaticConvBNAct(torch::nn::Conv2d conv, torch::nn::BatchNorm2d bn, Activation act)
      : conv_(register_module("conv", conv)), bn_(register_module("bn", bn)), act_(act) {}
  at::Tensor run(const at::Tensor& x, const at::Tensor&) override {
    return activate(bn_(conv_(x)), act_);
  }
  int lower(GraphBuilder& g, int x, int) const override {
    return g.act(g.conv_bn(x, conv_, bn_), act_);
  }

 private:
  torch::nn::Conv2d conv_;
  torch::nn::BatchNorm2d bn_;
  Activation act_;
};

class ConvBNAct : public BlockModule {
 public:
  ConvBNAct(const SearchSpace& space, const ConvBlock& spec, int64_t max_in,
            const SupernetOptions& o)
      : spec_(spec) {
    conv_ = register_module(
        "conv", ElasticConv2d(max_in, max_value(space, spec.out), max_value(space, spec.kernel),
                              spec.stride, false, 1, o.kernel_transform()));
    bn_ = register_module("bn", ElasticBatchNorm2d(max_value(space, spec.out), o.bn_momentum()));
  }
  at::Tensor run(const at::Tensor& x, const PathContext& ctx) override {
    return activate(bn_(conv_(x, ctx.value(spec_.out), ctx.value(spec_.kernel))), spec_.act);
  }
  Flow run_relaxed(const Flow& x, const RelaxedContext& r) override {
    const Dist out = r.dist(spec_.out), kernel = r.dist(spec_.kernel);
    auto h = conv_->forward_mixed(x.x, out.max(), kernel.values, kernel.p);
    return {mask_width(activate(bn_(h), spec_.act), out), out};
  }
  Extracted extract(const PathContext& ctx, int64_t in) const override {
    const int64_t out = ctx.value(spec_.out);
    return {std::make_shared<StaticConvBNAct>(copy_conv(*conv_, in, out, ctx.value(spec_.kernel)),
                                              copy_bn(*bn_, out), spec_.act),
            out};
  }

 private:
  ConvBlock spec_;
  ElasticConv2d conv_{nullptr};
  ElasticBatchNorm2d bn_{nullptr};
};

class StaticMBConv : public StaticLayer {
 public:
  torch::nn::Conv2d expand{nullptr}, dw{nullptr}, project{nullptr};
  torch::nn::BatchNorm2d expand_bn{nullptr}, dw_bn{nullptr}, project_bn{nullptr};
  torch::nn::Linear se_reduce{nullptr}, se_expand{nullptr};
  Activation act = Activation::kRelu6;
  bool residual = false;
  int64_t shuffle = 1;  // groups of the channel shuffle after the expansion

  at::Tensor run(const at::Tensor& x, const at::Tensor&) override {
    at::Tensor h = x;
    if (!expand.is_empty()) h = activate(expand_bn(expand(h)), act);
    if (shuffle > 1) h = shuffle_channels(h, shuffle);
    h = activate(dw_bn(dw(h)), act);
    if (!se_reduce.is_empty()) {
      auto s = torch::relu(se_reduce(h.mean({2, 3})));
      h = h * torch::hardsigmoid(se_expand(s)).unsqueeze(-1).unsqueeze(-1);
    }
    h = project_bn(project(h));
    return residual ? h + x : h;
  }
  int lower(GraphBuilder& g, int x, int) const override {
    int h = x;
    if (!expand.is_empty()) h = g.act(g.conv_bn(h, expand, expand_bn), act);
    if (shuffle > 1) h = g.shuffle(h, shuffle);
    h = g.act(g.conv_bn(h, dw, dw_bn), act);
    if (!se_reduce.is_empty()) {
      int s = g.act(g.linear(g.global_pool(h, false), se_reduce), ActKind::kRelu);
      h = g.mul(h, g.act(g.linear(s, se_expand), ActKind::kHsigmoid));
    }
    h = g.conv_bn(h, project, project_bn);
    return residual ? g.add(h, x) : h;
  }
};

class MBConv : public BlockModule {
 public:
  MBConv(const SearchSpace& space, const MBConvBlock& spec, int64_t max_in,
         const SupernetOptions& o)
      : spec_(spec) {
    has_expand_ = spec.has_expand();
    const int64_t max_mid = has_expand_ ? max_in * max_value(space, spec.expand) : max_in;
    const int64_t max_out = max_value(space, spec.out), g = spec.groups;
    if (has_expand_) {
      expand_ =
          register_module("expand", ElasticConv2d(max_in, max_mid, 1, 1, false, 1, false, -1, g));
      expand_bn_ = register_module("expand_bn", ElasticBatchNorm2d(max_mid, o.bn_momentum()));
    }
    dw_ = register_module("dw", ElasticConv2d(max_mid, max_mid, max_value(space, spec.kernel),
                                              spec.stride, true, 1, o.kernel_transform()));
    dw_bn_ = register_module("dw_bn", ElasticBatchNorm2d(max_mid, o.bn_momentum()));
    if (max_value(space, spec.se) > 0) {
      se_reduce_ = register_module("se_reduce", ElasticLinear(max_mid, se_width(max_mid)));
      se_expand_ = register_module("se_expand", ElasticLinear(se_width(max_mid), max_mid));
    }
    project_ =
        register_module("project", ElasticConv2d(max_mid, max_out, 1, 1, false, 1, false, -1, g));
    project_bn_ = register_module("project_bn", ElasticBatchNorm2d(max_out, o.bn_momentum()));
  }

  at::Tensor run(const at::Tensor& x, const PathContext& ctx) override {
    const int64_t in = x.size(1), out = ctx.value(spec_.out);
    const int64_t mid = has_expand_ ? in * ctx.value(spec_.expand) : in;
    at::Tensor h = x;
    if (has_expand_) h = activate(expand_bn_(expand_(h, mid, 1)), spec_.act);
    if (spec_.groups > 1) h = shuffle_channels(h, spec_.groups);
    h = activate(dw_bn_(dw_(h, mid, ctx.value(spec_.kernel))), spec_.act);
    if (ctx.value(spec_.se)) {
      auto s = torch::relu(se_reduce_(h.mean({2, 3}), se_width(mid)));
      h = h * torch::hardsigmoid(se_expand_(s, mid)).unsqueeze(-1).unsqueeze(-1);
    }
    h = project_bn_(project_(h, out, 1));
    return spec_.stride == 1 && in == out ? h + x : h;
  }

  // The expansion width is in x expand over both distributions; squeeze-excite mixes the gated
  // and ungated features by P(se); the residual weighs P(in == out). A grouped block's widths
  // are fixed (the checker sees to it), so its shuffle sees no masked channels.
  Flow run_relaxed(const Flow& x, const RelaxedContext& r) override {
    const Dist out = r.dist(spec_.out), kernel = r.dist(spec_.kernel);
    const Dist mid = has_expand_ ? combine(x.width, r.dist(spec_.expand),
                                           [](int64_t in, int64_t e) { return in * e; })
                                 : x.width;
    const int64_t max_mid = dw_->max_out;
    at::Tensor h = fit_width(x.x, has_expand_ ? expand_->max_in : max_mid);
    if (has_expand_) h = mask_width(activate(expand_bn_(expand_(h, max_mid, 1)), spec_.act), mid);
    if (spec_.groups > 1) h = shuffle_channels(h, spec_.groups);
    h = dw_->forward_mixed(h, max_mid, kernel.values, kernel.p);
    h = mask_width(activate(dw_bn_(h), spec_.act), mid);
    if (!se_reduce_.is_empty()) {
      const Dist reduced =
          combine(mid, Dist::fixed(0), [](int64_t m, int64_t) { return se_width(m); });
      auto s = mask_width(torch::relu(se_reduce_(h.mean({2, 3}), se_reduce_->max_out)), reduced);
      auto gated = h * torch::hardsigmoid(se_expand_(s, max_mid)).unsqueeze(-1).unsqueeze(-1);
      const at::Tensor plain = h;
      h = mix(r.dist(spec_.se), [&](int64_t on) { return on ? gated : plain; });
    }
    h = mask_width(project_bn_(project_(h, out.max(), 1)), out);
    if (spec_.stride == 1) {
      if (at::Tensor same = prob_equal(x.width, out); same.defined())
        h = h + same * fit_width(x.x, h.size(1));
    }
    return {h, out};
  }

  Extracted extract(const PathContext& ctx, int64_t in) const override {
    auto m = std::make_shared<StaticMBConv>();
    const int64_t out = ctx.value(spec_.out);
    const int64_t mid = has_expand_ ? in * ctx.value(spec_.expand) : in;
    m->act = spec_.act;
    m->shuffle = spec_.groups;
    if (has_expand_) {
      m->expand = m->register_module("expand", copy_conv(*expand_, in, mid, 1));
      m->expand_bn = m->register_module("expand_bn", copy_bn(*expand_bn_, mid));
    }
    m->dw = m->register_module("dw", copy_conv(*dw_, mid, mid, ctx.value(spec_.kernel)));
    m->dw_bn = m->register_module("dw_bn", copy_bn(*dw_bn_, mid));
    if (ctx.value(spec_.se)) {
      m->se_reduce = m->register_module("se_reduce", copy_linear(*se_reduce_, mid, se_width(mid)));
      m->se_expand = m->register_module("se_expand", copy_linear(*se_expand_, se_width(mid), mid));
    }
    m->project = m->register_module("project", copy_conv(*project_, mid, out, 1));
    m->project_bn = m->register_module("project_bn", copy_bn(*project_bn_, out));
    m->residual = spec_.stride == 1 && in == out;
    return {m, out};
  }

 private:
  MBConvBlock spec_;
  bool has_expand_ = true;
  ElasticConv2d expand_{nullptr}, dw_{nullptr}, project_{nullptr};
  ElasticBatchNorm2d expand_bn_{nullptr}, dw_bn_{nullptr}, project_bn_{nullptr};
  ElasticLinear se_reduce_{nullptr}, se_expand_{nullptr};
};

class StaticResBlock : public StaticLayer {
 public:
  torch::nn::Conv2d conv_a{nullptr}, conv_b{nullptr}, shortcut{nullptr};
  torch::nn::BatchNorm2d bn_a{nullptr}, bn_b{nullptr}, shortcut_bn{nullptr};
  bool pre = false;  // ResOrder::kPre
  int64_t pool = 1;  // > 1: the shortcut average-pools pool x pool first (order: pre, strided)

  at::Tensor run(const at::Tensor& x, const at::Tensor&) override {
    if (!pre) {
      auto h = bn_b(conv_b(torch::relu(bn_a(conv_a(x)))));
      return torch::relu(h + (shortcut.is_empty() ? x : shortcut_bn(shortcut(x))));
    }
    auto h = bn_b(conv_b(torch::relu(bn_a(conv_a(torch::relu(x))))));
    if (shortcut.is_empty()) return h + x;
    if (pool > 1) return h + shortcut(torch::avg_pool2d(x, pool, pool));
    return h + shortcut_bn(shortcut(torch::relu(x)));
  }
  int lower(GraphBuilder& g, int x, int) const override {
    if (!pre) {
      int h = g.conv_bn(g.act(g.conv_bn(x, conv_a, bn_a), ActKind::kRelu), conv_b, bn_b);
      return g.act(g.add(h, shortcut.is_empty() ? x : g.conv_bn(x, shortcut, shortcut_bn)),
                   ActKind::kRelu);
    }
    const int r = g.act(x, ActKind::kRelu);
    int h = g.conv_bn(g.act(g.conv_bn(r, conv_a, bn_a), ActKind::kRelu), conv_b, bn_b);
    if (shortcut.is_empty()) return g.add(h, x);
    if (pool > 1) return g.add(h, g.conv(g.pool(x, false, pool, pool, 0), shortcut));
    return g.add(h, g.conv_bn(r, shortcut, shortcut_bn));
  }
};

class ResBlockModule : public BlockModule {
 public:
  ResBlockModule(const SearchSpace& space, const ResBlock& spec, int64_t max_in,
                 const SupernetOptions& o)
      : spec_(spec), pre_(spec.order == ResOrder::kPre), pooled_(pre_ && spec.stride > 1) {
    const int64_t max_out = max_value(space, spec.out);
    conv_a_ = register_module("conv_a", ElasticConv2d(max_in, max_out, spec.kernel, spec.stride));
    bn_a_ = register_module("bn_a", ElasticBatchNorm2d(max_out, o.bn_momentum()));
    conv_b_ = register_module("conv_b", ElasticConv2d(max_out, max_out, spec.kernel, 1));
    bn_b_ = register_module("bn_b", ElasticBatchNorm2d(max_out, o.bn_momentum()));
    if (spec.shortcut != Shortcut::kIdentity) {
      shortcut_ =
          register_module("shortcut", ElasticConv2d(max_in, max_out, 1, pooled_ ? 1 : spec.stride));
      if (!pooled_)
        shortcut_bn_ = register_module("shortcut_bn", ElasticBatchNorm2d(max_out, o.bn_momentum()));
    }
  }

  // The projection runs where the shapes differ (shortcut: auto).
  bool projects(int64_t in, int64_t out) const {
    return !shortcut_.is_empty() && (spec_.stride != 1 || in != out);
  }

  at::Tensor run(const at::Tensor& x, const PathContext& ctx) override {
    const int64_t in = x.size(1), out = ctx.value(spec_.out);
    const at::Tensor first = pre_ ? torch::relu(x) : x;
    auto h =
        bn_b_(conv_b_(torch::relu(bn_a_(conv_a_(first, out, spec_.kernel))), out, spec_.kernel));
    const at::Tensor sum = h + (projects(in, out) ? project(x, out) : x);
    return pre_ ? sum : torch::relu(sum);
  }

  // The shortcut is the identity with P(in == out) and the projection otherwise (stride 1).
  Flow run_relaxed(const Flow& x, const RelaxedContext& r) override {
    const Dist out = r.dist(spec_.out);
    const int64_t max_out = out.max();
    const at::Tensor first = pre_ ? torch::relu(x.x) : x.x;
    auto h = mask_width(torch::relu(bn_a_(conv_a_(first, max_out, spec_.kernel))), out);
    h = bn_b_(conv_b_(h, max_out, spec_.kernel));
    const at::Tensor same = spec_.stride == 1 ? prob_equal(x.width, out) : at::Tensor();
    at::Tensor shortcut;
    if (same.defined()) shortcut = same * fit_width(x.x, max_out);
    if (!shortcut_.is_empty()) {
      auto projected = project(x.x, max_out);
      shortcut = same.defined() ? shortcut + (1 - same) * projected : projected;
    }
    return {mask_width(pre_ ? h + shortcut : torch::relu(h + shortcut), out), out};
  }

  Extracted extract(const PathContext& ctx, int64_t in) const override {
    auto m = std::make_shared<StaticResBlock>();
    const int64_t out = ctx.value(spec_.out);
    m->pre = pre_;
    m->conv_a = m->register_module("conv_a", copy_conv(*conv_a_, in, out, spec_.kernel));
    m->bn_a = m->register_module("bn_a", copy_bn(*bn_a_, out));
    m->conv_b = m->register_module("conv_b", copy_conv(*conv_b_, out, out, spec_.kernel));
    m->bn_b = m->register_module("bn_b", copy_bn(*bn_b_, out));
    if (projects(in, out)) {
      m->shortcut = m->register_module("shortcut", copy_conv(*shortcut_, in, out, 1));
      if (pooled_)
        m->pool = spec_.stride;
      else
        m->shortcut_bn = m->register_module("shortcut_bn", copy_bn(*shortcut_bn_, out));
    }
    return {m, out};
  }

 private:
  // The 1x1 projection of the shortcut: conv -> BN (order: post); average pool -> conv when
  // strided, ReLU -> conv -> BN otherwise (order: pre).
  at::Tensor project(const at::Tensor& x, int64_t out) {
    if (!pre_) return shortcut_bn_(shortcut_(x, out, 1));
    if (pooled_) return shortcut_(torch::avg_pool2d(x, spec_.stride, spec_.stride), out, 1);
    return shortcut_bn_(shortcut_(torch::relu(x), out, 1));
  }

  ResBlock spec_;
  bool pre_, pooled_;
  ElasticConv2d conv_a_{nullptr}, conv_b_{nullptr}, shortcut_{nullptr};
  ElasticBatchNorm2d bn_a_{nullptr}, bn_b_{nullptr}, shortcut_bn_{nullptr};
};

}  // namespace

std::shared_ptr<BlockModule> make_block(const SearchSpace& space, const Block& block,
                                        int64_t max_in, const SupernetOptions& options) {
  if (const auto* c = std::get_if<ConvBlock>(&block))
    return std::make_shared<ConvBNAct>(space, *c, max_in, options);
  if (const auto* m = std::get_if<MBConvBlock>(&block))
    return std::make_shared<MBConv>(space, *m, max_in, options);
  if (const auto* r = std::get_if<ResBlock>(&block))
    return std::make_shared<ResBlockModule>(space, *r, max_in, options);
  if (const auto* s = std::get_if<ShuffleBlock>(&block))
    return make_shuffle_block(space, *s, max_in, options);
  return make_choice_block(space, std::get<ChoiceBlock>(block), max_in, options);
}

}  // namespace nasforge::supernet
