// The head's norm and activation and the resblock's order (the layers NAS-Bench-201's network
// is built of): their diagnostics, their units' latency keys, and the frozen YAML.
#include <gtest/gtest.h>

#include "nasforge/searchspace/freeze.h"
#include "nasforge/searchspace/units.h"
#include "test_util.h"

namespace nasforge {
namespace {

using testing::diagnose;
using testing::load_text;

const char* kNetwork = R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
network:
  - conv: {out: 16, kernel: 3, act: none}
  - resblock: {out: 32, stride: 2, order: pre}
  - resblock: {out: 32, order: pre}
  - resblock: {out: 64, stride: 2}
  - head: {norm: batch, act: relu, pool: global_avg}
)yaml";

TEST(HeadAndResBlock, BadValuesAreLocated) {
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 31, width: 31}
classes: 10
network:
  - resblock: {out: 16, order: post}
  - resblock: {out: 32, stride: 2, order: pre}
  - resblock: {out: 32, order: before}
  - head: {norm: layer, act: relu7}
)yaml"),
      R"txt(t.yaml:7:5: error: network[1].resblock.order: expected an input size divisible by the stride for order: pre (its shortcut average-pools 2x2), got 31x31
t.yaml:8:32: error: network[2].resblock.order: expected one of post, pre, got 'before'
t.yaml:9:18: error: network[3].head.norm: expected one of batch, none, got 'layer'
)txt");
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
network:
  - head: {act: relu7}
)yaml"),
      R"txt(t.yaml:6:17: error: network[0].head.act: expected one of relu, relu6, hswish, swish, gelu, none, got 'relu7' (did you mean 'relu'?)
)txt");
  EXPECT_EQ(
      diagnose(R"yaml(nasforge: 1
name: t
input: {channels: 3, height: 32, width: 32}
classes: 10
network:
  - patch_embed: {patch: 4, dim: 64}
  - encoder: {layers: 1, heads: 2, ffn: 64}
  - head: {norm: batch}
)yaml"),
      R"txt(t.yaml:8:18: error: network[2].head.norm: expected an image input for norm: batch, got tokens (an encoder's layers end in their own layer norm)
)txt");
}

TEST(HeadAndResBlock, UnitKeysSayTheNewFormsAndKeepTheOldOnes) {
  const SearchSpace s = load_text(kNetwork);
  const auto us = units(s, Architecture{});
  ASSERT_EQ(us.size(), 5u);
  EXPECT_EQ(us[1].key(), "resblock in=16 out=32 hw=32x32 k=3 s=2 proj pre");
  EXPECT_EQ(us[2].key(), "resblock in=32 out=32 hw=16x16 k=3 s=1 pre");
  // The defaults keep the keys that profiles measured before these forms existed.
  EXPECT_EQ(us[3].key(), "resblock in=32 out=64 hw=16x16 k=3 s=2 proj");
  EXPECT_EQ(us[4].key(), "head in=64 out=10 hw=8x8 pool=avg hidden=0 classes=10 bn act=relu");
  EXPECT_NE(us[1].id(), units(load_text(std::string(kNetwork).replace(
                                  std::string(kNetwork).find("order: pre"), 10, "order: post")),
                              Architecture{})[1]
                            .id());
}

TEST(HeadAndResBlock, TheFrozenYamlKeepsThem) {
  const SearchSpace s = load_text(kNetwork);
  const std::string frozen = freeze_space(s, Architecture{});
  EXPECT_NE(frozen.find("order: pre"), std::string::npos) << frozen;
  EXPECT_NE(frozen.find("head: {norm: batch, act: relu, pool: global_avg"), std::string::npos)
      << frozen;
  const SearchSpace again = load_text(frozen);
  const auto a = units(s, Architecture{}), b = units(again, Architecture{});
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].key(), b[i].key());
}

}  // namespace
}  // namespace nasforge
