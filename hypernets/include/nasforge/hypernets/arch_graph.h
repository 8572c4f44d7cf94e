// The computational graph a graph hypernetwork reads: one node per op of the network's lowered
// graph (supernet/graph.h), typed by the op and its shape, with the data-flow edges, the virtual
// edges of GHN-2 (node pairs up to s_max apart on a shortest path) and the order in which a
// forward and a backward traversal visit the nodes.
#pragma once

#include <cstdint>
#include <vector>

#include "nasforge/supernet/graph.h"

namespace nasforge::hypernets {

// Fixed vocabularies of the node features (embedding table sizes).
inline constexpr int kOpTypes = 40;    // op kind, and for convs the kernel and depthwise-ness
inline constexpr int kShapeBins = 16;  // log2 buckets of channel counts

struct ArchGraph {
  int64_t nodes = 0;
  std::vector<int64_t> type;             // per node, < kOpTypes
  std::vector<int64_t> out_bin, in_bin;  // per node: log2 buckets of its weight's out and in sizes
  std::vector<int64_t> kernel;           // per node: its weight's spatial size (0: none)
  std::vector<std::pair<int, int>> edges;  // (from, to), data flow
  // (from, to, distance): pairs 2..s_max apart along the shortest directed path (GHN-2).
  struct Virtual {
    int from, to, distance;
  };
  std::vector<Virtual> virtual_edges;
  // The forward traversal in waves: a node's wave is its longest distance from the input, so
  // every predecessor is in an earlier wave. The backward traversal runs the waves by the
  // longest distance to the output.
  std::vector<std::vector<int64_t>> forward_waves, backward_waves;
  // The nodes whose op holds parameters the hypernetwork predicts.
  std::vector<int> param_nodes;
  // The architecture's one-hot encoding (SearchSpace::encode_onehot), which SMASH reads.
  std::vector<float> encoding;
};

// `s_max` < 2 leaves out virtual edges.
ArchGraph make_arch_graph(const supernet::Graph& g, int s_max, std::vector<float> encoding = {});

// The node's type id: the op kind, with convs further split by kernel (1, 3, 5, 7+) and
// depthwise, and activations by their kind.
int64_t node_type(const supernet::GraphOp& op);

// Whether an op holds parameters (conv, linear, batch norm, layer norm, constant).
bool has_params(const supernet::GraphOp& op);

}  // namespace nasforge::hypernets
