#include "nasforge/strategies/pareto.h"

#include <gtest/gtest.h>

#include <random>

namespace nasforge::strategies {
namespace {

TEST(Pareto, DominanceAndFront) {
  EXPECT_TRUE(dominates({2, 2}, {1, 2}));
  EXPECT_FALSE(dominates({2, 2}, {2, 2}));
  EXPECT_FALSE(dominates({3, 1}, {1, 3}));
  std::vector<Point> p = {{1, 3}, {2, 2}, {3, 1}, {1, 1}, {2, 1}, {2, 2}};
  EXPECT_EQ(pareto_front(p), (std::vector<size_t>{0, 1, 2, 5}));
}

TEST(Pareto, NondominatedSortByHand) {
  std::vector<Point> p = {{1, 3}, {2, 2}, {3, 1}, {1, 1}, {2, 1}, {0, 0}};
  auto f = nondominated_sort(p);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0], (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(f[1], (std::vector<size_t>{4}));
  EXPECT_EQ(f[2], (std::vector<size_t>{3}));
  EXPECT_EQ(f[3], (std::vector<size_t>{5}));
}

TEST(Pareto, CrowdingDistanceByHand) {
  // Front (0,4) (1,3) (3,1) (4,0): ends infinite; (1,3): (3-0)/4 + (4-1)/4 = 1.5; (3,1): 1.5.
  std::vector<Point> p = {{0, 4}, {1, 3}, {3, 1}, {4, 0}};
  auto d = crowding_distance(p, {0, 1, 2, 3});
  EXPECT_TRUE(std::isinf(d[0]));
  EXPECT_TRUE(std::isinf(d[3]));
  EXPECT_DOUBLE_EQ(d[1], 1.5);
  EXPECT_DOUBLE_EQ(d[2], 1.5);
}

TEST(Pareto, HypervolumeByHand) {
  // Staircase (1,3) (2,2) (3,1) over (0,0): 3 + 2 + 1 = 6.
  EXPECT_DOUBLE_EQ(hypervolume({{1, 3}, {2, 2}, {3, 1}}, {0, 0}), 6.0);
  // Dominated and reference-breaking points add nothing.
  EXPECT_DOUBLE_EQ(hypervolume({{1, 3}, {2, 2}, {3, 1}, {1, 1}, {5, -1}}, {0, 0}), 6.0);
  EXPECT_DOUBLE_EQ(hypervolume({}, {0, 0}), 0.0);
  // 3-D: two boxes 2x1x1 and 1x2x1 overlap in 1x1x1: 2 + 2 - 1.
  EXPECT_DOUBLE_EQ(hypervolume({{2, 1, 1}, {1, 2, 1}}, {0, 0, 0}), 3.0);
  // A reference that is not the origin.
  EXPECT_DOUBLE_EQ(hypervolume({{3, 3}}, {1, 2}), 2.0);
}

// Exact against counting unit cells, for random integer points in 2, 3 and 4 dimensions.
TEST(Pareto, HypervolumeMatchesCellCount) {
  std::mt19937 gen(3);  // test-local generator
  for (int dims = 2; dims <= 4; ++dims) {
    for (int round = 0; round < 20; ++round) {
      std::vector<Point> pts(6, Point(dims));
      for (auto& p : pts)
        for (auto& x : p) x = static_cast<double>(gen() % 6);
      long cells = 0;
      std::vector<int> c(dims, 0);
      while (true) {
        bool covered = false;
        for (const auto& p : pts) {
          bool in = true;
          for (int k = 0; k < dims; ++k) in &= c[k] + 1 <= p[k];
          covered |= in;
        }
        cells += covered;
        int k = 0;
        while (k < dims && ++c[k] == 6) c[k++] = 0;
        if (k == dims) break;
      }
      EXPECT_DOUBLE_EQ(hypervolume(pts, Point(dims, 0.0)), static_cast<double>(cells))
          << dims << "-D round " << round;
    }
  }
}

}  // namespace
}  // namespace nasforge::strategies
