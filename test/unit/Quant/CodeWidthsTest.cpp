//===- CodeWidthsTest.cpp - RTN and GPTQ at 3, 4 and 8 bits ---------------===//
//
// The integer quantizers are one algorithm over any width: each width's
// grid holds every weight within half a step, costs about 6 dB of SQNR per
// bit removed, and GPTQ beats RTN on the calibration objective at every
// width, per group and per output row.
//
//===----------------------------------------------------------------------===//

#include "qtc/Quant/Gptq.h"
#include "qtc/Quant/Numerics.h"
#include "qtc/Quant/RoundToNearest.h"

#include "ValueOrFail.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace qtc::quant;

namespace {

std::vector<float> gaussian(int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> w(n);
  for (float &v : w)
    v = normal(rng);
  return w;
}

// X^T X of correlated rows with a few large channels.
std::vector<double> correlatedHessian(int64_t rows, int64_t in, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> mix(in * in), x(in), h(in * in, 0.0), z(in);
  for (double &v : mix)
    v = normal(rng) / std::sqrt(static_cast<double>(in));
  for (int64_t r = 0; r < rows; ++r) {
    for (double &v : z)
      v = normal(rng);
    for (int64_t j = 0; j < in; ++j) {
      x[j] = 0;
      for (int64_t k = 0; k < in; ++k)
        x[j] += z[k] * mix[k * in + j];
      if (j % 29 == 3)
        x[j] *= 15.0;
    }
    for (int64_t i = 0; i < in; ++i)
      for (int64_t j = 0; j < in; ++j)
        h[i * in + j] += x[i] * x[j];
  }
  return h;
}

struct Width {
  int bits;
  int64_t groupSize; // 0: one group per row
  bool symmetric;
};

class CodeWidths : public ::testing::TestWithParam<Width> {};

constexpr int64_t kOut = 24, kIn = 128;

IntGroupOptions optionsOf(const Width &c) {
  IntGroupOptions o;
  o.bits = c.bits;
  o.groupSize = c.groupSize ? c.groupSize : kIn;
  o.symmetric = c.symmetric;
  return o;
}

TEST_P(CodeWidths, RtnKeepsEveryWeightWithinHalfAStep) {
  Width c = GetParam();
  std::vector<float> w = gaussian(kOut * kIn, 1);
  IntGroupWeight q = valueOrFail(quantizeIntGroupRtn(w, kOut, kIn, optionsOf(c)));
  ASSERT_FALSE(static_cast<bool>(verifyIntGroup(q)));
  EXPECT_EQ(q.bits, c.bits);
  std::vector<float> back = valueOrFail(dequantizeIntGroup(q));
  for (int64_t r = 0; r < kOut; ++r)
    for (int64_t k = 0; k < kIn; ++k) {
      float step = q.scale(r, k / q.groupSize);
      ASSERT_LE(std::fabs(back[r * kIn + k] - w[r * kIn + k]), step / 2 * (1 + 1e-6))
          << r << ", " << k;
      ASSERT_LE(q.code(r, k), intMaxCode(c.bits));
    }
}

TEST_P(CodeWidths, GptqBeatsRtnOnTheCalibrationObjective) {
  Width c = GetParam();
  std::vector<float> w = gaussian(kOut * kIn, 2);
  std::vector<double> h = correlatedHessian(2 * kIn, kIn, 3);
  IntGroupWeight rtn = valueOrFail(quantizeIntGroupRtn(w, kOut, kIn, optionsOf(c)));
  GptqOptions options;
  options.grid = optionsOf(c);
  IntGroupWeight gptq = valueOrFail(quantizeIntGroupGptq(w, kOut, kIn, h, options));
  ASSERT_FALSE(static_cast<bool>(verifyIntGroup(gptq)));
  auto error = [&](const IntGroupWeight &q) {
    return valueOrFail(hessianWeightedError(w, valueOrFail(dequantizeIntGroup(q)),
                                            kOut, kIn, h));
  };
  double ratio = error(gptq) / error(rtn);
  RecordProperty("error_ratio", std::to_string(ratio));
  EXPECT_LT(ratio, 0.8);
}

INSTANTIATE_TEST_SUITE_P(
    Widths, CodeWidths,
    ::testing::Values(Width{3, 64, true}, Width{3, 32, false}, Width{4, 0, true},
                      Width{8, 64, true}, Width{8, 0, true}),
    [](const ::testing::TestParamInfo<Width> &info) {
      return "int" + std::to_string(info.param.bits) +
             (info.param.groupSize ? "_g" + std::to_string(info.param.groupSize)
                                   : std::string("_row")) +
             (info.param.symmetric ? "_sym" : "_asym");
    });

// Each bit halves the step: about 6 dB of weight SQNR per bit.
TEST(CodeWidthsTest, SqnrGrowsAboutSixDbPerBit) {
  std::vector<float> w = gaussian(kOut * kIn, 4);
  auto sqnr = [&](int bits) {
    IntGroupOptions o;
    o.bits = bits;
    o.groupSize = 64;
    IntGroupWeight q = valueOrFail(quantizeIntGroupRtn(w, kOut, kIn, o));
    return valueOrFail(measureError(w, valueOrFail(dequantizeIntGroup(q)))).sqnrDb;
  };
  double s3 = sqnr(3), s4 = sqnr(4), s8 = sqnr(8);
  EXPECT_NEAR(s4 - s3, 6.0, 2.0);
  EXPECT_NEAR(s8 - s4, 4 * 6.0, 4.0);
}

TEST(CodeWidthsTest, UnsupportedWidthsAreRefused) {
  std::vector<float> w(4 * 8, 0.5f);
  IntGroupOptions o;
  o.bits = 5;
  o.groupSize = 8;
  llvm::Expected<IntGroupWeight> q = quantizeIntGroupRtn(w, 4, 8, o);
  ASSERT_FALSE(static_cast<bool>(q));
  EXPECT_EQ(llvm::toString(q.takeError()),
            "integer weights of 5 bits are not supported (3, 4 or 8)");
}

} // namespace
