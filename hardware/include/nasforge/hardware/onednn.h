// Runs a lowered network (supernet::Graph) with oneDNN primitives: the `onednn` device's
// engine and nasforge's deployment path on CPU. Batch norm folds into the convolution before
// it; every other op is one primitive (convolution, pooling, eltwise, inner product, binary
// add/mul, concat) on plain NCHW memory.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>

#include "nasforge/supernet/graph.h"

namespace nasforge::hardware {

class OneDnnProgram {
 public:
  // Creates every primitive and copies the weights. Throws std::invalid_argument for an op
  // oneDNN cannot run as given.
  explicit OneDnnProgram(const supernet::Graph& graph);
  ~OneDnnProgram();
  OneDnnProgram(const OneDnnProgram&) = delete;
  OneDnnProgram& operator=(const OneDnnProgram&) = delete;

  void set_input(const at::Tensor& input);  // float, the graph's input shape
  void execute();                           // runs every primitive and waits
  at::Tensor output() const;                // a copy of the output
  at::Tensor run(const at::Tensor& input) {
    set_input(input);
    execute();
    return output();
  }
  size_t primitives() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nasforge::hardware
