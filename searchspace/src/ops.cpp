#include "nasforge/searchspace/ops.h"

namespace nasforge {

const std::vector<CellOp>& cell_ops() {
  static const std::vector<CellOp> kOps = {
      // NAS-Bench-201 (Dong & Yang 2020)
      {"none", CellOpKind::kZero, 0, true},
      {"skip_connect", CellOpKind::kIdentity, 0, false},
      {"nor_conv_1x1", CellOpKind::kConv, 1, true},
      {"nor_conv_3x3", CellOpKind::kConv, 3, true},
      {"avg_pool_3x3", CellOpKind::kAvgPool, 3, false},
      // DARTS (Liu et al. 2019)
      {"max_pool_3x3", CellOpKind::kMaxPool, 3, false},
      {"sep_conv_3x3", CellOpKind::kSepConv, 3, true},
      {"sep_conv_5x5", CellOpKind::kSepConv, 5, true},
      {"sep_conv_7x7", CellOpKind::kSepConv, 7, true},
      {"dil_conv_3x3", CellOpKind::kDilConv, 3, true},
      {"dil_conv_5x5", CellOpKind::kDilConv, 5, true},
  };
  return kOps;
}

const CellOp* find_cell_op(const std::string& name) {
  for (const auto& op : cell_ops())
    if (op.name == name) return &op;
  return nullptr;
}

std::vector<std::string> cell_op_names() {
  std::vector<std::string> names;
  for (const auto& op : cell_ops()) names.push_back(op.name);
  return names;
}

}  // namespace nasforge
