// Graph hypernetworks: a gated graph neural network reads an architecture's computational graph
// (arch_graph.h) and a decoder emits every op's parameters, so that one trained hypernetwork
// gives weights to architectures it has never seen.
//
//   GHN-2 (Knyazev et al., "Parameter prediction for unseen deep architectures", NeurIPS 2021):
//     node features from the op type and the weight's shape; a forward and then a backward
//     traversal of the graph, each node updated by a GRU cell from the messages of its
//     predecessors (successors) and, through virtual edges, of the nodes up to s_max away
//     (weighted by 1/distance); normalised embeddings; a shape-aware decoder whose block is
//     tiled or sliced to each weight's shape; fan-in normalisation of predicted weights.
//   GHN-1 (Zhang et al., "Graph hypernetworks for neural architecture search", ICLR 2019):
//     node features from the op type only; synchronous propagation over the edges in both
//     directions for `rounds` rounds; no virtual edges, no normalisation.
//   SMASH (Brock et al., "SMASH: one-shot model architecture search through hypernetworks",
//     ICLR 2018), for comparison: no graph propagation; every node's embedding comes from the
//     architecture's one-hot encoding, the node's op type and its position in the network.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <optional>
#include <string>

#include "nasforge/hypernets/arch_graph.h"

namespace nasforge::hypernets {

enum class GhnKind { kGhn1, kGhn2, kSmash };
const char* ghn_kind_name(GhnKind k);  // "ghn1", "ghn2", "smash"
std::optional<GhnKind> parse_ghn_kind(const std::string& name);

struct GhnOptions {
  GhnKind kind = GhnKind::kGhn2;
  int64_t hidden = 32;  // node embedding size
  int s_max = 5;        // GHN-2's virtual edges reach this far (GHN-1 has none)
  int64_t rounds = 2;   // GHN-1's synchronous propagation rounds
  int64_t rank = 8;     // the decoder's weight block is a product of two factors of this rank
  int64_t max_out = 64, max_in = 64;  // the decoded block; larger weights tile it
  int64_t encoding = 0;     // SMASH: the size of the space's one-hot encoding (0 for the GHNs)
  std::string str() const;  // "kind: ghn2\nhidden: 32\n..." (stored with checkpoints)
};

class GhnImpl : public torch::nn::Module {
 public:
  GhnImpl(GhnOptions options, uint64_t seed);
  // Node embeddings after propagation: nodes x hidden.
  at::Tensor embed(const ArchGraph& a);
  // A copy of `g` whose parameters (conv and linear weights and biases, norm scales and shifts,
  // constants) are predicted, differentiably with respect to the hypernetwork; running
  // statistics are reset to mean 0 and variance 1 (recalibrate before using them).
  supernet::Graph predict(const supernet::Graph& g, const ArchGraph& a);
  const GhnOptions& options() const { return options_; }

 private:
  at::Tensor decode_weight(const at::Tensor& h, const std::vector<int64_t>& shape);
  at::Tensor decode_vector(const at::Tensor& h, int64_t size, bool scale);
  at::Tensor propagate_waves(at::Tensor h, const ArchGraph& a, bool forward);
  at::Tensor embed_smash(const ArchGraph& a);

  // Parameters are plain tensors drawn from a generator seeded with `seed` (torch's global
  // generator is never used). A linear map is a pair (weight [out, in], bias [out]).
  struct Linear {
    at::Tensor w, b;
    at::Tensor operator()(const at::Tensor& x) const;
  };
  Linear linear(const std::string& name, int64_t in, int64_t out);
  at::Tensor gru(const at::Tensor& x, const at::Tensor& h) const;

  GhnOptions options_;
  at::Tensor type_, out_bin_, in_bin_, kernel_;  // embedding tables
  Linear msg_fwd_, msg_bwd_, msg_virtual_, gru_x_, gru_h_, smash_in_, smash_mix_;
  at::Tensor norm_w_, norm_b_;
  Linear out_factor_, vector_;
  std::vector<Linear> in_factors_;  // per decoded kernel size 1, 3, 5, 7
};
TORCH_MODULE(Ghn);

}  // namespace nasforge::hypernets
