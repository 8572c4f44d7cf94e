// JSON numbers: shortest round-trip form, and null for what JSON cannot hold.
#include "nasforge/searchspace/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>

#include "nasforge/searchspace/rng.h"

namespace nasforge {
namespace {

TEST(JsonNumber, ShortestRoundTripAndNullForNonFinite) {
  EXPECT_EQ(json_number(57.14), "57.14");
  EXPECT_EQ(json_number(0.1), "0.1");
  EXPECT_EQ(json_number(94.3733), "94.3733");
  EXPECT_EQ(json_number(3), "3");
  EXPECT_EQ(json_number(10), "10");
  EXPECT_EQ(json_number(372410), "372410");
  EXPECT_EQ(json_number(-2.5e-7), "-2.5e-07");
  EXPECT_EQ(json_number(1e308), "1e+308");
  EXPECT_EQ(json_number(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(json_number(-std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(json_number(std::nan("")), "null");
  Rng rng(3);
  for (int i = 0; i < 10000; ++i) {
    const double v =
        (rng.uniform01() - 0.5) * std::pow(10.0, static_cast<int>(rng.next() % 40) - 20);
    const std::string s = json_number(v);
    EXPECT_EQ(std::strtod(s.c_str(), nullptr), v) << s;
  }
}

TEST(JsonQuote, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(json_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
}

}  // namespace
}  // namespace nasforge
