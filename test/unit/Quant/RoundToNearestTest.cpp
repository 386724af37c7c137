//===- RoundToNearestTest.cpp - int4 group-wise RTN properties ------------===//

#include "qtc/Quant/RoundToNearest.h"

#include "qtc/Quant/Float16.h"
#include "qtc/Quant/Numerics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace qtc::quant;

namespace {

struct Shape {
  int64_t out, in;
};

std::vector<float> gaussian(Shape shape, unsigned seed, float stddev = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, stddev);
  std::vector<float> values(shape.out * shape.in);
  for (float &v : values)
    v = normal(rng);
  return values;
}

/// Heavy tails (Student's t with 2 degrees of freedom), as real weights with
/// outlier channels have, plus groups that do not straddle zero.
std::vector<float> heavyTailedAndShifted(Shape shape, unsigned seed) {
  std::mt19937 rng(seed);
  std::student_t_distribution<float> t(2.0f);
  std::uniform_real_distribution<float> shift(-3.0f, 3.0f);
  std::vector<float> values(shape.out * shape.in);
  float offset = 0.0f;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i % 32 == 0)
      offset = shift(rng);
    values[i] = offset + 0.05f * t(rng);
  }
  return values;
}

IntGroupWeight quantizeOrFail(llvm::ArrayRef<float> w, Shape shape,
                               int64_t groupSize, bool symmetric) {
  llvm::Expected<IntGroupWeight> q =
      quantizeIntGroupRtn(w, shape.out, shape.in, {groupSize, symmetric});
  if (!q) {
    ADD_FAILURE() << llvm::toString(q.takeError());
    return {};
  }
  return std::move(*q);
}

std::vector<float> dequantizeOrFail(const IntGroupWeight &q) {
  llvm::Expected<std::vector<float>> dense = dequantizeIntGroup(q);
  if (!dense) {
    ADD_FAILURE() << llvm::toString(dense.takeError());
    return {};
  }
  return std::move(*dense);
}

double sqnrOf(llvm::ArrayRef<float> w, Shape shape, int64_t groupSize,
              bool symmetric) {
  std::vector<float> back =
      dequantizeOrFail(quantizeOrFail(w, shape, groupSize, symmetric));
  llvm::Expected<ErrorStats> stats = measureError(w, back);
  if (!stats) {
    ADD_FAILURE() << llvm::toString(stats.takeError());
    return 0.0;
  }
  return stats->sqnrDb;
}

struct Case {
  bool symmetric;
  int64_t groupSize;
};

void PrintTo(const Case &c, std::ostream *os) {
  *os << (c.symmetric ? "symmetric" : "asymmetric") << " g" << c.groupSize;
}

class RtnProperty : public testing::TestWithParam<Case> {};

} // namespace

// Every weight lies within half a step of its code: |w - deq(w)| <= scale / 2
// with the stored f16 scale (up to the float rounding of w / scale).
TEST_P(RtnProperty, ErrorIsAtMostHalfAStep) {
  Case c = GetParam();
  Shape shape{24, 512};
  for (unsigned seed = 0; seed < 6; ++seed) {
    std::vector<float> w = seed % 2 ? heavyTailedAndShifted(shape, seed)
                                    : gaussian(shape, seed, 0.02f);
    IntGroupWeight q = quantizeOrFail(w, shape, c.groupSize, c.symmetric);
    std::vector<float> back = dequantizeOrFail(q);
    ASSERT_EQ(back.size(), w.size());
    for (int64_t n = 0; n < shape.out; ++n) {
      for (int64_t k = 0; k < shape.in; ++k) {
        double scale = q.scale(n, k / c.groupSize);
        double error = std::fabs(double(w[n * shape.in + k]) -
                                 back[n * shape.in + k]);
        ASSERT_LE(error, 0.5 * scale * (1 + 1e-6))
            << "seed " << seed << " at [" << n << ", " << k << "]";
        ASSERT_LE(q.code(n, k), 15);
        if (c.symmetric) {
          ASSERT_GE(q.code(n, k), 1); // absmax / 7 leaves code 0 unused
        }
      }
    }
  }
}

TEST_P(RtnProperty, ZeroStaysExact) {
  Case c = GetParam();
  Shape shape{8, 256};
  std::vector<float> w = heavyTailedAndShifted(shape, 11);
  std::mt19937 rng(3);
  std::bernoulli_distribution pick(0.2);
  for (float &v : w)
    if (pick(rng))
      v = 0.0f;
  std::vector<float> back =
      dequantizeOrFail(quantizeOrFail(w, shape, c.groupSize, c.symmetric));
  for (size_t i = 0; i < w.size(); ++i)
    if (w[i] == 0.0f) {
      ASSERT_EQ(back[i], 0.0f) << "at " << i;
    }
}

TEST_P(RtnProperty, LayoutSizesFollowTheSchema) {
  Case c = GetParam();
  Shape shape{6, 256};
  IntGroupWeight q =
      quantizeOrFail(gaussian(shape, 5), shape, c.groupSize, c.symmetric);
  EXPECT_EQ(q.codes.size(), size_t(6 * 256));
  EXPECT_EQ(q.scales.size(), size_t(6 * 256 / c.groupSize));
  EXPECT_EQ(q.zeros.size(), c.symmetric ? 0 : q.scales.size());
  EXPECT_FALSE(static_cast<bool>(verifyIntGroup(q)));
}

INSTANTIATE_TEST_SUITE_P(
    Int4, RtnProperty,
    testing::Values(Case{true, 32}, Case{true, 64}, Case{true, 128},
                    Case{false, 32}, Case{false, 64}, Case{false, 128}),
    [](const testing::TestParamInfo<Case> &info) {
      return std::string(info.param.symmetric ? "Symmetric" : "Asymmetric") +
             "G" + std::to_string(info.param.groupSize);
    });

TEST(RoundToNearestTest, AsymmetricReproducesConstantRowsExactly) {
  Shape shape{5, 256};
  // f16-representable constants of both signs, zero, and a tiny one.
  const float constants[] = {0.75f, -3.5f, 0.0f, 1024.0f,
                             std::ldexp(1.0f, -20)};
  std::vector<float> w;
  for (float c : constants)
    w.insert(w.end(), shape.in, c);
  for (int64_t groupSize : {32, 128, 256}) {
    std::vector<float> back =
        dequantizeOrFail(quantizeOrFail(w, shape, groupSize, false));
    EXPECT_EQ(back, w) << "group size " << groupSize;
  }
}

// A symmetric grid is fixed by the group's absmax, which dequantizes to itself
// (code 15 or 1), so quantizing a dequantized weight again changes nothing.
TEST(RoundToNearestTest, SymmetricRequantizationIsExact) {
  Shape shape{8, 256};
  for (int64_t groupSize : {32, 128}) {
    std::vector<float> once = dequantizeOrFail(
        quantizeOrFail(gaussian(shape, 9), shape, groupSize, true));
    std::vector<float> twice =
        dequantizeOrFail(quantizeOrFail(once, shape, groupSize, true));
    EXPECT_EQ(once, twice) << "group size " << groupSize;
  }
}

TEST(RoundToNearestTest, SymmetricHitsTheGroupMaximum) {
  // With scale = absmax / 7 rounded up, the largest value maps to code 15.
  Shape shape{1, 64};
  std::vector<float> w = gaussian(shape, 2);
  IntGroupWeight q = quantizeOrFail(w, shape, 64, true);
  size_t largest = 0;
  for (size_t i = 1; i < w.size(); ++i)
    if (std::fabs(w[i]) > std::fabs(w[largest]))
      largest = i;
  EXPECT_EQ(q.code(0, largest), w[largest] > 0 ? 15 : 1);
}

// Reference values: int4 RTN of N(0, 1) weights measured with an independent
// numpy implementation of the same rules (512x1024, f16 scales): symmetric
// g128 18.6 dB, g64 19.4, g32 20.3; asymmetric g128 19.9 dB.
TEST(RoundToNearestTest, GaussianSqnrIsInTheKnownRange) {
  Shape shape{256, 1024};
  std::vector<float> w = gaussian(shape, 42);
  double symmetric128 = sqnrOf(w, shape, 128, true);
  double symmetric64 = sqnrOf(w, shape, 64, true);
  double symmetric32 = sqnrOf(w, shape, 32, true);
  double asymmetric128 = sqnrOf(w, shape, 128, false);
  EXPECT_GT(symmetric128, 18.2);
  EXPECT_LT(symmetric128, 19.0);
  EXPECT_GT(asymmetric128, 19.5);
  EXPECT_LT(asymmetric128, 20.4);
  // Smaller groups track the local range better.
  EXPECT_GT(symmetric64, symmetric128 + 0.4);
  EXPECT_GT(symmetric32, symmetric64 + 0.4);
  // The SQNR does not depend on the weights' scale.
  std::vector<float> scaled = w;
  for (float &v : scaled)
    v *= 0.015625f;
  EXPECT_NEAR(sqnrOf(scaled, shape, 128, true), symmetric128, 0.05);
}

TEST(RoundToNearestTest, RejectsWhatTheLayoutCannotHold) {
  std::vector<float> w(4 * 96, 0.5f);
  llvm::Expected<IntGroupWeight> q = quantizeIntGroupRtn(w, 4, 96, {64, true});
  ASSERT_FALSE(static_cast<bool>(q));
  EXPECT_EQ(llvm::toString(q.takeError()),
            "group size 64 must be positive and divide the row length 96");

  q = quantizeIntGroupRtn(w, 4, 64, {32, true});
  ASSERT_FALSE(static_cast<bool>(q));
  EXPECT_EQ(llvm::toString(q.takeError()),
            "weight holds 384 values, expected 4x64");

  w[97] = std::nanf("");
  q = quantizeIntGroupRtn(w, 4, 96, {32, true});
  ASSERT_FALSE(static_cast<bool>(q));
  EXPECT_EQ(llvm::toString(q.takeError()), "weight [1, 1] is not finite");

  // absmax / 7 past 65504 cannot be stored as an f16 scale.
  std::vector<float> huge(2 * 32, 1.0f);
  huge[40] = 1.0e6f;
  for (bool symmetric : {true, false}) {
    q = quantizeIntGroupRtn(huge, 2, 32, {32, symmetric});
    ASSERT_FALSE(static_cast<bool>(q));
    EXPECT_NE(llvm::toString(q.takeError()).find("row 1, group 0: scale"),
              std::string::npos);
  }
}

// The row loops (vectorized, RoundToNearest.cpp) give exactly the codes,
// scales and zeros of the per-element definition, intGroupGrid and intCode,
// for every width and both grids, on heavy tails, exact ties (values at
// half steps) and group sizes that are no multiple of the vector width.
TEST(RoundToNearestTest, RowLoopsEqualThePerElementDefinition) {
  for (int bits : {3, 4, 8})
    for (bool symmetric : {true, false})
      for (int64_t groupSize : {int64_t(22), int64_t(128)}) {
        Shape shape{6, 22 * 128};
        std::vector<float> w = heavyTailedAndShifted(shape, 3 + bits);
        // Row 0: multiples of 0.5 of a power-of-two grid, so that x / scale
        // lands on .5 ties.
        for (int64_t k = 0; k < shape.in; ++k)
          w[k] = 0.5f * static_cast<float>((k % 31) - 15);
        IntGroupOptions options;
        options.groupSize = groupSize;
        options.symmetric = symmetric;
        options.bits = bits;
        llvm::Expected<IntGroupWeight> q =
            quantizeIntGroupRtn(w, shape.out, shape.in, options);
        ASSERT_TRUE(static_cast<bool>(q)) << llvm::toString(q.takeError());
        for (int64_t row = 0; row < shape.out; ++row)
          for (int64_t g = 0; g < shape.in / groupSize; ++g) {
            llvm::ArrayRef<float> group =
                llvm::ArrayRef<float>(w).slice(row * shape.in + g * groupSize, groupSize);
            llvm::Expected<IntGrid> grid = intGroupGrid(group, bits, symmetric);
            ASSERT_TRUE(static_cast<bool>(grid)) << llvm::toString(grid.takeError());
            int64_t slot = row * q->groupsPerRow() + g;
            ASSERT_EQ(q->scales[slot], grid->scaleBits);
            if (!symmetric) {
              ASSERT_EQ(q->zeros[slot], toHalfBits(grid->zero));
            }
            for (int64_t k = 0; k < groupSize; ++k)
              ASSERT_EQ(q->codes[row * shape.in + g * groupSize + k],
                        intCode(group[k], *grid))
                  << bits << " bits, " << (symmetric ? "sym" : "asym") << " g" << groupSize
                  << " row " << row << " k " << g * groupSize + k;
          }
      }
}
