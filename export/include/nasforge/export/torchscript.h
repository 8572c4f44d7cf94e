// TorchScript export: the extracted network's graph as a scripted module, LibTorch's own
// deployment format. torch::jit::load (C++) and torch.jit.load (Python) both read the file.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "nasforge/searchspace/status.h"
#include "nasforge/supernet/graph.h"

namespace nasforge::exporter {

// The TorchScript source of `graph`'s forward (weights are the module's attributes w0, w1, ...);
// the batch size is read from the input, so any batch runs.
std::string torchscript_source(const supernet::Graph& graph);

// Builds the scripted module from that source and the graph's weights and saves it; `metadata`
// is stored as the module's extra files (nasforge.json).
Status save_torchscript(const supernet::Graph& graph, const std::string& path,
                        const std::string& metadata_json);

}  // namespace nasforge::exporter
