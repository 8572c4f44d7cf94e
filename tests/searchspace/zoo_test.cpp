// Every zoo space checks, with its exact size recorded here.
#include <gtest/gtest.h>

#include "test_util.h"

namespace nasforge {
namespace {

using testing::load;

struct ZooCase {
  const char* file;
  const char* size;
  size_t decisions;
};
void PrintTo(const ZooCase& c, std::ostream* os) { *os << c.file; }  // stable test names

class Zoo : public ::testing::TestWithParam<ZooCase> {};

TEST_P(Zoo, ChecksWithExactSize) {
  SearchSpace s = load(GetParam().file);
  EXPECT_EQ(s.size().str(), GetParam().size);
  EXPECT_EQ(s.decisions().size(), GetParam().decisions);
  EXPECT_EQ(s.fingerprint(), load(GetParam().file).fingerprint());
  // Every decision label is unique and every decision belongs to a section of the arch string.
  for (size_t i = 0; i < s.decisions().size(); ++i) {
    EXPECT_EQ(s.find_decision(s.decisions()[i].label), static_cast<int>(i));
    EXPECT_GE(s.decisions()[i].section, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Spaces, Zoo,
                         ::testing::Values(
                             // 5^6
                             ZooCase{"zoo/nb201.yaml", "15625", 6},
                             // (C(2,2) C(3,2) C(4,2) C(5,2) * 7^8)^2 = (180 * 5,764,801)^2
                             ZooCase{"zoo/darts.yaml", "1076746950455072400", 24},
                             // (2 * (9^2 + 9^3 + 9^4))^3
                             ZooCase{"zoo/mobilenet.yaml", "3203828206488", 30},
                             // (2 * (9^2 + 9^3 + 9^4))^4
                             ZooCase{"zoo/mobilenet32.yaml", "47230835420046096", 40},
                             // 3 * (6^2 + 6^3 + 6^4)
                             ZooCase{"zoo/transformer.yaml", "4644", 10},
                             // 3^8: eight layers choosing among three blocks
                             ZooCase{"zoo/nasbench_macro.yaml", "6561", 8},
                             // layer choice at its edges, with swish
                             ZooCase{"tests/data/swish_choice.yaml", "240", 9},
                             // (3 depths * 3 widths)^3
                             ZooCase{"zoo/resnet.yaml", "729", 6},
                             // 6^6 * 7^15: six MBConvs per layer, plus zero where residual
                             ZooCase{"zoo/proxyless.yaml", "221502229807900608", 21},
                             // 9^22: FBNet's nine candidate blocks per layer
                             ZooCase{"zoo/fbnet.yaml", "984770902183611232881", 22},
                             // 4^20: SPOS's four ShuffleNetV2 choice blocks per layer
                             ZooCase{"zoo/spos.yaml", "1099511627776", 20},
                             // (2 * (9^2 + 9^3 + 9^4)) * (3 * (9^2 + 9^3 + 9^4)), the example space
                             // of the founding design
                             ZooCase{"tests/data/design_mobile_tiny.yaml", "325989846", 20}));

TEST(ZooShapes, MobileNetDownsamplesTo4x4) {
  SearchSpace s = load("zoo/mobilenet.yaml");
  EXPECT_EQ(s.layers()[2].out.str(), "{24,32}x14x14");
  EXPECT_EQ(s.layers()[4].out.str(), "{64,80}x7x7");
  SearchSpace s32 = load("zoo/mobilenet32.yaml");
  EXPECT_EQ(s32.layers()[5].out.str(), "{96,112}x4x4");
}

TEST(ZooShapes, DartsCellsConcatenateFourNodes) {
  SearchSpace s = load("zoo/darts.yaml");
  ASSERT_EQ(s.cells().size(), 2u);
  EXPECT_EQ(s.cells()[0].choose, 2);
  EXPECT_EQ(s.layers()[1].out.str(), "64x32x32");   // 4 nodes x 16
  EXPECT_EQ(s.layers()[3].out.str(), "128x16x16");  // reduction
  EXPECT_EQ(s.layers()[8].in.str(), "256x8x8");
  // Node 5 chooses 2 of its 5 predecessors.
  EXPECT_EQ(s.decisions()[s.find_decision("normal.node5.inputs")].domain.size(), 10u);
}

}  // namespace
}  // namespace nasforge
