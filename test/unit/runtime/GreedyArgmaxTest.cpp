//===- GreedyArgmaxTest.cpp - The tie rule of greedy sampling -------------===//

#include "qtc/rt/GreedyArgmax.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

using namespace qtc::rt;

TEST(GreedyArgmax, PicksTheLargest) {
  std::vector<float> row = {0.5f, -2.0f, 3.25f, 1.0f};
  EXPECT_EQ(greedyArgmax(row.data(), 4), 2);
  // Only the first `width` entries count.
  EXPECT_EQ(greedyArgmax(row.data(), 2), 0);
}

TEST(GreedyArgmax, LowestIndexWinsAmongEqualMaxima) {
  std::vector<float> row = {1.0f, 4.0f, 2.0f, 4.0f, 4.0f};
  EXPECT_EQ(greedyArgmax(row.data(), 5), 1);
  std::vector<float> flat(7, -1.5f);
  EXPECT_EQ(greedyArgmax(flat.data(), 7), 0);
}

TEST(GreedyArgmax, NaNNeverWins) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> row = {nan, 1.0f, nan, 2.0f};
  EXPECT_EQ(greedyArgmax(row.data(), 4), 3);
  std::vector<float> none = {nan, -inf, nan};
  EXPECT_EQ(greedyArgmax(none.data(), 3), 0);
  std::vector<float> infinite = {1.0f, inf, inf};
  EXPECT_EQ(greedyArgmax(infinite.data(), 3), 1);
}
