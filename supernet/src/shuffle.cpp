// ShuffleNetV2 and Xception units, as SPOS builds them (ShuffleBlock in network.h). Stride 1:
// the input is shuffled so that its even channels come first, the first half passes on, and the
// second half runs the main branch. Stride 2: the whole input runs a projection branch and the
// main branch. The outputs are concatenated. Widths are fixed (the checker sees to it); only
// the kernel of a shufflenet unit can be a decision, through the elastic depthwise kernel.
#include <functional>

#include "internal/layers.h"

namespace nasforge::supernet {

namespace {

// One conv-BN of a branch, with the block's activation after it or none.
struct StepSpec {
  int64_t in = 0, out = 0, kernel = 1, stride = 1;
  bool depthwise = false, act = false;
  bool block_kernel = false;  // the unit's kernel (elastic) rather than `kernel`
};

struct Branches {
  std::vector<StepSpec> main, proj;  // proj: empty at stride 1
};

Branches branches_of(const ShuffleBlock& b, int64_t in, int64_t max_kernel, int64_t out) {
  Branches r;
  const int64_t inp = b.stride == 1 ? in / 2 : in, mid = out / 2, outs = out - inp;
  const int64_t s = b.stride;
  auto pw = [](int64_t i, int64_t o) { return StepSpec{i, o, 1, 1, false, true, false}; };
  auto dw = [](int64_t c, int64_t k, int64_t st, bool block_kernel) {
    return StepSpec{c, c, k, st, true, false, block_kernel};
  };
  if (b.xception) {
    r.main = {dw(inp, 3, s, false), pw(inp, mid),         dw(mid, 3, 1, false),
              pw(mid, mid),         dw(mid, 3, 1, false), pw(mid, outs)};
  } else {
    r.main = {pw(inp, mid), dw(mid, max_kernel, s, true), pw(mid, outs)};
  }
  if (s > 1) r.proj = {dw(inp, b.xception ? 3 : max_kernel, s, !b.xception), pw(inp, inp)};
  return r;
}

// The unit's data flow around its branches: at stride 2, [proj(x), main(x)]; at stride 1, the
// input shuffled so that its even channels come first, [first half, main(second half)].
template <typename Branch>
at::Tensor split_and_join(const at::Tensor& x, int64_t stride, Branch&& main, Branch&& proj) {
  if (stride > 1) return torch::cat({proj(x), main(x)}, 1);
  const int64_t half = x.size(1) / 2;
  const at::Tensor s = shuffle_channels(x, half);
  return torch::cat({s.slice(1, 0, half), main(s.slice(1, half))}, 1);
}

class StaticShuffle : public StaticLayer {
 public:
  struct Step {
    torch::nn::Conv2d conv{nullptr};
    torch::nn::BatchNorm2d bn{nullptr};
    bool act = false;
  };
  std::vector<Step> main, proj;
  int64_t stride = 1;
  Activation act = Activation::kRelu;

  at::Tensor branch(std::vector<Step>& steps, at::Tensor h) {
    for (Step& s : steps) {
      h = s.bn->forward(s.conv->forward(h));
      if (s.act) h = activate(h, act);
    }
    return h;
  }
  int lower_branch(GraphBuilder& g, const std::vector<Step>& steps, int h) const {
    for (const Step& s : steps) {
      h = g.conv_bn(h, s.conv, s.bn);
      if (s.act) h = g.act(h, act);
    }
    return h;
  }

  at::Tensor run(const at::Tensor& x, const at::Tensor&) override {
    auto m = [&](const at::Tensor& h) { return branch(main, h); };
    auto p = [&](const at::Tensor& h) { return branch(proj, h); };
    return split_and_join(x, stride, std::function<at::Tensor(const at::Tensor&)>(m),
                          std::function<at::Tensor(const at::Tensor&)>(p));
  }
  int lower(GraphBuilder& g, int x, int) const override {
    if (stride > 1) return g.concat({lower_branch(g, proj, x), lower_branch(g, main, x)});
    const int64_t c = g.shape(x)[1], half = c / 2;
    const int s = g.shuffle(x, half);
    return g.concat({g.slice(s, 0, half), lower_branch(g, main, g.slice(s, half, c))});
  }
};

class ShuffleModule : public BlockModule {
 public:
  ShuffleModule(const SearchSpace& space, const ShuffleBlock& spec, int64_t in,
                const SupernetOptions& o)
      : spec_(spec) {
    const Branches b = branches_of(spec, in, max_value(space, spec.kernel), spec.out.fixed);
    auto make = [&](const std::vector<StepSpec>& steps, const std::string& prefix,
                    std::vector<Step>& made) {
      for (size_t i = 0; i < steps.size(); ++i) {
        const StepSpec& s = steps[i];
        Step step{s};
        const std::string n = prefix + std::to_string(i);
        step.conv =
            register_module(n + "_conv", ElasticConv2d(s.in, s.out, s.kernel, s.stride, s.depthwise,
                                                       1, s.block_kernel && o.kernel_transform()));
        step.bn = register_module(n + "_bn", ElasticBatchNorm2d(s.out, o.bn_momentum()));
        made.push_back(step);
      }
    };
    make(b.main, "main", main_);
    make(b.proj, "proj", proj_);
  }

  at::Tensor run(const at::Tensor& x, const PathContext& ctx) override {
    const int64_t kernel = ctx.value(spec_.kernel);
    auto branch = [&](std::vector<Step>& steps, at::Tensor h) {
      for (Step& s : steps) {
        h = s.bn(s.conv(h, s.spec.out, s.spec.block_kernel ? kernel : s.spec.kernel));
        if (s.spec.act) h = activate(h, spec_.act);
      }
      return h;
    };
    return join(x, branch);
  }

  // Widths are fixed, so the relaxed forward differs from the path only in the kernel mixture.
  Flow run_relaxed(const Flow& x, const RelaxedContext& r) override {
    const Dist kernel = r.dist(spec_.kernel);
    auto branch = [&](std::vector<Step>& steps, at::Tensor h) {
      for (Step& s : steps) {
        h = s.spec.block_kernel ? s.conv->forward_mixed(h, s.spec.out, kernel.values, kernel.p)
                                : s.conv(h, s.spec.out, s.spec.kernel);
        h = s.bn(h);
        if (s.spec.act) h = activate(h, spec_.act);
      }
      return h;
    };
    const at::Tensor y = join(x.x, branch);
    return {y, r.dist(spec_.out)};
  }

  Extracted extract(const PathContext& ctx, int64_t in) const override {
    auto m = std::make_shared<StaticShuffle>();
    m->stride = spec_.stride;
    m->act = spec_.act;
    const int64_t kernel = ctx.value(spec_.kernel);
    auto copy = [&](const std::vector<Step>& steps, const std::string& prefix,
                    std::vector<StaticShuffle::Step>& out) {
      for (size_t i = 0; i < steps.size(); ++i) {
        const Step& s = steps[i];
        const std::string n = prefix + std::to_string(i);
        StaticShuffle::Step c;
        c.conv = m->register_module(n + "_conv",
                                    copy_conv(*s.conv, s.spec.in, s.spec.out,
                                              s.spec.block_kernel ? kernel : s.spec.kernel));
        c.bn = m->register_module(n + "_bn", copy_bn(*s.bn, s.spec.out));
        c.act = s.spec.act;
        out.push_back(c);
      }
    };
    copy(main_, "main", m->main);
    copy(proj_, "proj", m->proj);
    (void)in;
    return {m, spec_.out.fixed};
  }

 private:
  // split_and_join with `branch(steps, h)` running a branch's steps.
  template <typename RunSteps>
  at::Tensor join(const at::Tensor& x, RunSteps& branch) {
    std::function<at::Tensor(const at::Tensor&)> m = [&](const at::Tensor& h) {
      return branch(main_, h);
    };
    std::function<at::Tensor(const at::Tensor&)> p = [&](const at::Tensor& h) {
      return branch(proj_, h);
    };
    return split_and_join(x, spec_.stride, std::move(m), std::move(p));
  }

  struct Step {
    StepSpec spec;
    ElasticConv2d conv{nullptr};
    ElasticBatchNorm2d bn{nullptr};
  };
  ShuffleBlock spec_;
  std::vector<Step> main_, proj_;
};

}  // namespace

std::shared_ptr<BlockModule> make_shuffle_block(const SearchSpace& space, const ShuffleBlock& spec,
                                                int64_t max_in, const SupernetOptions& options) {
  return std::make_shared<ShuffleModule>(space, spec, max_in, options);
}

}  // namespace nasforge::supernet
