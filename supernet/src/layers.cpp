// Layers that wrap blocks (a block on its own, an elastic-depth stage), pooling and the head,
// plus the copying helpers extraction uses.
#include <torch/torch.h>

#include "internal/layers.h"

namespace nasforge::supernet {

int64_t max_value(const SearchSpace& space, const IntParam& p) {
  if (!p.is_decision()) return p.fixed;
  const auto& ints = space.decisions()[p.decision].domain.ints;
  return *std::max_element(ints.begin(), ints.end());
}

StaticSequence::StaticSequence(std::vector<std::shared_ptr<StaticLayer>> layers)
    : layers_(std::move(layers)) {
  for (size_t i = 0; i < layers_.size(); ++i) register_module(std::to_string(i), layers_[i]);
}

at::Tensor StaticSequence::run(const at::Tensor& x, const at::Tensor& older) {
  at::Tensor h = x;
  for (auto& l : layers_) h = l->run(h, older);
  return h;
}

int StaticSequence::lower(GraphBuilder& g, int x, int older) const {
  for (const auto& l : layers_) x = l->lower(g, x, older);
  return x;
}

torch::nn::Conv2d copy_conv(const ElasticConv2dImpl& conv, int64_t in, int64_t out,
                            int64_t kernel) {
  torch::NoGradGuard no_grad;
  const int64_t groups = conv.groups_for(in);
  torch::nn::Conv2d c(torch::nn::Conv2dOptions(in, conv.depthwise ? in : out, kernel)
                          .stride(conv.stride)
                          .padding(conv.padding_for(kernel))
                          .dilation(conv.dilation)
                          .groups(groups)
                          .bias(false));
  c->weight.copy_(conv.active_weight(in, conv.depthwise ? in : out, kernel));
  return c;
}

torch::nn::BatchNorm2d copy_bn(const ElasticBatchNorm2dImpl& bn, int64_t channels) {
  torch::NoGradGuard no_grad;
  torch::nn::BatchNorm2d b(
      torch::nn::BatchNorm2dOptions(channels).momentum(bn.momentum).eps(bn.eps));
  b->weight.copy_(bn.weight.slice(0, 0, channels));
  b->bias.copy_(bn.bias.slice(0, 0, channels));
  b->running_mean.copy_(bn.running_mean.slice(0, 0, channels));
  b->running_var.copy_(bn.running_var.slice(0, 0, channels));
  b->num_batches_tracked.copy_(bn.num_batches_tracked);
  return b;
}

torch::nn::Linear copy_linear(const ElasticLinearImpl& linear, int64_t in, int64_t out) {
  torch::NoGradGuard no_grad;
  torch::nn::Linear l(torch::nn::LinearOptions(in, out).bias(linear.bias.defined()));
  l->weight.copy_(linear.weight.slice(0, 0, out).slice(1, 0, in));
  if (linear.bias.defined()) l->bias.copy_(linear.bias.slice(0, 0, out));
  return l;
}

torch::nn::LayerNorm copy_layer_norm(const ElasticLayerNormImpl& norm, int64_t features) {
  torch::NoGradGuard no_grad;
  torch::nn::LayerNorm n(torch::nn::LayerNormOptions({features}).eps(norm.eps));
  n->weight.copy_(norm.weight.slice(0, 0, features));
  n->bias.copy_(norm.bias.slice(0, 0, features));
  return n;
}

namespace {

class BlockLayer : public LayerModule {
 public:
  explicit BlockLayer(std::shared_ptr<BlockModule> block)
      : block_(register_module("block", std::move(block))) {}
  at::Tensor run(const at::Tensor& x, const at::Tensor&, const PathContext& ctx) override {
    return block_->run(x, ctx);
  }
  Flow run_relaxed(const Flow& x, const Flow&, const RelaxedContext& r) override {
    return block_->run_relaxed(x, r);
  }
  Extracted extract(const PathContext& ctx, Widths in) const override {
    return block_->extract(ctx, in.cur);
  }

 private:
  std::shared_ptr<BlockModule> block_;
};

// Blocks past the active depth are skipped.
class StageModule : public LayerModule {
 public:
  StageModule(const SearchSpace& space, const StageLayer& spec, int64_t max_in,
              const SupernetOptions& o)
      : depth_(spec.depth) {
    const int64_t max_out = max_value(space, spec.out);
    for (size_t b = 0; b < spec.blocks.size(); ++b)
      blocks_.push_back(
          register_module("block" + std::to_string(b + 1),
                          make_block(space, spec.blocks[b], b == 0 ? max_in : max_out, o)));
  }
  at::Tensor run(const at::Tensor& x, const at::Tensor&, const PathContext& ctx) override {
    at::Tensor h = x;
    const int64_t depth = ctx.value(depth_);
    for (int64_t b = 0; b < depth; ++b) h = blocks_[b]->run(h, ctx);
    return h;
  }
  // Every block runs; the output is sum_d P(depth = d) * (the output after block d).
  Flow run_relaxed(const Flow& x, const Flow&, const RelaxedContext& r) override {
    const Dist depth = r.dist(depth_);
    Flow h = x;
    at::Tensor mixed;
    for (size_t b = 0; b < blocks_.size(); ++b) {
      h = blocks_[b]->run_relaxed(h, r);
      if (at::Tensor p = depth.prob_of(static_cast<int64_t>(b) + 1); p.defined())
        mixed = mixed.defined() ? mixed + p * h.x : p * h.x;
    }
    return {mixed, h.width};  // every block of a stage has the stage's width
  }
  Extracted extract(const PathContext& ctx, Widths in) const override {
    std::vector<std::shared_ptr<StaticLayer>> active;
    int64_t width = in.cur;
    for (int64_t b = 0; b < ctx.value(depth_); ++b) {
      Extracted e = blocks_[b]->extract(ctx, width);
      active.push_back(e.layer);
      width = e.out;
    }
    return {std::make_shared<StaticSequence>(std::move(active)), width};
  }

 private:
  IntParam depth_;
  std::vector<std::shared_ptr<BlockModule>> blocks_;
};

at::Tensor apply_pool(const at::Tensor& x, const PoolLayer& spec) {
  const int64_t pad = spec.kernel / 2;
  return spec.kind == PoolKind::kMax ? torch::max_pool2d(x, spec.kernel, spec.stride, pad)
                                     : torch::avg_pool2d(x, spec.kernel, spec.stride, pad, false,
                                                         /*count_include_pad=*/false);
}

class StaticPool : public StaticLayer {
 public:
  explicit StaticPool(PoolLayer spec) : spec_(spec) {}
  at::Tensor run(const at::Tensor& x, const at::Tensor&) override { return apply_pool(x, spec_); }
  int lower(GraphBuilder& g, int x, int) const override {
    return g.pool(x, spec_.kind == PoolKind::kMax, spec_.kernel, spec_.stride, spec_.kernel / 2);
  }

 private:
  PoolLayer spec_;
};

class PoolModule : public LayerModule {
 public:
  explicit PoolModule(PoolLayer spec) : spec_(spec) {}
  at::Tensor run(const at::Tensor& x, const at::Tensor&, const PathContext&) override {
    return apply_pool(x, spec_);
  }
  Flow run_relaxed(const Flow& x, const Flow&, const RelaxedContext&) override {
    return {apply_pool(x.x, spec_), x.width};  // per channel, so the width mask carries over
  }
  Extracted extract(const PathContext&, Widths in) const override {
    return {std::make_shared<StaticPool>(spec_), in.cur};
  }

 private:
  PoolLayer spec_;
};

at::Tensor global_pool(const at::Tensor& x, GlobalPool pool) {
  if (x.dim() == 3) {  // tokens: N x T x D
    return pool == GlobalPool::kMax   ? std::get<0>(x.max(1))
           : pool == GlobalPool::kAvg ? x.mean(1)
                                      : x.flatten(1);
  }
  switch (pool) {
    case GlobalPool::kAvg:
      return x.mean({2, 3});
    case GlobalPool::kMax:
      return x.amax({2, 3});
    case GlobalPool::kFlatten:
      return x.flatten(1);
  }
  return x;
}

class StaticHead : public StaticLayer {
 public:
  StaticHead(torch::nn::BatchNorm2d norm, Activation act, GlobalPool pool, double dropout,
             torch::nn::Linear hidden, torch::nn::Linear classifier)
      : act_(act),
        pool_(pool),
        dropout_(dropout),
        classifier_(register_module("classifier", classifier)) {
    if (!norm.is_empty()) norm_ = register_module("norm", norm);
    if (!hidden.is_empty()) hidden_ = register_module("hidden", hidden);
  }
  at::Tensor run(const at::Tensor& x, const at::Tensor&) override {
    const at::Tensor in = activate(norm_.is_empty() ? x : norm_(x), act_);
    auto h = torch::dropout(global_pool(in, pool_), dropout_, is_training());
    if (!hidden_.is_empty()) h = torch::relu(hidden_(h));
    return classifier_(h);
  }
  int lower(GraphBuilder& g, int x, int) const override {
    x = g.act(norm_.is_empty() ? x : g.batch_norm(x, norm_), act_);
    int h =
        pool_ == GlobalPool::kFlatten ? g.flatten(x) : g.global_pool(x, pool_ == GlobalPool::kMax);
    if (!hidden_.is_empty()) h = g.act(g.linear(h, hidden_), ActKind::kRelu);
    return g.linear(h, classifier_);
  }

 private:
  torch::nn::BatchNorm2d norm_{nullptr};
  Activation act_;
  GlobalPool pool_;
  double dropout_;
  torch::nn::Linear hidden_{nullptr}, classifier_{nullptr};
};

class HeadModule : public LayerModule {
 public:
  HeadModule(const SearchSpace& space, const HeadLayer& spec, const Shape& in,
             const SupernetOptions& options)
      : spec_(spec) {
    int64_t features = in.channels.back();
    if (spec.norm == HeadNorm::kBatch)
      norm_ = register_module("norm", ElasticBatchNorm2d(features, options.bn_momentum()));
    if (spec.pool == GlobalPool::kFlatten) features *= in.height * in.width;
    if (max_value(space, spec.hidden) > 0) {
      hidden_ = register_module("hidden", ElasticLinear(features, max_value(space, spec.hidden)));
      features = max_value(space, spec.hidden);
    }
    classifier_ = register_module("classifier", ElasticLinear(features, spec.classes));
  }
  at::Tensor run(const at::Tensor& x, const at::Tensor&, const PathContext& ctx) override {
    const at::Tensor in = activate(norm_.is_empty() ? x : norm_(x), spec_.act);
    auto h = torch::dropout(global_pool(in, spec_.pool), spec_.dropout, is_training());
    if (!hidden_.is_empty()) h = torch::relu(hidden_(h, ctx.value(spec_.hidden)));
    return classifier_(h, spec_.classes);
  }
  Flow run_relaxed(const Flow& x, const Flow&, const RelaxedContext& r) override {
    const Dist hidden = r.dist(spec_.hidden);
    auto head = [&](const at::Tensor& features) {
      auto h = torch::dropout(global_pool(features, spec_.pool), spec_.dropout, is_training());
      if (!hidden_.is_empty()) h = mask_width(torch::relu(hidden_(h, hidden.max())), hidden);
      return classifier_(h, spec_.classes);
    };
    // The norm's shift would light the channels a narrower width masks: mask them again.
    const at::Tensor in = norm_.is_empty() && spec_.act == Activation::kNone
                              ? x.x
                              : mask_width(activate(norm_.is_empty() ? x.x : norm_(x.x), spec_.act),
                                           x.width, x.x.dim() == 3 ? 2 : 1);
    // Flattened tokens interleave positions and features, so each width has its own layout.
    const at::Tensor logits =
        in.dim() == 3 && spec_.pool == GlobalPool::kFlatten
            ? mix(x.width, [&](int64_t d) { return head(in.narrow(2, 0, d)); })
            : head(in);
    return {logits, Dist::fixed(spec_.classes)};
  }
  Extracted extract(const PathContext& ctx, Widths in) const override {
    // The pooled features: channels, or channels x positions when flattened.
    int64_t features = spec_.pool == GlobalPool::kFlatten ? in.cur * positions_ : in.cur;
    torch::nn::Linear hidden{nullptr};
    if (!hidden_.is_empty()) {
      hidden = copy_linear(*hidden_, features, ctx.value(spec_.hidden));
      features = ctx.value(spec_.hidden);
    }
    torch::nn::BatchNorm2d norm{nullptr};
    if (!norm_.is_empty()) norm = copy_bn(*norm_, in.cur);
    return {std::make_shared<StaticHead>(norm, spec_.act, spec_.pool, spec_.dropout, hidden,
                                         copy_linear(*classifier_, features, spec_.classes)),
            spec_.classes};
  }
  int64_t positions_ = 1;

 private:
  HeadLayer spec_;
  ElasticBatchNorm2d norm_{nullptr};
  ElasticLinear hidden_{nullptr}, classifier_{nullptr};
};

}  // namespace

std::shared_ptr<LayerModule> make_cell_layer(const SearchSpace& space, const CellLayer& spec,
                                             const Shape& in, const Shape& older,
                                             const SupernetOptions& options);
std::shared_ptr<LayerModule> make_patch_embed(const SearchSpace& space, const PatchEmbedLayer& spec,
                                              const Shape& in);
std::shared_ptr<LayerModule> make_encoder(const SearchSpace& space, const EncoderLayer& spec,
                                          const Shape& in);

std::shared_ptr<LayerModule> make_layer(const SearchSpace& space, const Layer& layer,
                                        const Shape& older, const SupernetOptions& options) {
  const int64_t max_in = layer.in.channels.back();
  return std::visit(
      [&](const auto& spec) -> std::shared_ptr<LayerModule> {
        using T = std::decay_t<decltype(spec)>;
        if constexpr (is_block_v<T>) {
          return std::make_shared<BlockLayer>(make_block(space, spec, max_in, options));
        } else if constexpr (std::is_same_v<T, StageLayer>) {
          return std::make_shared<StageModule>(space, spec, max_in, options);
        } else if constexpr (std::is_same_v<T, PoolLayer>) {
          return std::make_shared<PoolModule>(spec);
        } else if constexpr (std::is_same_v<T, HeadLayer>) {
          auto head = std::make_shared<HeadModule>(space, spec, layer.in, options);
          head->positions_ = layer.in.tokens ? layer.in.height : layer.in.height * layer.in.width;
          return head;
        } else if constexpr (std::is_same_v<T, CellLayer>) {
          return make_cell_layer(space, spec, layer.in, older, options);
        } else if constexpr (std::is_same_v<T, PatchEmbedLayer>) {
          return make_patch_embed(space, spec, layer.in);
        } else {
          return make_encoder(space, spec, layer.in);
        }
      },
      layer.spec);
}

}  // namespace nasforge::supernet
