// The NAS-Bench-201 tables the repository carries (data/nasbench201): read as nasforge reads
// them (gzipped, through ArchTable), they hold the published values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "../searchspace/test_util.h"
#include "nasforge/predictors/table.h"

namespace nasforge::testing {
namespace {

TEST(Nb201Data, KnownValues) {
  SearchSpace space = load("zoo/nb201.yaml");
  auto acc =
      predictors::ArchTable::load(source_path("data/nasbench201/nb201_cifar10.csv.gz"), space);
  ASSERT_TRUE(acc.ok()) << acc.status().message();
  ASSERT_EQ(acc->rows(), 15625u);
  const auto& test = acc->values[*acc->column("test_acc")];
  const auto& index = acc->values[*acc->column("index")];
  const size_t best = std::max_element(test.begin(), test.end()) - test.begin();
  EXPECT_NEAR(test[best], 94.3733, 1e-4);
  EXPECT_EQ(index[best], 6111);
  EXPECT_EQ(space.to_string(acc->archs[best]),
            "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
            "nor_conv_1x1~2|");
  const auto skip = acc->row_of.at(
      "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|"
      "skip_connect~2|");
  EXPECT_NEAR(test[skip], 54.30, 0.005);

  auto lat =
      predictors::ArchTable::load(source_path("data/nasbench201/nb201_latency_ms.csv.gz"), space);
  ASSERT_TRUE(lat.ok()) << lat.status().message();
  ASSERT_EQ(lat->rows(), 15625u);
  for (const char* device : {"pixel3", "raspi4", "eyeriss", "fpga", "gold_6226", "titan_rtx_1"})
    EXPECT_TRUE(lat->column(device).ok()) << device;
  // Both tables list the cells in the official index order.
  EXPECT_EQ(lat->archs, acc->archs);
  EXPECT_NEAR(lat->values[*lat->column("raspi4")][best], 68.4041, 1e-4);
}

TEST(Nb201Data, ATruncatedGzipIsAnErrorNamingTheFile) {
  SearchSpace space = load("zoo/nb201.yaml");
  std::ifstream in(source_path("data/nasbench201/nb201_cifar10.csv.gz"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string cut = temp_path("nb201_cut.csv.gz");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  auto t = predictors::ArchTable::load(cut, space);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find(cut + ": cannot read it"), std::string::npos)
      << t.status().message();
  std::remove(cut.c_str());
}

}  // namespace
}  // namespace nasforge::testing
