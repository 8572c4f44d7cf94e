#include "nasforge/hypernets/arch_graph.h"

#include <algorithm>
#include <cmath>
#include <deque>

namespace nasforge::hypernets {

using supernet::GraphOp;
using supernet::OpKind;

namespace {

int64_t bin(int64_t n) {
  if (n <= 0) return 0;
  return std::min<int64_t>(kShapeBins - 1, 1 + static_cast<int64_t>(std::log2(double(n))));
}

}  // namespace

int64_t node_type(const GraphOp& op) {
  const int64_t kinds = 19;  // OpKind values
  const int64_t k = static_cast<int64_t>(op.kind);
  if (op.kind == OpKind::kAct) return kinds + static_cast<int64_t>(op.act);  // 19..24
  if (op.kind == OpKind::kConv) {
    const int64_t size = op.weight.defined() ? op.weight.size(2) : op.kernel;
    const int64_t kbin = size <= 1 ? 0 : size <= 3 ? 1 : size <= 5 ? 2 : 3;
    const bool depthwise = op.groups > 1 && op.weight.defined() && op.weight.size(1) == 1;
    return 25 + kbin + (depthwise ? 4 : 0);  // 25..32
  }
  return k;
}

bool has_params(const GraphOp& op) {
  switch (op.kind) {
    case OpKind::kConv:
    case OpKind::kLinear:
    case OpKind::kBatchNorm:
    case OpKind::kLayerNorm:
    case OpKind::kConstant:
      return op.weight.defined();
    default:
      return false;
  }
}

ArchGraph make_arch_graph(const supernet::Graph& g, int s_max, std::vector<float> encoding) {
  ArchGraph a;
  a.encoding = std::move(encoding);
  const int n = static_cast<int>(g.ops.size());
  a.nodes = n;
  std::vector<std::vector<int>> succ(n), pred(n);
  for (int i = 0; i < n; ++i) {
    const GraphOp& op = g.ops[i];
    a.type.push_back(std::min<int64_t>(node_type(op), kOpTypes - 1));
    const bool w = has_params(op);
    a.out_bin.push_back(w ? bin(op.weight.size(0)) : 0);
    a.in_bin.push_back(w && op.weight.dim() > 1 ? bin(op.weight.size(1)) : 0);
    a.kernel.push_back(w && op.weight.dim() == 4 ? op.weight.size(2) : 0);
    if (w) a.param_nodes.push_back(i);
    for (int from : op.inputs) {
      a.edges.emplace_back(from, i);
      succ[from].push_back(i);
      pred[i].push_back(from);
    }
  }
  // Waves: ops are in topological order (every input is an earlier op).
  std::vector<int> depth(n, 0), height(n, 0);
  for (int i = 0; i < n; ++i)
    for (int p : pred[i]) depth[i] = std::max(depth[i], depth[p] + 1);
  for (int i = n - 1; i >= 0; --i)
    for (int s : succ[i]) height[i] = std::max(height[i], height[s] + 1);
  const int max_depth = n ? *std::max_element(depth.begin(), depth.end()) : 0;
  const int max_height = n ? *std::max_element(height.begin(), height.end()) : 0;
  a.forward_waves.resize(max_depth + 1);
  a.backward_waves.resize(max_height + 1);
  for (int i = 0; i < n; ++i) {
    a.forward_waves[depth[i]].push_back(i);
    a.backward_waves[height[i]].push_back(i);
  }
  // Virtual edges: breadth-first distances from every node, kept for 2 <= d <= s_max.
  if (s_max >= 2) {
    std::vector<int> dist(n);
    for (int s = 0; s < n; ++s) {
      std::fill(dist.begin(), dist.end(), -1);
      std::deque<int> q{s};
      dist[s] = 0;
      while (!q.empty()) {
        const int u = q.front();
        q.pop_front();
        if (dist[u] == s_max) continue;
        for (int v : succ[u])
          if (dist[v] < 0) {
            dist[v] = dist[u] + 1;
            q.push_back(v);
          }
      }
      for (int v = 0; v < n; ++v)
        if (dist[v] >= 2) a.virtual_edges.push_back({s, v, dist[v]});
    }
  }
  return a;
}

}  // namespace nasforge::hypernets
