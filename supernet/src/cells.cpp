// Cells: one set of candidate-op weights per edge (mixed ops), shared genotype decisions, and
// the ops of NAS-Bench-201 and DARTS.
#include <torch/torch.h>

#include <algorithm>
#include <map>

#include "internal/layers.h"
#include "nasforge/searchspace/ops.h"

namespace nasforge::supernet {

namespace {

// A fixed-width op on a cell edge.
class CellOpModule : public torch::nn::Module {
 public:
  virtual at::Tensor forward(const at::Tensor& x) = 0;
  virtual int lower(GraphBuilder& g, int x) const = 0;
};

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t dilation = 1,
                       int64_t groups = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k)
                               .stride(stride)
                               .padding((k - 1) / 2 * dilation)
                               .dilation(dilation)
                               .groups(groups)
                               .bias(false));
}

// ReLU -> conv -> BN (NAS-Bench-201's nor_conv, and the preprocessing of cell inputs).
class ReluConvBn : public CellOpModule {
 public:
  ReluConvBn(int64_t in, int64_t out, int64_t k, int64_t stride)
      : conv_(register_module("conv", conv(in, out, k, stride))),
        bn_(register_module("bn", torch::nn::BatchNorm2d(out))) {}
  at::Tensor forward(const at::Tensor& x) override { return bn_(conv_(torch::relu(x))); }
  int lower(GraphBuilder& g, int x) const override {
    return g.conv_bn(g.act(x, ActKind::kRelu), conv_, bn_);
  }

 private:
  torch::nn::Conv2d conv_;
  torch::nn::BatchNorm2d bn_;
};

// Halves the resolution with two offset 1x1 convolutions (DARTS).
class FactorizedReduce : public CellOpModule {
 public:
  FactorizedReduce(int64_t in, int64_t out)
      : a_(register_module("a", conv(in, out / 2, 1, 2))),
        b_(register_module("b", conv(in, out - out / 2, 1, 2))),
        bn_(register_module("bn", torch::nn::BatchNorm2d(out))) {}
  at::Tensor forward(const at::Tensor& x) override {
    auto r = torch::relu(x);
    auto shifted = torch::constant_pad_nd(r, {0, 1, 0, 1}).slice(2, 1).slice(3, 1);
    return bn_(torch::cat({a_(r), b_(shifted)}, 1));
  }
  int lower(GraphBuilder& g, int x) const override {
    const int r = g.act(x, ActKind::kRelu);
    return g.batch_norm(g.concat({g.conv(r, a_), g.shifted_conv1x1_s2(r, b_)}), bn_);
  }

 private:
  torch::nn::Conv2d a_, b_;
  torch::nn::BatchNorm2d bn_;
};

class Identity : public CellOpModule {
 public:
  at::Tensor forward(const at::Tensor& x) override { return x; }
  int lower(GraphBuilder&, int x) const override { return x; }
};

class Pool : public CellOpModule {
 public:
  Pool(bool max, int64_t in, int64_t out, int64_t stride) : max_(max), stride_(stride) {
    if (in != out) pre_ = register_module("pre", std::make_shared<ReluConvBn>(in, out, 1, 1));
  }
  at::Tensor forward(const at::Tensor& x) override {
    auto h = pre_ ? pre_->forward(x) : x;
    return max_ ? torch::max_pool2d(h, 3, stride_, 1)
                : torch::avg_pool2d(h, 3, stride_, 1, false, /*count_include_pad=*/false);
  }
  int lower(GraphBuilder& g, int x) const override {
    return g.pool(pre_ ? pre_->lower(g, x) : x, max_, 3, stride_, 1);
  }

 private:
  bool max_;
  int64_t stride_;
  std::shared_ptr<ReluConvBn> pre_;
};

// ReLU -> depthwise -> pointwise -> BN, twice (DARTS sep_conv).
class SepConv : public CellOpModule {
 public:
  SepConv(int64_t in, int64_t out, int64_t k, int64_t stride)
      : dw1_(register_module("dw1", conv(in, in, k, stride, 1, in))),
        pw1_(register_module("pw1", conv(in, in, 1, 1))),
        bn1_(register_module("bn1", torch::nn::BatchNorm2d(in))),
        dw2_(register_module("dw2", conv(in, in, k, 1, 1, in))),
        pw2_(register_module("pw2", conv(in, out, 1, 1))),
        bn2_(register_module("bn2", torch::nn::BatchNorm2d(out))) {}
  at::Tensor forward(const at::Tensor& x) override {
    auto h = bn1_(pw1_(dw1_(torch::relu(x))));
    return bn2_(pw2_(dw2_(torch::relu(h))));
  }
  int lower(GraphBuilder& g, int x) const override {
    int h = g.batch_norm(g.conv(g.conv(g.act(x, ActKind::kRelu), dw1_), pw1_), bn1_);
    return g.batch_norm(g.conv(g.conv(g.act(h, ActKind::kRelu), dw2_), pw2_), bn2_);
  }

 private:
  torch::nn::Conv2d dw1_, pw1_;
  torch::nn::BatchNorm2d bn1_;
  torch::nn::Conv2d dw2_, pw2_;
  torch::nn::BatchNorm2d bn2_;
};

// ReLU -> dilated depthwise -> pointwise -> BN (DARTS dil_conv).
class DilConv : public CellOpModule {
 public:
  DilConv(int64_t in, int64_t out, int64_t k, int64_t stride)
      : dw_(register_module("dw", conv(in, in, k, stride, 2, in))),
        pw_(register_module("pw", conv(in, out, 1, 1))),
        bn_(register_module("bn", torch::nn::BatchNorm2d(out))) {}
  at::Tensor forward(const at::Tensor& x) override { return bn_(pw_(dw_(torch::relu(x)))); }
  int lower(GraphBuilder& g, int x) const override {
    return g.batch_norm(g.conv(g.conv(g.act(x, ActKind::kRelu), dw_), pw_), bn_);
  }

 private:
  torch::nn::Conv2d dw_, pw_;
  torch::nn::BatchNorm2d bn_;
};

std::shared_ptr<CellOpModule> make_op(const std::string& name, int64_t in, int64_t out,
                                      int64_t stride) {
  const CellOp* op = find_cell_op(name);
  NF_CHECK(op != nullptr, "the checker only admits known ops");
  switch (op->kind) {
    case CellOpKind::kZero:
      return nullptr;
    case CellOpKind::kIdentity:
      if (stride > 1) return std::make_shared<FactorizedReduce>(in, out);
      if (in != out) return std::make_shared<ReluConvBn>(in, out, 1, 1);
      return std::make_shared<Identity>();
    case CellOpKind::kConv:
      return std::make_shared<ReluConvBn>(in, out, op->kernel, stride);
    case CellOpKind::kAvgPool:
    case CellOpKind::kMaxPool:
      return std::make_shared<Pool>(op->kind == CellOpKind::kMaxPool, in, out, stride);
    case CellOpKind::kSepConv:
      return std::make_shared<SepConv>(in, out, op->kernel, stride);
    case CellOpKind::kDilConv:
      return std::make_shared<DilConv>(in, out, op->kernel, stride);
  }
  return nullptr;
}

// Copies every parameter and buffer of `from` into `to`, which has the same structure.
void copy_state(const torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  auto src_p = from.named_parameters(true);
  for (auto& p : to.named_parameters(true)) p.value().copy_(src_p[p.key()]);
  auto src_b = from.named_buffers(true);
  for (auto& b : to.named_buffers(true)) b.value().copy_(src_b[b.key()]);
}

struct CellShape {
  int64_t width = 0, stride = 1;
  int64_t in = 0, older = 0;   // input channels (older: the two-input cell's first input)
  bool older_reduced = false;  // the older input has twice the resolution
};

// A cell's node values during one forward pass: the inputs (preprocessed for two-input cells),
// sums of edge outputs, and zero for a node that nothing reached.
class CellNodes {
 public:
  CellNodes(const CellTemplate& cell, const CellShape& shape, CellOpModule* pre0,
            CellOpModule* pre1, const at::Tensor& x, const at::Tensor& older)
      : cell_(cell), nodes_(cell.nodes), x_(x) {
    if (cell.inputs == 1) {
      nodes_[0] = x;
    } else {
      nodes_[0] = pre0->forward(older);
      nodes_[1] = pre1->forward(x);
    }
    zero_shape_ = {x.size(0), shape.width, (x.size(2) + shape.stride - 1) / shape.stride,
                   (x.size(3) + shape.stride - 1) / shape.stride};
  }
  at::Tensor get(int j) const {
    return nodes_[j].defined() ? nodes_[j] : torch::zeros(zero_shape_, x_.options());
  }
  void add(int to, const at::Tensor& term) {
    nodes_[to] = nodes_[to].defined() ? nodes_[to] + term : term;
  }
  // The last node (combine: sum) or every non-input node concatenated (combine: concat).
  at::Tensor output() const {
    if (cell_.combine == Combine::kSum) return get(cell_.nodes - 1);
    std::vector<at::Tensor> parts;
    for (int n = cell_.inputs; n < cell_.nodes; ++n) parts.push_back(get(n));
    return torch::cat(parts, 1);
  }

 private:
  const CellTemplate& cell_;
  std::vector<at::Tensor> nodes_;
  at::Tensor x_;
  std::vector<int64_t> zero_shape_;
};

// What runs in a cell on one path: preprocessing, the live edges' ops, the output rule. Both the
// supernet cell (which picks ops per architecture) and the extracted cell run through this.
struct CellPath {
  const CellTemplate* cell = nullptr;
  CellShape shape;
  CellOpModule* pre0 = nullptr;
  CellOpModule* pre1 = nullptr;
  std::vector<std::pair<const SearchSpace::LiveEdge*, CellOpModule*>> edges;

  at::Tensor run(const at::Tensor& x, const at::Tensor& older) const {
    CellNodes nodes(*cell, shape, pre0, pre1, x, older);
    for (const auto& [e, op] : edges) nodes.add(e->to, op->forward(nodes.get(e->from)));
    return nodes.output();
  }
};

class StaticCell : public StaticLayer {
 public:
  StaticCell(const CellTemplate& cell, CellShape shape) : cell_(cell), shape_(shape) {}
  at::Tensor run(const at::Tensor& x, const at::Tensor& older) override {
    CellPath path{&cell_, shape_, pre0_.get(), pre1_.get(), {}};
    for (size_t i = 0; i < edges_.size(); ++i) path.edges.emplace_back(&edges_[i], ops_[i].get());
    return path.run(x, older);
  }
  // The same node arithmetic as CellNodes, as graph ops.
  int lower(GraphBuilder& g, int x, int older) const override {
    std::vector<int> nodes(static_cast<size_t>(cell_.nodes), -1);
    if (cell_.inputs == 1) {
      nodes[0] = x;
    } else {
      nodes[0] = pre0_->lower(g, older);
      nodes[1] = pre1_->lower(g, x);
    }
    const auto& in = g.shape(x);
    const std::vector<int64_t> zero_shape = {in[0], shape_.width,
                                             (in[2] + shape_.stride - 1) / shape_.stride,
                                             (in[3] + shape_.stride - 1) / shape_.stride};
    auto get = [&](int j) { return nodes[j] >= 0 ? nodes[j] : g.zero(zero_shape); };
    for (size_t i = 0; i < edges_.size(); ++i) {
      const int term = ops_[i]->lower(g, get(edges_[i].from));
      int& to = nodes[edges_[i].to];
      to = to >= 0 ? g.add(to, term) : term;
    }
    if (cell_.combine == Combine::kSum) return get(cell_.nodes - 1);
    std::vector<int> parts;
    for (int n = cell_.inputs; n < cell_.nodes; ++n) parts.push_back(get(n));
    return g.concat(parts);
  }

  CellTemplate cell_;
  CellShape shape_;
  std::shared_ptr<CellOpModule> pre0_, pre1_;
  std::vector<SearchSpace::LiveEdge> edges_;
  std::vector<std::shared_ptr<CellOpModule>> ops_;
};

class CellModule : public LayerModule {
 public:
  CellModule(const SearchSpace& space, const CellLayer& spec, const Shape& in, const Shape& older)
      : index_(spec.cell), cell_(space.cells()[spec.cell]), space_(&space) {
    shape_.width = spec.width;
    shape_.stride = spec.stride;
    shape_.in = in.channels.back();
    shape_.older = older.channels.back();
    shape_.older_reduced = older.height != in.height;
    if (cell_.inputs == 2) {
      pre0_ = register_module("pre0", make_pre0());
      pre1_ = register_module("pre1", std::make_shared<ReluConvBn>(shape_.in, shape_.width, 1, 1));
    }
    // Every edge the genotype can use, with one module per candidate op.
    std::vector<std::pair<int, int>> pairs;
    std::vector<int> op_decisions;
    if (cell_.choose == 0) {
      for (const auto& e : cell_.edges) {
        pairs.emplace_back(e.from, e.to);
        op_decisions.push_back(e.op);
      }
    } else {
      for (const auto& ch : cell_.choices)
        for (int from = 0; from < ch.node; ++from) {
          pairs.emplace_back(from, ch.node);
          op_decisions.push_back(ch.ops[0]);  // every slot shares the op domain
        }
    }
    for (size_t i = 0; i < pairs.size(); ++i) {
      auto [from, to] = pairs[i];
      for (const auto& name : space.decisions()[op_decisions[i]].domain.names) {
        auto op = make_edge_op(name, from);
        if (!op) continue;
        ops_[{from, to, name}] =
            register_module("e" + std::to_string(from) + "_" + std::to_string(to) + "_" + name, op);
      }
    }
  }

  at::Tensor run(const at::Tensor& x, const at::Tensor& older, const PathContext& ctx) override {
    auto live = ctx.space.live_edges(ctx.arch, index_);
    CellPath path{&cell_, shape_, pre0_.get(), pre1_.get(), {}};
    for (const auto& e : live) path.edges.emplace_back(&e, ops_.at({e.from, e.to, e.op}).get());
    return path.run(x, older);
  }

  // Every candidate runs; an edge is sum_o p_o op_o(x). In a choose-k cell, input j's op o
  // weighs sum over the input sets s that hold j of p(s) * p(op o in j's slot of s).
  Flow run_relaxed(const Flow& x, const Flow& older, const RelaxedContext& r) override {
    const ArchWeights& w = r.weights;
    CellNodes nodes(cell_, shape_, pre0_.get(), pre1_.get(), x.x, older.x);
    auto mix = [&](int from, int to, const std::vector<std::string>& names,
                   const at::Tensor& coef) {
      for (size_t o = 0; o < names.size(); ++o) {
        auto it = ops_.find({from, to, names[o]});
        if (it != ops_.end()) nodes.add(to, coef[o] * it->second->forward(nodes.get(from)));
      }
    };
    if (cell_.choose == 0) {
      for (const auto& e : cell_.edges)  // ordered by target: a node is complete before use
        mix(e.from, e.to, space_->decisions()[e.op].domain.names, w.probs[e.op]);
    } else {
      for (const auto& ch : cell_.choices) {
        const auto& names = space_->decisions()[ch.ops[0]].domain.names;
        for (int j = 0; j < ch.node; ++j) {
          at::Tensor coef;
          for (size_t s = 0; s < ch.input_sets.size(); ++s) {
            const auto& set = ch.input_sets[s];
            auto pos = std::find(set.begin(), set.end(), j);
            if (pos == set.end()) continue;
            auto term = w.probs[ch.inputs][s] * w.probs[ch.ops[pos - set.begin()]];
            coef = coef.defined() ? coef + term : term;
          }
          if (coef.defined()) mix(j, ch.node, names, coef);
        }
      }
    }
    auto out = nodes.output();
    return {out, Dist::fixed(out.size(1))};
  }

  Extracted extract(const PathContext& ctx, Widths) const override {
    auto s = std::make_shared<StaticCell>(cell_, shape_);
    if (cell_.inputs == 2) {
      s->pre0_ = s->register_module("pre0", make_pre0());
      copy_state(*pre0_, *s->pre0_);
      s->pre1_ =
          s->register_module("pre1", std::make_shared<ReluConvBn>(shape_.in, shape_.width, 1, 1));
      copy_state(*pre1_, *s->pre1_);
    }
    s->edges_ = ctx.space.live_edges(ctx.arch, index_);
    for (const auto& e : s->edges_) {
      auto op = make_edge_op(e.op, e.from);
      copy_state(*ops_.at({e.from, e.to, e.op}), *op);
      s->ops_.push_back(s->register_module(
          "e" + std::to_string(e.from) + "_" + std::to_string(e.to) + "_" + e.op, op));
    }
    const int64_t n = cell_.combine == Combine::kConcat ? cell_.nodes - cell_.inputs : 1;
    return {s, shape_.width * n};
  }

 private:
  std::shared_ptr<CellOpModule> make_pre0() const {
    if (shape_.older_reduced) return std::make_shared<FactorizedReduce>(shape_.older, shape_.width);
    return std::make_shared<ReluConvBn>(shape_.older, shape_.width, 1, 1);
  }
  // Edges leaving an input node read the cell's input (one-input cells) and take the stride.
  std::shared_ptr<CellOpModule> make_edge_op(const std::string& name, int from) const {
    const bool from_input = from < cell_.inputs;
    const int64_t in = from_input && cell_.inputs == 1 ? shape_.in : shape_.width;
    return make_op(name, in, shape_.width, from_input ? shape_.stride : 1);
  }

  int index_;
  CellTemplate cell_;
  const SearchSpace* space_;  // the supernet owns the space and outlives its layers
  CellShape shape_;
  std::shared_ptr<CellOpModule> pre0_, pre1_;
  std::map<std::tuple<int, int, std::string>, std::shared_ptr<CellOpModule>> ops_;
};

}  // namespace

namespace {
class StaticCellOp : public StaticLayer {
 public:
  explicit StaticCellOp(std::shared_ptr<CellOpModule> op) : op_(register_module("op", op)) {}
  at::Tensor run(const at::Tensor& x, const at::Tensor&) override { return op_->forward(x); }
  int lower(GraphBuilder& g, int x, int) const override { return op_->lower(g, x); }

 private:
  std::shared_ptr<CellOpModule> op_;
};
}  // namespace

std::shared_ptr<StaticLayer> make_cell_unit(const Unit& u) {
  if (u.kind == UnitKind::kCellPre) {
    if (u.op == "factorized_reduce")
      return std::make_shared<StaticCellOp>(std::make_shared<FactorizedReduce>(u.in, u.out));
    return std::make_shared<StaticCellOp>(std::make_shared<ReluConvBn>(u.in, u.out, 1, 1));
  }
  auto op = make_op(u.op, u.in, u.out, u.stride);
  NF_CHECK(op != nullptr, "units never hold the none op");
  return std::make_shared<StaticCellOp>(op);
}

std::shared_ptr<LayerModule> make_cell_layer(const SearchSpace& space, const CellLayer& spec,
                                             const Shape& in, const Shape& older,
                                             const SupernetOptions&) {
  return std::make_shared<CellModule>(space, spec, in, older);
}

}  // namespace nasforge::supernet
