#include "nasforge/hardware/counts.h"

#include "nasforge/searchspace/ops.h"

namespace nasforge::hardware {

namespace {

// conv (no bias) followed by BN; `pixels` is the output's H x W.
Cost conv_bn(int64_t in, int64_t out, int64_t k, int64_t pixels, int64_t groups = 1) {
  const int64_t w = out * (in / groups) * k * k;
  return {w + 2 * out, w * pixels};
}
Cost conv(int64_t in, int64_t out, int64_t k, int64_t pixels, int64_t groups = 1) {
  const int64_t w = out * (in / groups) * k * k;
  return {w, w * pixels};
}
Cost linear(int64_t in, int64_t out, int64_t rows = 1) { return {in * out + out, in * out * rows}; }

Cost cell_op(const Unit& u) {
  const int64_t px = u.out_height() * u.out_width(), in_px = u.height * u.width;
  const CellOp* op = find_cell_op(u.op);
  if (op == nullptr) return {};
  switch (op->kind) {
    case CellOpKind::kZero:
      return {};
    case CellOpKind::kIdentity:
      if (u.stride > 1) return {u.in * u.out + 2 * u.out, u.in * u.out * px};  // factorized
      if (u.in != u.out) return conv_bn(u.in, u.out, 1, px);
      return {};
    case CellOpKind::kConv:
      return conv_bn(u.in, u.out, u.kernel, px);
    case CellOpKind::kAvgPool:
    case CellOpKind::kMaxPool:
      return u.in != u.out ? conv_bn(u.in, u.out, 1, in_px) : Cost{};
    case CellOpKind::kSepConv: {
      Cost c = conv(u.in, u.in, u.kernel, px, u.in);
      c += conv_bn(u.in, u.in, 1, px);
      c += conv(u.in, u.in, u.kernel, px, u.in);
      c += conv_bn(u.in, u.out, 1, px);
      return c;
    }
    case CellOpKind::kDilConv: {
      Cost c = conv(u.in, u.in, u.kernel, px, u.in);
      c += conv_bn(u.in, u.out, 1, px);
      return c;
    }
  }
  return {};
}

// SPOS's ShuffleNetV2 and Xception units: the main branch maps `inp` channels (half the input at
// stride 1, all of it at stride 2) to out - inp through a hidden width of out / 2.
Cost shuffle_unit(const Unit& u) {
  const int64_t in_px = u.height * u.width, px = u.out_height() * u.out_width();
  const int64_t inp = u.stride == 1 ? u.in / 2 : u.in, mid = u.out / 2, outs = u.out - inp;
  Cost c;
  if (u.xception) {
    c += conv_bn(inp, inp, 3, px, inp);
    c += conv_bn(inp, mid, 1, px);
    c += conv_bn(mid, mid, 3, px, mid);
    c += conv_bn(mid, mid, 1, px);
    c += conv_bn(mid, mid, 3, px, mid);
    c += conv_bn(mid, outs, 1, px);
  } else {
    c += conv_bn(inp, mid, 1, in_px);
    c += conv_bn(mid, mid, u.kernel, px, mid);
    c += conv_bn(mid, outs, 1, px);
  }
  if (u.stride > 1) {  // the projection branch
    c += conv_bn(inp, inp, u.kernel, px, inp);
    c += conv_bn(inp, inp, 1, px);
  }
  return c;
}

}  // namespace

Cost unit_cost(const Unit& u) {
  const int64_t in_px = u.height * u.width, px = u.out_height() * u.out_width();
  Cost c;
  switch (u.kind) {
    case UnitKind::kConv:
      return conv_bn(u.in, u.out, u.kernel, px);
    case UnitKind::kMBConv: {
      const int64_t mid = u.expand_conv ? u.in * u.expand : u.in;
      if (u.expand_conv) c += conv_bn(u.in, mid, 1, in_px, u.groups);
      c += conv_bn(mid, mid, u.kernel, px, mid);
      if (u.se) {
        c += linear(mid, se_width(mid));
        c += linear(se_width(mid), mid);
      }
      c += conv_bn(mid, u.out, 1, px, u.groups);
      return c;
    }
    case UnitKind::kShuffle:
      return shuffle_unit(u);
    case UnitKind::kResBlock:
      c += conv_bn(u.in, u.out, u.kernel, px);
      c += conv_bn(u.out, u.out, u.kernel, px);
      if (u.projection)  // order: pre pools a strided shortcut and leaves out its BN
        c += u.preact && u.stride > 1 ? conv(u.in, u.out, 1, px) : conv_bn(u.in, u.out, 1, px);
      return c;
    case UnitKind::kCellOp:
      return cell_op(u);
    case UnitKind::kCellPre:
      return {u.in * u.out + 2 * u.out, u.in * u.out * px};  // 1x1, or two halves of it
    case UnitKind::kPool:
      return {};
    case UnitKind::kPatchEmbed: {
      c = conv(u.in, u.out, u.kernel, px);
      c.params += px * u.out;  // position embeddings
      return c;
    }
    case UnitKind::kEncoder: {
      const int64_t d = u.in, t = u.height;
      c.params = 2 * d + 4 * (d * d + d) + 2 * d + (d * u.ffn + u.ffn) + (u.ffn * d + d);
      c.macs = 4 * t * d * d + 2 * t * t * d + 2 * t * d * u.ffn;
      return c;
    }
    case UnitKind::kLayerNorm:
      return {2 * u.in, 0};
    case UnitKind::kHead: {
      if (u.norm) c.params += 2 * u.in;  // BN's scale and shift, as conv_bn counts them
      int64_t features = u.global == GlobalPool::kFlatten ? u.in * u.terms : u.in;
      if (u.hidden > 0) {
        c += linear(features, u.hidden);
        features = u.hidden;
      }
      c += linear(features, u.classes);
      return c;
    }
  }
  return c;
}

Cost count(const SearchSpace& space, const Architecture& a, Counting counting) {
  Cost total;
  for (const Unit& u : units(space, a, true, counting)) total += unit_cost(u);
  return total;
}

}  // namespace nasforge::hardware
