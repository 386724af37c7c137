//===- ActivationStatisticsTest.cpp - Calibration statistics of an input --===//

#include "qtc/Quant/ActivationStatistics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace qtc::quant;

namespace {

// Rows fed in several calls give X^T X, max |x| and mean |x| of all of them,
// checked against a direct computation in double.
TEST(ActivationStatisticsTest, MatchesDirectComputation) {
  const int width = 7, rows = 53;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.5f);
  std::vector<float> x(rows * width);
  for (float &v : x)
    v = normal(rng);
  ActivationStatistics stats(width);
  stats.accumulate(x.data(), 20);
  stats.accumulate(x.data() + 20 * width, rows - 20);
  EXPECT_EQ(stats.rows(), rows);
  EXPECT_EQ(stats.nonFinite(), 0);

  std::vector<double> gram = stats.gram();
  std::vector<double> mean = stats.meanAbs();
  for (int i = 0; i < width; ++i) {
    double absMax = 0, sumAbs = 0;
    for (int r = 0; r < rows; ++r) {
      absMax = std::max(absMax, std::fabs(double(x[r * width + i])));
      sumAbs += std::fabs(double(x[r * width + i]));
    }
    EXPECT_FLOAT_EQ(stats.absMax()[i], absMax);
    EXPECT_NEAR(mean[i], sumAbs / rows, 1e-12);
    for (int j = 0; j < width; ++j) {
      double dot = 0, magnitude = 0;
      for (int r = 0; r < rows; ++r) {
        double p = double(x[r * width + i]) * double(x[r * width + j]);
        dot += p;
        magnitude += std::fabs(p);
      }
      // Row blocks sum in f32 before the f64 total.
      EXPECT_NEAR(gram[i * width + j], dot, 1e-6 * magnitude);
      EXPECT_EQ(gram[i * width + j], gram[j * width + i]);
    }
  }
}

// NaN and infinity are counted and contribute nothing.
TEST(ActivationStatisticsTest, SkipsNonFiniteValues) {
  ActivationStatistics stats(2);
  const float rows[] = {1.0f, NAN, INFINITY, 2.0f};
  stats.accumulate(rows, 2);
  EXPECT_EQ(stats.nonFinite(), 2);
  std::vector<double> gram = stats.gram();
  EXPECT_EQ(gram[0], 1.0);
  EXPECT_EQ(gram[1], 0.0);
  EXPECT_EQ(gram[3], 4.0);
  EXPECT_EQ(stats.absMax()[0], 1.0f);
  EXPECT_EQ(stats.absMax()[1], 2.0f);
}

// Scaling channels afterwards equals accumulating scaled rows.
TEST(ActivationStatisticsTest, ScaledEqualsScaledRows) {
  const int width = 4, rows = 9;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(rows * width), xs(rows * width);
  const std::vector<double> factors = {0.5, 2.0, -1.5, 0.25};
  for (int i = 0; i < rows * width; ++i) {
    x[i] = normal(rng);
    xs[i] = static_cast<float>(x[i] * factors[i % width]);
  }
  ActivationStatistics a(width), b(width);
  a.accumulate(x.data(), rows);
  b.accumulate(xs.data(), rows);
  ActivationStatistics c = a.scaled(factors);
  std::vector<double> gc = c.gram(), gb = b.gram();
  for (int i = 0; i < width * width; ++i)
    EXPECT_NEAR(gc[i], gb[i], 1e-5 * std::max(1.0, std::fabs(gb[i])));
  for (int i = 0; i < width; ++i) {
    EXPECT_NEAR(c.absMax()[i], b.absMax()[i], 1e-6);
    EXPECT_NEAR(c.meanAbs()[i], b.meanAbs()[i], 1e-6);
  }
}

TEST(ActivationStatisticsTest, EmptyHasZeroMeans) {
  ActivationStatistics stats(3);
  EXPECT_EQ(stats.rows(), 0);
  for (double m : stats.meanAbs())
    EXPECT_EQ(m, 0.0);
}

} // namespace
