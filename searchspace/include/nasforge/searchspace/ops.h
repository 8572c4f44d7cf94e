// The closed vocabulary of operations on cell edges, with their shape signatures.
#pragma once

#include <string>
#include <vector>

namespace nasforge {

enum class CellOpKind { kZero, kIdentity, kConv, kSepConv, kDilConv, kAvgPool, kMaxPool };

struct CellOp {
  std::string name;
  CellOpKind kind;
  int kernel;  // 0 for zero and identity
  // Whether the op can map C_in channels to a different C_out. Pools and identity cannot, so
  // they need equal channels on both ends of the edge (or a preprocessed input).
  bool can_change_channels;
};

// Every known cell op, in a stable order.
const std::vector<CellOp>& cell_ops();
// nullptr when the name is not a known op.
const CellOp* find_cell_op(const std::string& name);
std::vector<std::string> cell_op_names();

}  // namespace nasforge
