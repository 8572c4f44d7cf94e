#include "nasforge/searchspace/diagnostics.h"

#include <gtest/gtest.h>

#include "nasforge/searchspace/metrics.h"

namespace nasforge {
namespace {

TEST(Diagnostics, FormatsFileLineColPathMessage) {
  Diagnostics d;
  d.error({"s.yaml", 3, 7}, "network[1].stage.depth", "expected a depth in [1, 32], got 0");
  EXPECT_FALSE(d.ok());
  EXPECT_EQ(d.str(),
            "s.yaml:3:7: error: network[1].stage.depth: expected a depth in [1, 32], got 0\n");
}

TEST(Diagnostics, CapsTheNumberOfErrors) {
  Diagnostics d;
  for (size_t i = 0; i < Diagnostics::kMaxErrors + 5; ++i) d.error({"f", 1, 1}, "p", "m");
  EXPECT_EQ(d.size(), Diagnostics::kMaxErrors);
  EXPECT_TRUE(d.truncated());
  EXPECT_NE(d.str().find("note: stopped after 100 errors"), std::string::npos);
}

TEST(ClosestMatch, SuggestsOnlyCloseWords) {
  EXPECT_EQ(closest_match("dept", {"depth", "out", "stride"}), "depth");
  EXPECT_EQ(closest_match("netwrk", {"name", "network"}), "network");
  EXPECT_EQ(closest_match("out", {"kernel", "act"}), "");
  EXPECT_EQ(closest_match("maximize", {"min", "max"}), "");
}

TEST(Numbers, SuffixesArePowersOfAThousand) {
  EXPECT_EQ(*parse_number("200k"), 200000.0);
  EXPECT_EQ(*parse_number("1.5M"), 1500000.0);
  EXPECT_EQ(*parse_number("2G"), 2e9);
  EXPECT_EQ(*parse_number("0.25"), 0.25);
  EXPECT_FALSE(parse_number("200q"));
  EXPECT_FALSE(parse_number("k"));
  EXPECT_FALSE(parse_number("0x10"));
  EXPECT_FALSE(parse_number("inf"));
  EXPECT_FALSE(parse_number(""));
  // JSON's exponent forms (json_number writes "1e+308"), but never a leading '+'.
  EXPECT_EQ(*parse_number("1e+308"), 1e308);
  EXPECT_EQ(*parse_number("3.7241e+05"), 372410.0);
  EXPECT_FALSE(parse_number("+5"));
  EXPECT_FALSE(parse_number("5+"));
}

TEST(Metrics, ParseWithUnitsAndDevices) {
  EXPECT_EQ(Metric::parse("latency_ms@gold_6226")->str(), "latency_ms@gold_6226");
  EXPECT_EQ(Metric::parse("params")->kind, MetricKind::kParams);
  // Any device a source can supply, not a fixed list: docs/hardware.md fits latency_ms@pixel7.
  EXPECT_EQ(Metric::parse("latency_ms@pixel7")->device, "pixel7");
  EXPECT_EQ(Metric::parse("latency_ms@jetson-orin.nx")->device, "jetson-orin.nx");
  EXPECT_EQ(Metric::parse("latency_ms@").status().message(),
            "expected a device name after '@' (letters, digits, '_', '-', '.'; for example cpu, "
            "raspi4, pixel7), got ''");
  EXPECT_FALSE(Metric::parse("latency_ms@my gpu").ok());
  EXPECT_EQ(Metric::parse("flops").status().message(),
            "expected a metric (accuracy, latency_ms@DEVICE, params, macs), got 'flops'");
}

}  // namespace
}  // namespace nasforge
