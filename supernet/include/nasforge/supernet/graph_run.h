// Runs a lowered network (graph.h) with ATen, op by op. What needs more than a network's output
// uses it: every op's value, the weights as tensors a caller may replace (the zero-cost proxies
// take |W| for synflow, Gaussian weights for Zen, leaves that require gradients for SNIP), and
// batch norm in any of its modes.
//
//   Graph g = network->lower({64, 3, 32, 32});
//   GraphRun r = run_graph(g, images, {NormMode::kBatch, /*keep=*/true});
//   r.values[i] is op i's output; r.output the network's.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "nasforge/supernet/graph.h"

namespace nasforge::supernet {

enum class NormMode {
  kRunning,  // the stored running statistics (what the graph means: inference)
  kBatch,    // the batch's own statistics, as a network in training mode computes
  kOff,      // batch norm left out (the identity), as synflow's linearised network runs
};

struct GraphRunOptions {
  NormMode norm = NormMode::kRunning;
  bool keep = false;  // keep every op's output in GraphRun::values
};

struct GraphRun {
  at::Tensor output;
  std::vector<at::Tensor> values;     // per op, when kept (op 0 is the input)
  std::vector<at::Tensor> batch_var;  // per op: a kBatch norm's per-channel batch variance
};

// The graph's weights are used as they are (their dtype, and whether they require gradients), so
// `x` must have their dtype. The batch is x's first dimension, whatever Graph::batch says.
// Throws std::invalid_argument naming the op's label when an input does not fit.
GraphRun run_graph(const Graph& g, const at::Tensor& x, const GraphRunOptions& options = {});

// The graph's tensors (weights, biases, statistics, constants) replaced by copies: `dtype`,
// detached, so the copy can be changed or trained without touching the network it came from.
Graph copy_graph(const Graph& g, at::ScalarType dtype);

}  // namespace nasforge::supernet
