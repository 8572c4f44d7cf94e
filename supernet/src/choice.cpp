// The supernet module of a layer choice: one module per alternative (an identity that projects is
// a 1x1 conv + BN; an identity that passes its input on, and zero, have none). The path runs the
// chosen one; the relaxed forward mixes every alternative by the choice's weights; extraction
// keeps the chosen one alone.
#include "internal/layers.h"

namespace nasforge::supernet {

namespace {

class ChoiceModule : public BlockModule {
 public:
  ChoiceModule(const SearchSpace& space, const ChoiceBlock& spec, int64_t max_in,
               const SupernetOptions& o)
      : decision_(spec.decision), out_(spec.out) {
    for (size_t i = 0; i < spec.alternatives.size(); ++i) {
      std::shared_ptr<BlockModule> m = std::visit(
          [&](const auto& alt) -> std::shared_ptr<BlockModule> {
            using T = std::decay_t<decltype(alt)>;
            if constexpr (std::is_same_v<T, IdentityBlock>) {
              if (!alt.project) return nullptr;
              return make_block(space,
                                ConvBlock{alt.out, IntParam{1, -1}, alt.stride, Activation::kNone},
                                max_in, o);
            } else if constexpr (std::is_same_v<T, ZeroBlock>) {
              return nullptr;
            } else {
              return make_block(space, alt, max_in, o);
            }
          },
          spec.alternatives[i]);
      if (m) m = register_module(spec.names[i], m);
      alternatives_.push_back(std::move(m));
    }
  }

  at::Tensor run(const at::Tensor& x, const PathContext& ctx) override {
    const auto& chosen = alternatives_[ctx.arch[decision_]];
    return chosen ? chosen->run(x, ctx) : x;
  }

  // sum_k P(choice = k) * (alternative k's output), each padded to the layer's widest output.
  Flow run_relaxed(const Flow& x, const RelaxedContext& r) override {
    const Dist out = r.dist(out_);
    at::Tensor mixed;
    for (size_t k = 0; k < alternatives_.size(); ++k) {
      const at::Tensor p = r.weights.probs[decision_][static_cast<int64_t>(k)];
      const at::Tensor y =
          fit_width(alternatives_[k] ? alternatives_[k]->run_relaxed(x, r).x : x.x, out.max());
      mixed = mixed.defined() ? mixed + p * y : p * y;
    }
    return {mixed, out};
  }

  int decision() const { return decision_; }
  // The parameters each alternative holds (none for identity and zero that pass on).
  std::vector<int64_t> alternative_params() const {
    std::vector<int64_t> out;
    for (const auto& m : alternatives_) {
      int64_t n = 0;
      if (m)
        for (const auto& p : m->parameters()) n += p.numel();
      out.push_back(n);
    }
    return out;
  }

  Extracted extract(const PathContext& ctx, int64_t in) const override {
    const auto& chosen = alternatives_[ctx.arch[decision_]];
    if (chosen) return chosen->extract(ctx, in);
    return {std::make_shared<StaticSequence>(std::vector<std::shared_ptr<StaticLayer>>{}), in};
  }

 private:
  int decision_;
  IntParam out_;
  std::vector<std::shared_ptr<BlockModule>> alternatives_;  // null: passes its input on
};

}  // namespace

std::map<int, std::vector<int64_t>> SupernetImpl::alternative_params() const {
  std::map<int, std::vector<int64_t>> out;
  for (const auto& m : modules(/*include_self=*/false))
    if (const auto* c = dynamic_cast<const ChoiceModule*>(m.get()))
      out[c->decision()] = c->alternative_params();
  return out;
}

std::shared_ptr<BlockModule> make_choice_block(const SearchSpace& space, const ChoiceBlock& spec,
                                               int64_t max_in, const SupernetOptions& options) {
  return std::make_shared<ChoiceModule>(space, spec, max_in, options);
}

}  // namespace nasforge::supernet
