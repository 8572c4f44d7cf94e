// ONNX export of an extracted network's graph (supernet::Graph): one ModelProto built with
// libonnx-dev's protobuf classes, opset 17, a dynamic batch dimension, named input and output,
// and metadata; checked by onnx::checker and full shape inference before it is returned.
//
//   supernet::Graph g = net->extract(arch)->lower({1, 1, 28, 28});
//   OnnxOptions o;
//   o.metadata = {{"nasforge.arch", space.to_string(arch)}};
//   std::string bytes = onnx_model(g, o);       // throws std::invalid_argument on what it can't
//   write
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

#include "nasforge/searchspace/status.h"
#include "nasforge/supernet/graph.h"

namespace nasforge::exporter {

inline constexpr int kOnnxOpset = 17;

struct OnnxOptions {
  // Fold each batch norm into the convolution it follows (the default), or keep it as an op.
  bool fold_batch_norm = true;
  std::string input_name = "input";
  std::string output_name = "logits";
  std::string graph_name = "nasforge";
  std::string producer_version;
  std::vector<std::pair<std::string, std::string>> metadata;  // ModelProto.metadata_props
};

// The serialised ModelProto. The graph's batch size is replaced by the symbolic dimension
// "batch". Throws std::invalid_argument naming the op for anything it cannot express, and
// std::runtime_error with ONNX's message if the checker or shape inference rejects the model.
std::string onnx_model(const supernet::Graph& graph, const OnnxOptions& options);

// Checks serialised model bytes with onnx::checker and strict shape inference.
Status check_onnx(const std::string& model_bytes);

// A float tensor as a serialised onnx TensorProto (the model zoo's test_data_set_N/*.pb).
std::string tensor_proto(const at::Tensor& t, const std::string& name);

// Writes DIR/test_data_set_K/input_0.pb and output_0.pb.
Status write_test_vector(const std::string& dir, int k, const at::Tensor& input,
                         const std::string& input_name, const at::Tensor& output,
                         const std::string& output_name);

}  // namespace nasforge::exporter
