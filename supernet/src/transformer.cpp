// The transformer family: patch embedding with an elastic hidden width, and a pre-norm encoder
// whose depth, heads and FFN width are elastic.
#include <torch/torch.h>

#include <cmath>

#include "internal/layers.h"

namespace nasforge::supernet {

namespace {

// Multi-head self-attention over N x T x D tokens, heads splitting the hidden width.
at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads,
                     double dropout, bool training) {
  const int64_t n = q.size(0), t = q.size(1), d = q.size(2), hd = d / heads;
  auto split = [&](const at::Tensor& x) { return x.view({n, t, heads, hd}).transpose(1, 2); };
  auto scores =
      torch::matmul(split(q), split(k).transpose(-2, -1)) / std::sqrt(static_cast<double>(hd));
  auto weights = torch::dropout(torch::softmax(scores, -1), dropout, training);
  return torch::matmul(weights, split(v)).transpose(1, 2).reshape({n, t, d});
}

class StaticPatchEmbed : public StaticLayer {
 public:
  StaticPatchEmbed(torch::nn::Conv2d proj, at::Tensor pos)
      : proj_(register_module("proj", proj)), pos_(register_parameter("pos", pos)) {}
  at::Tensor run(const at::Tensor& x, const at::Tensor&) override {
    return proj_(x).flatten(2).transpose(1, 2) + pos_;
  }
  int lower(GraphBuilder& g, int x, int) const override {
    return g.add(g.tokens(g.conv(x, proj_)), g.constant(pos_));
  }

 private:
  torch::nn::Conv2d proj_;
  at::Tensor pos_;
};

class PatchEmbedModule : public LayerModule {
 public:
  PatchEmbedModule(const SearchSpace& space, const PatchEmbedLayer& spec, const Shape& in)
      : spec_(spec) {
    const int64_t max_dim = max_value(space, spec.dim);
    const int64_t tokens = (in.height / spec.patch) * (in.width / spec.patch);
    proj_ = register_module("proj", ElasticConv2d(in.channels.back(), max_dim, spec.patch,
                                                  spec.patch, false, 1, false, /*padding=*/0));
    pos_ = register_parameter("pos", torch::zeros({1, tokens, max_dim}));
  }
  at::Tensor run(const at::Tensor& x, const at::Tensor&, const PathContext& ctx) override {
    const int64_t dim = ctx.value(spec_.dim);
    return proj_(x, dim, spec_.patch).flatten(2).transpose(1, 2) + pos_.slice(2, 0, dim);
  }
  Flow run_relaxed(const Flow& x, const Flow&, const RelaxedContext& r) override {
    const Dist dim = r.dist(spec_.dim);
    auto tokens = proj_(x.x, dim.max(), spec_.patch).flatten(2).transpose(1, 2) + pos_;
    return {mask_width(tokens, dim, -1), dim};
  }
  Extracted extract(const PathContext& ctx, Widths in) const override {
    const int64_t dim = ctx.value(spec_.dim);
    auto pos = pos_.slice(2, 0, dim).detach().clone();
    return {std::make_shared<StaticPatchEmbed>(copy_conv(*proj_, in.cur, dim, spec_.patch), pos),
            dim};
  }

 private:
  PatchEmbedLayer spec_;
  ElasticConv2d proj_{nullptr};
  at::Tensor pos_;
};

class StaticEncoderLayer : public StaticLayer {
 public:
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
  torch::nn::Linear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr}, fc1{nullptr}, fc2{nullptr};
  int64_t heads = 1;
  double dropout = 0;

  at::Tensor run(const at::Tensor& x, const at::Tensor&) override {
    auto h = ln1(x);
    auto y = x + torch::dropout(o(attention(q(h), k(h), v(h), heads, dropout, is_training())),
                                dropout, is_training());
    auto f = fc2(torch::dropout(torch::gelu(fc1(ln2(y))), dropout, is_training()));
    return y + torch::dropout(f, dropout, is_training());
  }
  int lower(GraphBuilder& g, int x, int) const override {
    const int h = g.layer_norm(x, ln1);
    const int a = g.attention(g.linear(h, q), g.linear(h, k), g.linear(h, v), heads);
    const int y = g.add(x, g.linear(a, o));
    const int f = g.act(g.linear(g.layer_norm(y, ln2), fc1), ActKind::kGelu);
    return g.add(y, g.linear(f, fc2));
  }
};

class StaticLayerNorm : public StaticLayer {
 public:
  explicit StaticLayerNorm(torch::nn::LayerNorm norm) : norm_(register_module("norm", norm)) {}
  at::Tensor run(const at::Tensor& x, const at::Tensor&) override { return norm_(x); }
  int lower(GraphBuilder& g, int x, int) const override { return g.layer_norm(x, norm_); }

 private:
  torch::nn::LayerNorm norm_;
};

// One encoder layer's shared weights.
struct EncoderBlockWeights {
  ElasticLayerNorm ln1{nullptr}, ln2{nullptr};
  ElasticLinear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr}, fc1{nullptr}, fc2{nullptr};
};

class EncoderModule : public LayerModule {
 public:
  EncoderModule(const SearchSpace& space, const EncoderLayer& spec, const Shape& in) : spec_(spec) {
    const int64_t d = in.channels.back();
    for (size_t l = 0; l < spec.blocks.size(); ++l) {
      const std::string p = "layer" + std::to_string(l + 1) + "_";
      const int64_t f = max_value(space, spec.blocks[l].ffn);
      EncoderBlockWeights w;
      w.ln1 = register_module(p + "ln1", ElasticLayerNorm(d));
      w.q = register_module(p + "q", ElasticLinear(d, d));
      w.k = register_module(p + "k", ElasticLinear(d, d));
      w.v = register_module(p + "v", ElasticLinear(d, d));
      w.o = register_module(p + "o", ElasticLinear(d, d));
      w.ln2 = register_module(p + "ln2", ElasticLayerNorm(d));
      w.fc1 = register_module(p + "fc1", ElasticLinear(d, f));
      w.fc2 = register_module(p + "fc2", ElasticLinear(f, d));
      blocks_.push_back(w);
    }
    norm_ = register_module("norm", ElasticLayerNorm(d));
  }

  at::Tensor run(const at::Tensor& x, const at::Tensor&, const PathContext& ctx) override {
    at::Tensor h = x;
    for (int64_t l = 0; l < ctx.value(spec_.layers); ++l)
      h = run_block(l, h, Dist::fixed(ctx.value(spec_.blocks[l].heads)),
                    Dist::fixed(ctx.value(spec_.blocks[l].ffn)));
    return norm_(h);
  }

  // The hidden width is the residual stream's, so each width runs the encoder on its own
  // slice; within it, heads and FFN width mix per layer and depth mixes the outputs.
  Flow run_relaxed(const Flow& x, const Flow&, const RelaxedContext& r) override {
    const Dist layers = r.dist(spec_.layers);
    const int64_t max_d = x.x.size(2);
    auto encode = [&](int64_t d) {
      at::Tensor h = x.x.narrow(2, 0, d), mixed;
      for (size_t l = 0; l < blocks_.size(); ++l) {
        h = run_block(static_cast<int64_t>(l), h, r.dist(spec_.blocks[l].heads),
                      r.dist(spec_.blocks[l].ffn));
        if (at::Tensor p = layers.prob_of(static_cast<int64_t>(l) + 1); p.defined())
          mixed = mixed.defined() ? mixed + p * norm_(h) : p * norm_(h);
      }
      return fit_width(mixed, max_d, -1);
    };
    return {mix(x.width, encode), x.width};
  }

  Extracted extract(const PathContext& ctx, Widths in) const override {
    const int64_t d = in.cur;
    std::vector<std::shared_ptr<StaticLayer>> layers;
    for (int64_t l = 0; l < ctx.value(spec_.layers); ++l) {
      const auto& w = blocks_[l];
      const int64_t f = ctx.value(spec_.blocks[l].ffn);
      auto s = std::make_shared<StaticEncoderLayer>();
      s->heads = ctx.value(spec_.blocks[l].heads);
      s->dropout = spec_.dropout;
      s->ln1 = s->register_module("ln1", copy_layer_norm(*w.ln1, d));
      s->q = s->register_module("q", copy_linear(*w.q, d, d));
      s->k = s->register_module("k", copy_linear(*w.k, d, d));
      s->v = s->register_module("v", copy_linear(*w.v, d, d));
      s->o = s->register_module("o", copy_linear(*w.o, d, d));
      s->ln2 = s->register_module("ln2", copy_layer_norm(*w.ln2, d));
      s->fc1 = s->register_module("fc1", copy_linear(*w.fc1, d, f));
      s->fc2 = s->register_module("fc2", copy_linear(*w.fc2, f, d));
      layers.push_back(s);
    }
    layers.push_back(std::make_shared<StaticLayerNorm>(copy_layer_norm(*norm_, d)));
    return {std::make_shared<StaticSequence>(std::move(layers)), d};
  }

 private:
  // Encoder layer l on tokens of width d = h.size(2): single path when the distributions are
  // fixed, the mixture over heads and FFN widths otherwise.
  at::Tensor run_block(int64_t l, const at::Tensor& h, const Dist& heads, const Dist& ffn) {
    auto& w = blocks_[static_cast<size_t>(l)];
    const int64_t d = h.size(2);
    const double p = spec_.dropout;
    auto a = w.ln1(h);
    auto q = w.q(a, d), k = w.k(a, d), v = w.v(a, d);
    auto attended = mix(heads, [&](int64_t n) { return attention(q, k, v, n, p, is_training()); });
    auto y = h + torch::dropout(w.o(attended, d), p, is_training());
    auto hidden = mask_width(torch::gelu(w.fc1(w.ln2(y), ffn.max())), ffn, -1);
    return y + torch::dropout(w.fc2(torch::dropout(hidden, p, is_training()), d), p, is_training());
  }

  EncoderLayer spec_;
  std::vector<EncoderBlockWeights> blocks_;
  ElasticLayerNorm norm_{nullptr};
};

}  // namespace

std::shared_ptr<StaticLayer> make_transformer_unit(const Unit& u) {
  const int64_t d = u.in;
  auto norm = [&] { return torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})); };
  if (u.kind == UnitKind::kLayerNorm) return std::make_shared<StaticLayerNorm>(norm());
  NF_CHECK(u.kind == UnitKind::kEncoder, "an encoder or layer-norm unit");
  auto s = std::make_shared<StaticEncoderLayer>();
  s->heads = u.heads;
  auto linear = [](int64_t in, int64_t out) { return torch::nn::Linear(in, out); };
  s->ln1 = s->register_module("ln1", norm());
  s->q = s->register_module("q", linear(d, d));
  s->k = s->register_module("k", linear(d, d));
  s->v = s->register_module("v", linear(d, d));
  s->o = s->register_module("o", linear(d, d));
  s->ln2 = s->register_module("ln2", norm());
  s->fc1 = s->register_module("fc1", linear(d, u.ffn));
  s->fc2 = s->register_module("fc2", linear(u.ffn, d));
  return s;
}

std::shared_ptr<LayerModule> make_patch_embed(const SearchSpace& space, const PatchEmbedLayer& spec,
                                              const Shape& in) {
  return std::make_shared<PatchEmbedModule>(space, spec, in);
}

std::shared_ptr<LayerModule> make_encoder(const SearchSpace& space, const EncoderLayer& spec,
                                          const Shape& in) {
  return std::make_shared<EncoderModule>(space, spec, in);
}

}  // namespace nasforge::supernet
