#include "nasforge/hypernets/ghn.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

namespace nasforge::hypernets {

using supernet::Graph;
using supernet::GraphOp;
using supernet::OpKind;

namespace {

constexpr int64_t kKernels[] = {1, 3, 5, 7};

// x repeated along `dim` and cut to `n`: how a decoded block fills a larger weight.
at::Tensor tile_to(const at::Tensor& x, int64_t dim, int64_t n) {
  const int64_t have = x.size(dim);
  if (have == n) return x;
  if (have > n) return x.narrow(dim, 0, n);
  std::vector<int64_t> reps(x.dim(), 1);
  reps[dim] = (n + have - 1) / have;
  return x.repeat(reps).narrow(dim, 0, n);
}

int kernel_index(int64_t k) {
  for (int i = 0; i < 4; ++i)
    if (k <= kKernels[i]) return i;
  return 3;
}

}  // namespace

const char* ghn_kind_name(GhnKind k) {
  return k == GhnKind::kGhn1 ? "ghn1" : k == GhnKind::kSmash ? "smash" : "ghn2";
}

std::optional<GhnKind> parse_ghn_kind(const std::string& name) {
  if (name == "ghn1") return GhnKind::kGhn1;
  if (name == "ghn2") return GhnKind::kGhn2;
  if (name == "smash") return GhnKind::kSmash;
  return std::nullopt;
}

std::string GhnOptions::str() const {
  return std::string("kind: ") + ghn_kind_name(kind) + "\nhidden: " + std::to_string(hidden) +
         "\ns_max: " + std::to_string(s_max) + "\nrounds: " + std::to_string(rounds) +
         "\nrank: " + std::to_string(rank) + "\nmax_out: " + std::to_string(max_out) +
         "\nmax_in: " + std::to_string(max_in) + "\nencoding: " + std::to_string(encoding) + "\n";
}

at::Tensor GhnImpl::Linear::operator()(const at::Tensor& x) const { return torch::linear(x, w, b); }

GhnImpl::Linear GhnImpl::linear(const std::string& name, int64_t in, int64_t out) {
  return {register_parameter(name + "_w", torch::zeros({out, in})),
          register_parameter(name + "_b", torch::zeros({out}))};
}

GhnImpl::GhnImpl(GhnOptions o, uint64_t seed) : options_(o) {
  const int64_t d = o.hidden;
  type_ = register_parameter("type", torch::zeros({kOpTypes, d}));
  out_bin_ = register_parameter("out_bin", torch::zeros({kShapeBins, d}));
  in_bin_ = register_parameter("in_bin", torch::zeros({kShapeBins, d}));
  kernel_ = register_parameter("kernel", torch::zeros({8, d}));
  msg_fwd_ = linear("msg_fwd", d, d);
  msg_bwd_ = linear("msg_bwd", d, d);
  msg_virtual_ = linear("msg_virtual", d, d);
  gru_x_ = linear("gru_x", d, 3 * d);
  gru_h_ = linear("gru_h", d, 3 * d);
  if (o.kind == GhnKind::kSmash) {
    smash_in_ = linear("smash_in", std::max<int64_t>(1, o.encoding), d);
    smash_mix_ = linear("smash_mix", d, d);
  }
  norm_w_ = register_parameter("norm_w", torch::ones({d}));
  norm_b_ = register_parameter("norm_b", torch::zeros({d}));
  out_factor_ = linear("out_factor", d, o.max_out * o.rank);
  vector_ = linear("vector", d, 2 * o.max_out);
  for (int64_t k : kKernels)
    in_factors_.push_back(linear("in_factor" + std::to_string(k), d, o.rank * o.max_in * k * k));
  // Seeded initialisation: embeddings N(0, 1), linear maps U(-1/sqrt(in), 1/sqrt(in)).
  torch::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  for (auto& p : named_parameters(false)) {
    at::Tensor& t = p.value();
    if (p.key() == "norm_w" || p.key() == "norm_b") continue;
    if (p.key().size() > 2 && p.key().substr(p.key().size() - 2) == "_w") {
      const double bound = 1.0 / std::sqrt(static_cast<double>(t.size(1)));
      t.uniform_(-bound, bound, gen);
    } else if (p.key().size() > 2 && p.key().substr(p.key().size() - 2) == "_b") {
      t.zero_();
    } else {
      t.normal_(0.0, 1.0, gen);
    }
  }
}

// PyTorch's GRU cell: r, z gates and the candidate n.
at::Tensor GhnImpl::gru(const at::Tensor& x, const at::Tensor& h) const {
  const auto gx = gru_x_(x).chunk(3, 1), gh = gru_h_(h).chunk(3, 1);
  const at::Tensor r = torch::sigmoid(gx[0] + gh[0]);
  const at::Tensor z = torch::sigmoid(gx[1] + gh[1]);
  const at::Tensor n = torch::tanh(gx[2] + r * gh[2]);
  return (1 - z) * n + z * h;
}

// One traversal, wave by wave: each wave's nodes take the messages of the nodes before them
// (their predecessors going forward, their successors going backward, and the virtual
// neighbours weighted by 1/distance) and update by the GRU cell.
at::Tensor GhnImpl::propagate_waves(at::Tensor h, const ArchGraph& a, bool forward) {
  const auto& waves = forward ? a.forward_waves : a.backward_waves;
  const Linear& msg = forward ? msg_fwd_ : msg_bwd_;
  std::vector<int> wave_of(a.nodes), slot(a.nodes);
  for (size_t w = 0; w < waves.size(); ++w)
    for (size_t i = 0; i < waves[w].size(); ++i) {
      wave_of[waves[w][i]] = static_cast<int>(w);
      slot[waves[w][i]] = static_cast<int>(i);
    }
  // Per wave: (source, slot in the wave, weight) of every message it receives.
  struct In {
    std::vector<int64_t> src, dst;
    std::vector<float> scale;
    std::vector<int64_t> vsrc, vdst;
    std::vector<float> vscale;
  };
  std::vector<In> in(waves.size());
  for (const auto& [u, v] : a.edges) {
    const int from = forward ? u : v, to = forward ? v : u;
    in[wave_of[to]].src.push_back(from);
    in[wave_of[to]].dst.push_back(slot[to]);
  }
  for (const auto& e : a.virtual_edges) {
    const int from = forward ? e.from : e.to, to = forward ? e.to : e.from;
    in[wave_of[to]].vsrc.push_back(from);
    in[wave_of[to]].vdst.push_back(slot[to]);
    in[wave_of[to]].vscale.push_back(1.0f / static_cast<float>(e.distance));
  }
  const int64_t d = options_.hidden;
  for (size_t w = 1; w < waves.size(); ++w) {
    const auto& nodes = waves[w];
    const at::Tensor idx = torch::tensor(nodes, torch::kLong);
    at::Tensor m = torch::zeros({static_cast<int64_t>(nodes.size()), d});
    if (!in[w].src.empty())
      m = m.index_add(0, torch::tensor(in[w].dst, torch::kLong),
                      torch::relu(msg(h.index_select(0, torch::tensor(in[w].src, torch::kLong)))));
    if (!in[w].vsrc.empty())
      m = m.index_add(
          0, torch::tensor(in[w].vdst, torch::kLong),
          torch::relu(msg_virtual_(h.index_select(0, torch::tensor(in[w].vsrc, torch::kLong)))) *
              torch::tensor(in[w].vscale).unsqueeze(1));
    h = h.index_copy(0, idx, gru(m, h.index_select(0, idx)));
  }
  return h;
}

// SMASH: the architecture's encoding, mapped to the embedding size, plus the node's type and a
// sinusoidal code of its position, through one more layer.
at::Tensor GhnImpl::embed_smash(const ArchGraph& a) {
  const int64_t d = options_.hidden;
  if (static_cast<int64_t>(a.encoding.size()) != options_.encoding)
    throw std::invalid_argument("SMASH: expected an architecture encoding of " +
                                std::to_string(options_.encoding) + " values, got " +
                                std::to_string(a.encoding.size()));
  const at::Tensor e = torch::relu(smash_in_(torch::tensor(a.encoding).unsqueeze(0)));
  const at::Tensor pos = torch::arange(a.nodes, torch::kFloat).unsqueeze(1);
  const at::Tensor freq =
      torch::exp(torch::arange(0, d, 2, torch::kFloat) * (-std::log(10000.0) / d)).unsqueeze(0);
  const at::Tensor code = torch::cat({torch::sin(pos * freq), torch::cos(pos * freq)}, 1);
  const at::Tensor h =
      type_.index_select(0, torch::tensor(a.type, torch::kLong)) + code.narrow(1, 0, d) + e;
  return torch::relu(smash_mix_(h));
}

at::Tensor GhnImpl::embed(const ArchGraph& a) {
  if (options_.kind == GhnKind::kSmash) return embed_smash(a);
  const bool v2 = options_.kind == GhnKind::kGhn2;
  at::Tensor h = type_.index_select(0, torch::tensor(a.type, torch::kLong));
  if (v2) {
    std::vector<int64_t> k(a.kernel);
    for (auto& x : k) x = std::min<int64_t>(x, 7);
    h = h + out_bin_.index_select(0, torch::tensor(a.out_bin, torch::kLong)) +
        in_bin_.index_select(0, torch::tensor(a.in_bin, torch::kLong)) +
        kernel_.index_select(0, torch::tensor(k, torch::kLong));
    h = propagate_waves(h, a, true);
    h = propagate_waves(h, a, false);
    return torch::layer_norm(h, {options_.hidden}, norm_w_, norm_b_);
  }
  std::vector<int64_t> src, dst;
  for (const auto& [u, v] : a.edges) {
    src.push_back(u), dst.push_back(v);
    src.push_back(v), dst.push_back(u);
  }
  const at::Tensor s = torch::tensor(src, torch::kLong), t = torch::tensor(dst, torch::kLong);
  for (int64_t r = 0; r < options_.rounds; ++r) {
    at::Tensor m = torch::zeros_like(h);
    if (!src.empty()) m = m.index_add(0, t, torch::relu(msg_fwd_(h.index_select(0, s))));
    h = gru(m, h);
  }
  return h;
}

// A weight of `shape` ([O, I, k, k], [O, I] or [1, T, D]): the rank-r product of the node's two
// factors gives a max_out x max_in x k x k block, sliced or tiled to the shape.
at::Tensor GhnImpl::decode_weight(const at::Tensor& h, const std::vector<int64_t>& shape) {
  const GhnOptions& o = options_;
  const bool conv = shape.size() == 4;
  const int64_t out = conv || shape.size() == 2 ? shape[0] : shape[1];
  const int64_t in = conv || shape.size() == 2 ? shape[1] : shape[2];
  const int64_t k = conv ? shape[2] : 1;
  const int ki = kernel_index(k);
  const int64_t kk = kKernels[ki];
  const int64_t o2 = std::min(out, o.max_out), i2 = std::min(in, o.max_in);
  const at::Tensor a = out_factor_(h).view({o.max_out, o.rank}).narrow(0, 0, o2);
  at::Tensor b = in_factors_[ki](h).view({o.rank, o.max_in, kk, kk}).narrow(1, 0, i2);
  const int64_t start = (kk - k) / 2;
  if (kk != k) b = b.narrow(2, start, k).narrow(3, start, k);
  at::Tensor w = torch::matmul(a, b.reshape({o.rank, -1})).view({o2, i2, k, k});
  w = tile_to(tile_to(w, 0, out), 1, in);
  if (o.kind == GhnKind::kGhn2) {  // fan-in normalisation (He)
    w = w * std::sqrt(2.0 / static_cast<double>(in * k * k));
  }
  if (conv) return w;
  w = w.view({out, in});
  return shape.size() == 2 ? w : w.unsqueeze(0);
}

at::Tensor GhnImpl::decode_vector(const at::Tensor& h, int64_t size, bool scale) {
  const at::Tensor v = vector_(h).view({2, options_.max_out});
  return tile_to(v[scale ? 0 : 1], 0, size);
}

Graph GhnImpl::predict(const Graph& g, const ArchGraph& a) {
  const at::Tensor h = embed(a);
  Graph out = g;
  for (int id : a.param_nodes) {
    GraphOp& op = out.ops[id];
    const at::Tensor hi = h[id];
    switch (op.kind) {
      case OpKind::kConv:
      case OpKind::kLinear:
      case OpKind::kConstant:
        op.weight = decode_weight(hi, op.weight.sizes().vec());
        if (op.kind == OpKind::kConstant) op.weight = op.weight * 0.02;
        if (op.bias.defined()) op.bias = decode_vector(hi, op.bias.size(0), false) * 0.1;
        break;
      case OpKind::kBatchNorm:
      case OpKind::kLayerNorm: {
        const int64_t c = op.weight.size(0);
        op.weight = 1 + 0.1 * decode_vector(hi, c, true);
        op.bias = 0.1 * decode_vector(hi, c, false);
        if (op.kind == OpKind::kBatchNorm) {
          op.mean = torch::zeros({c});
          op.var = torch::ones({c});
        }
        break;
      }
      default:
        break;
    }
  }
  return out;
}

}  // namespace nasforge::hypernets
