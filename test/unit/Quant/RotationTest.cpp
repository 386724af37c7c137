//===- RotationTest.cpp - Randomized Hadamard rotations are orthogonal ----===//

#include "qtc/Quant/Rotation.h"

#include "ValueOrFail.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace qtc::quant;

namespace {

// Q's rows, one apply() of each unit vector: e_i Q.
std::vector<double> denseRows(const HadamardRotation &q) {
  const int64_t n = q.size();
  std::vector<double> rows(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    rows[i * n + i] = 1.0;
    q.apply(llvm::MutableArrayRef<double>(&rows[i * n], n));
  }
  return rows;
}

TEST(RotationTest, FactorsTheSize) {
  struct {
    int64_t n, p, m;
  } cases[] = {{256, 256, 1}, {64, 64, 1}, {96, 32, 3}, {4096, 4096, 1},
               {11008, 256, 43}, {5120, 1024, 5}, {14336, 2048, 7}, {1, 1, 1}};
  for (const auto &c : cases) {
    HadamardRotation q = valueOrFail(HadamardRotation::create(c.n, 1));
    EXPECT_EQ(q.powerOfTwo(), c.p) << c.n;
    EXPECT_EQ(q.oddFactor(), c.m) << c.n;
  }
}

TEST(RotationTest, IsOrthogonal) {
  for (int64_t n : {64, 96, 256, 160, 24}) {
    SCOPED_TRACE(n);
    HadamardRotation q = valueOrFail(HadamardRotation::create(n, 3));
    std::vector<double> rows = denseRows(q);
    double worst = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double dot = 0;
        for (int64_t k = 0; k < n; ++k)
          dot += rows[i * n + k] * rows[j * n + k];
        worst = std::max(worst, std::fabs(dot - (i == j ? 1.0 : 0.0)));
      }
    EXPECT_LT(worst, 1e-12);
  }
}

// Large sizes: norms and inner products of random vectors are kept.
TEST(RotationTest, KeepsNormsAtModelSizes) {
  for (int64_t n : {4096, 11008, 5120}) {
    SCOPED_TRACE(n);
    HadamardRotation q = valueOrFail(HadamardRotation::create(n, 9));
    std::mt19937_64 rng(n);
    std::normal_distribution<double> normal;
    std::vector<double> u(n), v(n);
    for (int64_t i = 0; i < n; ++i) {
      u[i] = normal(rng);
      v[i] = normal(rng);
    }
    double uu = 0, uv = 0;
    for (int64_t i = 0; i < n; ++i) {
      uu += u[i] * u[i];
      uv += u[i] * v[i];
    }
    q.apply(u);
    q.apply(v);
    double uu2 = 0, uv2 = 0, spread = 0;
    for (int64_t i = 0; i < n; ++i) {
      uu2 += u[i] * u[i];
      uv2 += u[i] * v[i];
    }
    EXPECT_NEAR(uu2, uu, 1e-9 * uu);
    EXPECT_NEAR(uv2, uv, 1e-9 * uu);
    // An outlier channel is spread over all of them: e_0 Q has no entry
    // larger than a few times 1/sqrt(n).
    std::vector<double> e(n, 0.0);
    e[0] = 1;
    q.apply(e);
    for (double x : e)
      spread = std::max(spread, std::fabs(x));
    EXPECT_LT(spread, 6.0 / std::sqrt(double(n)));
  }
}

TEST(RotationTest, SeededAndDistinct) {
  HadamardRotation a = valueOrFail(HadamardRotation::create(96, 1));
  HadamardRotation b = valueOrFail(HadamardRotation::create(96, 1));
  HadamardRotation c = valueOrFail(HadamardRotation::create(96, 2));
  EXPECT_EQ(denseRows(a), denseRows(b));
  EXPECT_NE(denseRows(a), denseRows(c));
}

TEST(RotationTest, RefusesWhatItCannotBuild) {
  llvm::Expected<HadamardRotation> zero = HadamardRotation::create(0, 0);
  ASSERT_FALSE(zero);
  EXPECT_EQ(llvm::toString(zero.takeError()), "a rotation needs a positive size, got 0");
  llvm::Expected<HadamardRotation> odd = HadamardRotation::create(2 * 1031, 0);
  ASSERT_FALSE(odd);
  EXPECT_NE(llvm::toString(odd.takeError()).find("1031 x 1031 orthogonal factor"),
            std::string::npos);
}

} // namespace
