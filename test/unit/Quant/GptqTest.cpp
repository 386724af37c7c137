//===- GptqTest.cpp - GPTQ int4 group-wise properties ---------------------===//

#include "qtc/Quant/Gptq.h"

#include "qtc/Quant/RoundToNearest.h"

#include "ValueOrFail.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>

using namespace qtc::quant;

namespace {

std::vector<float> gaussianWeight(int64_t out, int64_t in, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> w(out * in);
  for (float &v : w)
    v = normal(rng);
  return w;
}

/// Calibration rows shaped like a transformer layer's inputs: correlated
/// channels (X = Z A with Z Gaussian and A = (1 - c) I + c G, G Gaussian, c
/// the `correlation`), a mean per channel, and a few outlier channels 20x
/// larger than the rest.
std::vector<double> calibrationRows(int64_t rows, int64_t in, unsigned seed,
                                    double correlation = 1.0) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> mix(in * in), mean(in), z(in), x(rows * in, 0.0);
  for (double &v : mix)
    v = correlation * normal(rng) / std::sqrt(static_cast<double>(in));
  for (int64_t i = 0; i < in; ++i)
    mix[i * in + i] += 1.0 - correlation;
  for (double &v : mean)
    v = 0.3 * normal(rng);
  std::vector<double> gain(in, 1.0);
  for (int64_t k = 0; k < 4; ++k)
    gain[(k * 37 + 5) % in] = 20.0;
  for (int64_t r = 0; r < rows; ++r) {
    for (double &v : z)
      v = normal(rng);
    double *row = &x[r * in];
    for (int64_t k = 0; k < in; ++k)
      for (int64_t j = 0; j < in; ++j)
        row[j] += z[k] * mix[k * in + j];
    for (int64_t j = 0; j < in; ++j)
      row[j] = gain[j] * (row[j] + mean[j]);
  }
  return x;
}

/// X^T X of row-major [rows, in] `x`.
std::vector<double> gram(const std::vector<double> &x, int64_t in) {
  int64_t rows = static_cast<int64_t>(x.size()) / in;
  std::vector<double> h(in * in, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < in; ++i)
      for (int64_t j = 0; j < in; ++j)
        h[i * in + j] += x[r * in + i] * x[r * in + j];
  return h;
}

/// The message a call that must fail gave.
template <typename T> std::string errorOf(llvm::Expected<T> value) {
  if (value)
    return "(succeeded)";
  return llvm::toString(value.takeError());
}

GptqOptions gptqOptions(int64_t groupSize, bool symmetric, bool actOrder) {
  GptqOptions options;
  options.grid = {groupSize, symmetric};
  options.actOrder = actOrder;
  return options;
}

double errorOfWeight(const std::vector<float> &w, const IntGroupWeight &q,
                     const std::vector<double> &h) {
  std::vector<float> back = valueOrFail(dequantizeIntGroup(q));
  return valueOrFail(
      hessianWeightedError(w, back, q.outFeatures, q.inFeatures, h));
}

void expectSameWeight(const IntGroupWeight &a, const IntGroupWeight &b) {
  EXPECT_EQ(a.codes, b.codes);
  EXPECT_EQ(a.scales, b.scales);
  EXPECT_EQ(a.zeros, b.zeros);
}

/// GPTQ by its definition, with no Cholesky factor and no blocks: quantize
/// the next column of the sweep, then move the columns still to go by the
/// update that minimizes the damped objective given the codes so far,
/// -H_RR^-1 H_Ri d, solved afresh. Grids as GptqOptions::actOrder says.
std::vector<uint8_t> definitionCodes(const std::vector<float> &w, int64_t out,
                                     int64_t in, const std::vector<double> &h,
                                     const GptqOptions &options) {
  int64_t groupSize = options.grid.groupSize;
  bool symmetric = options.grid.symmetric;
  std::vector<double> damped = h;
  std::vector<bool> dead(in);
  double mean = 0.0;
  for (int64_t i = 0; i < in; ++i) {
    dead[i] = h[i * in + i] == 0.0;
    if (dead[i])
      damped[i * in + i] = 1.0;
    mean += damped[i * in + i] / in;
  }
  for (int64_t i = 0; i < in; ++i)
    damped[i * in + i] += options.dampening * mean;
  std::vector<int64_t> order(in);
  std::iota(order.begin(), order.end(), 0);
  if (options.actOrder)
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return damped[a * in + a] > damped[b * in + b];
    });

  std::vector<uint8_t> codes(out * in);
  for (int64_t row = 0; row < out; ++row) {
    std::vector<double> current(in);
    for (int64_t c = 0; c < in; ++c)
      current[c] = dead[c] ? 0.0 : w[row * in + c];
    std::vector<IntGrid> grids(in / groupSize);
    auto gridOf = [&](int64_t group) {
      std::vector<float> values(current.begin() + group * groupSize,
                                current.begin() + (group + 1) * groupSize);
      return valueOrFail(intGroupGrid(values, 4, symmetric));
    };
    if (options.actOrder)
      for (size_t g = 0; g < grids.size(); ++g)
        grids[g] = gridOf(g);
    for (int64_t p = 0; p < in; ++p) {
      int64_t col = order[p], group = col / groupSize;
      if (!options.actOrder && col % groupSize == 0)
        grids[group] = gridOf(group);
      uint8_t code = intCode(current[col], grids[group]);
      codes[row * in + col] = code;
      double d = intValue(code, grids[group]) - current[col];
      // Solve H_RR x = H_Ri over the remaining columns R by Gaussian
      // elimination (H_RR is positive definite: no pivoting needed).
      std::vector<int64_t> rest(order.begin() + p + 1, order.end());
      int64_t m = static_cast<int64_t>(rest.size());
      std::vector<double> a(m * m), x(m);
      for (int64_t r = 0; r < m; ++r) {
        for (int64_t c = 0; c < m; ++c)
          a[r * m + c] = damped[rest[r] * in + rest[c]];
        x[r] = damped[rest[r] * in + col];
      }
      for (int64_t k = 0; k < m; ++k)
        for (int64_t r = k + 1; r < m; ++r) {
          double f = a[r * m + k] / a[k * m + k];
          for (int64_t c = k; c < m; ++c)
            a[r * m + c] -= f * a[k * m + c];
          x[r] -= f * x[k];
        }
      for (int64_t k = m - 1; k >= 0; --k) {
        for (int64_t c = k + 1; c < m; ++c)
          x[k] -= a[k * m + c] * x[c];
        x[k] /= a[k * m + k];
      }
      for (int64_t r = 0; r < m; ++r)
        current[rest[r]] -= x[r] * d;
    }
  }
  return codes;
}

struct Case {
  int64_t out, in, groupSize;
  bool symmetric;
};

void PrintTo(const Case &c, std::ostream *os) {
  *os << c.out << "x" << c.in << (c.symmetric ? " symmetric" : " asymmetric")
      << " g" << c.groupSize;
}

class GptqProperty : public testing::TestWithParam<Case> {};

} // namespace

// GPTQ minimizes tr(dW H dW^T) where RTN ignores H. With correlated inputs it
// does far better, with or without act-order, whether H has full rank (more
// calibration rows than channels) or is singular and needs damping; with
// nearly independent inputs there is less to gain, but it is never worse.
TEST_P(GptqProperty, BeatsRtnOnTheCalibrationObjective) {
  Case c = GetParam();
  std::vector<float> w = gaussianWeight(c.out, c.in, 7);
  IntGroupWeight rtn = valueOrFail(
      quantizeIntGroupRtn(w, c.out, c.in, {c.groupSize, c.symmetric}));
  for (double correlation : {1.0, 0.1})
    for (int64_t rows : {2 * c.in, c.in / 2}) {
      std::vector<double> h =
          gram(calibrationRows(rows, c.in, 3, correlation), c.in);
      double rtnError = errorOfWeight(w, rtn, h);
      for (bool actOrder : {false, true}) {
        std::string name = std::string("error_ratio_") +
                           (correlation == 1.0 ? "correlated" : "weak") +
                           "_rows" + std::to_string(rows) +
                           (actOrder ? "_act_order" : "");
        SCOPED_TRACE(name);
        IntGroupWeight q = valueOrFail(quantizeIntGroupGptq(
            w, c.out, c.in, h,
            gptqOptions(c.groupSize, c.symmetric, actOrder)));
        EXPECT_FALSE(static_cast<bool>(verifyIntGroup(q)));
        double ratio = errorOfWeight(w, q, h) / rtnError;
        RecordProperty(name, std::to_string(ratio));
        EXPECT_LT(ratio, correlation == 1.0 ? 0.35 : 0.8);
      }
    }
}

// Act-order keeps each group's grid from the original weights (static
// groups), so the scales and zero points are RTN's; only codes move.
TEST_P(GptqProperty, ActOrderKeepsRtnGrids) {
  Case c = GetParam();
  std::vector<float> w = gaussianWeight(c.out, c.in, 8);
  std::vector<double> h = gram(calibrationRows(2 * c.in, c.in, 4), c.in);
  IntGroupWeight rtn = valueOrFail(
      quantizeIntGroupRtn(w, c.out, c.in, {c.groupSize, c.symmetric}));
  IntGroupWeight q = valueOrFail(quantizeIntGroupGptq(
      w, c.out, c.in, h, gptqOptions(c.groupSize, c.symmetric, true)));
  EXPECT_EQ(q.scales, rtn.scales);
  EXPECT_EQ(q.zeros, rtn.zeros);
  EXPECT_NE(q.codes, rtn.codes);
}

// With a diagonal H the channels do not interact, so there is no error to
// move: GPTQ is RTN exactly, codes and grids, with and without act-order.
TEST_P(GptqProperty, DiagonalHessianGivesRtn) {
  Case c = GetParam();
  std::vector<float> w = gaussianWeight(c.out, c.in, 9);
  IntGroupWeight rtn = valueOrFail(
      quantizeIntGroupRtn(w, c.out, c.in, {c.groupSize, c.symmetric}));
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> positive(0.1, 10.0);
  std::vector<double> identity(c.in * c.in, 0.0), diagonal(c.in * c.in, 0.0);
  for (int64_t i = 0; i < c.in; ++i) {
    identity[i * c.in + i] = 1.0;
    diagonal[i * c.in + i] = positive(rng);
  }
  for (const std::vector<double> *h : {&identity, &diagonal})
    for (bool actOrder : {false, true}) {
      SCOPED_TRACE(std::string(h == &identity ? "identity" : "diagonal") +
                   (actOrder ? ", act-order" : ""));
      expectSameWeight(valueOrFail(quantizeIntGroupGptq(
                           w, c.out, c.in, *h,
                           gptqOptions(c.groupSize, c.symmetric, actOrder))),
                       rtn);
    }
}

// Rows are independent, so splitting them over threads (evenly or not, within
// or across the sweep's row tiles) changes nothing.
TEST_P(GptqProperty, ThreadCountDoesNotChangeTheResult) {
  Case c = GetParam();
  std::vector<float> w = gaussianWeight(c.out, c.in, 10);
  std::vector<double> h = gram(calibrationRows(c.in, c.in, 6), c.in);
  for (bool actOrder : {false, true}) {
    GptqOptions options = gptqOptions(c.groupSize, c.symmetric, actOrder);
    options.threads = 1;
    IntGroupWeight one =
        valueOrFail(quantizeIntGroupGptq(w, c.out, c.in, h, options));
    for (int threads : {2, 3}) {
      options.threads = threads;
      expectSameWeight(
          valueOrFail(quantizeIntGroupGptq(w, c.out, c.in, h, options)), one);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Int4, GptqProperty,
    testing::Values(Case{64, 256, 64, true}, Case{64, 256, 128, false},
                    Case{48, 384, 128, true}, Case{48, 384, 64, false}),
    [](const testing::TestParamInfo<Case> &info) {
      const Case &c = info.param;
      return std::to_string(c.out) + "x" + std::to_string(c.in) +
             (c.symmetric ? "Symmetric" : "Asymmetric") + "G" +
             std::to_string(c.groupSize);
    });

// The blocked, Cholesky-factored sweep computes what GPTQ is defined as: the
// same codes as re-solving for the optimal update after every column. Blocks
// smaller than, equal to and not a multiple of a group, and a singular H.
TEST(GptqTest, MatchesTheDefinition) {
  const int64_t out = 6, in = 48;
  std::vector<float> w = gaussianWeight(out, in, 11);
  for (int64_t rows : {96, 24}) {
    std::vector<double> h = gram(calibrationRows(rows, in, 12), in);
    for (bool symmetric : {true, false})
      for (bool actOrder : {false, true})
        for (int64_t blockSize : {8, 20, 128}) {
          SCOPED_TRACE(std::to_string(rows) + " rows, " +
                       (symmetric ? "symmetric" : "asymmetric") +
                       (actOrder ? ", act-order" : "") + ", block " +
                       std::to_string(blockSize));
          GptqOptions options = gptqOptions(16, symmetric, actOrder);
          options.blockSize = blockSize;
          IntGroupWeight q =
              valueOrFail(quantizeIntGroupGptq(w, out, in, h, options));
          std::vector<uint8_t> codes(out * in);
          for (int64_t r = 0; r < out; ++r)
            for (int64_t k = 0; k < in; ++k)
              codes[r * in + k] = q.code(r, k);
          EXPECT_EQ(codes, definitionCodes(w, out, in, h, options));
        }
  }
}

// GPTQ's dampening is relative to mean(diag H), so scaling H (by powers of
// two, exactly) changes nothing.
TEST(GptqTest, HessianScaleDoesNotMatter) {
  const int64_t out = 16, in = 128;
  std::vector<float> w = gaussianWeight(out, in, 13);
  std::vector<double> h = gram(calibrationRows(64, in, 14), in);
  IntGroupWeight q = valueOrFail(
      quantizeIntGroupGptq(w, out, in, h, gptqOptions(32, true, true)));
  for (double factor : {1024.0, 1.0 / 64}) {
    std::vector<double> scaled = h;
    for (double &v : scaled)
      v *= factor;
    expectSameWeight(valueOrFail(quantizeIntGroupGptq(
                         w, out, in, scaled, gptqOptions(32, true, true))),
                     q);
  }
}

// Channels no calibration row used (zero rows and columns of H) are zero
// weights: their inputs were always 0, so zero costs nothing, and the grids
// of their groups are those of the zeroed weight.
TEST(GptqTest, DeadChannelsBecomeZero) {
  const int64_t out = 32, in = 256;
  std::vector<float> w = gaussianWeight(out, in, 15);
  std::vector<double> x = calibrationRows(2 * in, in, 16);
  const int64_t deadChannels[] = {0, 3, 64, 65, 200, 255};
  for (int64_t r = 0; r < 2 * in; ++r)
    for (int64_t d : deadChannels)
      x[r * in + d] = 0.0;
  std::vector<double> h = gram(x, in);
  std::vector<float> zeroed = w;
  for (int64_t r = 0; r < out; ++r)
    for (int64_t d : deadChannels)
      zeroed[r * in + d] = 0.0f;
  for (bool symmetric : {true, false}) {
    IntGroupWeight rtn =
        valueOrFail(quantizeIntGroupRtn(zeroed, out, in, {64, symmetric}));
    for (bool actOrder : {false, true}) {
      SCOPED_TRACE(std::string(symmetric ? "symmetric" : "asymmetric") +
                   (actOrder ? ", act-order" : ""));
      IntGroupWeight q = valueOrFail(quantizeIntGroupGptq(
          w, out, in, h, gptqOptions(64, symmetric, actOrder)));
      std::vector<float> back = valueOrFail(dequantizeIntGroup(q));
      for (int64_t r = 0; r < out; ++r)
        for (int64_t d : deadChannels)
          ASSERT_EQ(back[r * in + d], 0.0f) << "[" << r << ", " << d << "]";
      if (actOrder) {
        EXPECT_EQ(q.scales, rtn.scales);
        EXPECT_EQ(q.zeros, rtn.zeros);
      }
      EXPECT_LT(errorOfWeight(w, q, h), 0.8 * errorOfWeight(w, rtn, h));
    }
  }

  // No calibration row at all: every channel is dead.
  std::vector<double> none(in * in, 0.0);
  IntGroupWeight q = valueOrFail(
      quantizeIntGroupGptq(w, out, in, none, gptqOptions(64, true, true)));
  std::vector<float> back = valueOrFail(dequantizeIntGroup(q));
  EXPECT_TRUE(
      std::all_of(back.begin(), back.end(), [](float v) { return v == 0.0f; }));
}

// A Hessian that damping by 0.01 leaves indefinite (as one accumulated in low
// precision can be) is retried with 10x as much; one that no damping up to
// the mean diagonal fixes is an error.
TEST(GptqTest, RetriesWithMoreDampening) {
  const int64_t out = 8, in = 64, rows = 32;
  std::vector<float> w = gaussianWeight(out, in, 17);
  std::mt19937 rng(18);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> x(rows * in);
  for (double &v : x)
    v = normal(rng);
  std::vector<double> h = gram(x, in);
  double mean = 0.0;
  for (int64_t i = 0; i < in; ++i)
    mean += h[i * in + i] / in;
  // Rank 32 of 64: removing 3% of the mean diagonal leaves eigenvalues of
  // -0.03 mean, which 0.01 does not lift and 0.1 does.
  for (int64_t i = 0; i < in; ++i)
    h[i * in + i] -= 0.03 * mean;
  GptqOptions options = gptqOptions(32, true, false);
  IntGroupWeight q =
      valueOrFail(quantizeIntGroupGptq(w, out, in, h, options));
  options.dampening = 0.1;
  expectSameWeight(q,
                   valueOrFail(quantizeIntGroupGptq(w, out, in, h, options)));

  std::vector<double> indefinite(in * in, 0.0);
  for (int64_t i = 0; i < in; i += 2) {
    indefinite[i * in + i] = indefinite[(i + 1) * in + i + 1] = 1.0;
    indefinite[i * in + i + 1] = indefinite[(i + 1) * in + i] = 5.0;
  }
  EXPECT_EQ(errorOf(quantizeIntGroupGptq(w, out, in, indefinite,
                                          gptqOptions(32, true, false))),
            "hessian is not positive definite, even with 1 of its mean "
            "diagonal added to the diagonal");
}

TEST(GptqTest, RejectsBadInputs) {
  const int64_t out = 4, in = 64;
  std::vector<float> w = gaussianWeight(out, in, 19);
  std::vector<double> h = gram(calibrationRows(128, in, 20), in);
  GptqOptions options = gptqOptions(32, true, true);
  auto gptq = [&](llvm::ArrayRef<float> weight, llvm::ArrayRef<double> hessian,
                  const GptqOptions &o) {
    return errorOf(quantizeIntGroupGptq(weight, out, in, hessian, o));
  };

  EXPECT_EQ(gptq(w, llvm::ArrayRef<double>(h).drop_back(), options),
            "hessian holds 4095 values, expected 64x64 (the weight's input "
            "features)");
  EXPECT_EQ(gptq(w, h, gptqOptions(48, true, true)),
            "group size 48 must be positive and divide the row length 64");
  EXPECT_EQ(gptq(llvm::ArrayRef<float>(w).drop_back(2), h, options),
            "weight holds 254 values, expected 4x64");

  std::vector<double> bad = h;
  bad[5 * in + 9] = std::nan("");
  EXPECT_EQ(gptq(w, bad, options), "hessian [5, 9] is not finite");
  bad = h;
  bad[5 * in + 9] += 1.0;
  EXPECT_EQ(gptq(w, bad, options).rfind("hessian is not symmetric: [9, 5]", 0),
            0u);
  bad = h;
  bad[7 * in + 7] = -1.0;
  EXPECT_EQ(gptq(w, bad, options).rfind("hessian [7, 7] is negative", 0), 0u);
  bad = h;
  bad[7 * in + 7] = 0.0;
  EXPECT_EQ(gptq(w, bad, options), "hessian [7, 7] is 0 but [7, 0] is not; a "
                                   "sum of x x^T cannot have that");

  std::vector<float> nanWeight = w;
  nanWeight[in + 3] = std::nanf("");
  EXPECT_EQ(gptq(nanWeight, h, options), "weight [1, 3] is not finite");

  GptqOptions o = options;
  o.blockSize = 0;
  EXPECT_EQ(gptq(w, h, o), "GPTQ block size must be positive, got 0");
  o = options;
  o.dampening = -0.1;
  EXPECT_EQ(gptq(w, h, o), "GPTQ dampening must be a finite fraction >= 0, "
                           "got -0.1");
  o = options;
  o.threads = -1;
  EXPECT_EQ(gptq(w, h, o), "GPTQ thread count must be >= 0, got -1");

  EXPECT_EQ(errorOf(hessianWeightedError(w, w, out, in,
                                         llvm::ArrayRef<double>(h).slice(1))),
            "hessian holds 4095 values, expected 64x64 (the weight's input "
            "features)");
  EXPECT_EQ(errorOf(hessianWeightedError(
                w, llvm::ArrayRef<float>(w).drop_back(), out, in, h)),
            "weight and dequantized weight hold 256 and 255 values, expected "
            "4x64");
}

// tr(dW H dW^T) with H = X^T X is the summed squared change of the outputs
// x W^T over the rows x of X.
TEST(GptqTest, HessianWeightedErrorIsTheOutputError) {
  const int64_t out = 24, in = 96, rows = 50;
  std::vector<float> w = gaussianWeight(out, in, 21);
  std::vector<float> other = gaussianWeight(out, in, 22);
  std::vector<double> x = calibrationRows(rows, in, 23);
  double expected = 0.0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t n = 0; n < out; ++n) {
      double change = 0.0;
      for (int64_t k = 0; k < in; ++k)
        change +=
            x[r * in + k] * (double(other[n * in + k]) - double(w[n * in + k]));
      expected += change * change;
    }
  double error =
      valueOrFail(hessianWeightedError(w, other, out, in, gram(x, in)));
  EXPECT_NEAR(error, expected, 1e-9 * expected);
  EXPECT_EQ(valueOrFail(hessianWeightedError(w, w, out, in, gram(x, in))), 0.0);
}
