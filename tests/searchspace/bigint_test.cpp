#include "nasforge/searchspace/bigint.h"

#include <gtest/gtest.h>

#include <cmath>

namespace nasforge {
namespace {

TEST(BigUint, MultipliesPastSixtyFourBits) {
  BigUint x(1);
  for (int i = 0; i < 30; ++i) x *= BigUint(1000);
  EXPECT_EQ(x.str(), "1" + std::string(90, '0'));
  uint64_t out = 0;
  EXPECT_FALSE(x.to_u64(&out));
  EXPECT_NEAR(x.log10(), 90.0, 1e-9);
}

TEST(BigUint, AddsWithCarry) {
  BigUint a(999999999), b(1);
  EXPECT_EQ((a + b).str(), "1000000000");
  BigUint c(uint64_t{18446744073709551615ull});
  EXPECT_EQ((c + BigUint(1)).str(), "18446744073709551616");
  uint64_t out = 0;
  EXPECT_TRUE(c.to_u64(&out));
  EXPECT_EQ(out, 18446744073709551615ull);
}

TEST(BigUint, ZeroAndComparison) {
  BigUint z;
  EXPECT_TRUE(z.is_zero());
  EXPECT_EQ(z.str(), "0");
  EXPECT_TRUE(std::isinf(z.log10()));
  EXPECT_TRUE(BigUint(5) < BigUint(6));
  EXPECT_FALSE(BigUint(6) < BigUint(6));
  EXPECT_TRUE(BigUint(999999999) < BigUint(1000000000));
  EXPECT_EQ((BigUint(0) * BigUint(17)).str(), "0");
}

TEST(BigUint, GroupsThousands) {
  EXPECT_EQ(group_thousands("325989846"), "325,989,846");
  EXPECT_EQ(group_thousands("15625"), "15,625");
  EXPECT_EQ(group_thousands("100"), "100");
}

}  // namespace
}  // namespace nasforge
