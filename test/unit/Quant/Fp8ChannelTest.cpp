//===- Fp8ChannelTest.cpp - FP8 E4M3 weights with one scale per row -------===//

#include "qtc/Quant/Fp8Channel.h"

#include "qtc/Quant/Numerics.h"
#include "qtc/rt/Float8.h"

#include "ValueOrFail.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace qtc::quant;

namespace {

// The row's largest weight maps to 448; every weight is then within e4m3's
// relative half step (2^-4) of itself, or its subnormal step near zero.
TEST(Fp8ChannelTest, RoundsEachWeightWithinHalfAnE4M3Step) {
  const int64_t out = 8, in = 96;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 0.03f);
  std::vector<float> w(out * in);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = normal(rng) * static_cast<float>(1 + i / in); // rows of growing range
  Fp8ChannelWeight q = valueOrFail(quantizeFp8ChannelRtn(w, out, in));
  std::vector<float> back = valueOrFail(dequantizeFp8Channel(q));
  for (int64_t r = 0; r < out; ++r) {
    float absMax = 0;
    for (int64_t k = 0; k < in; ++k)
      absMax = std::max(absMax, std::fabs(w[r * in + k]));
    EXPECT_FLOAT_EQ(q.scales[r], absMax / kE4M3Max);
    for (int64_t k = 0; k < in; ++k) {
      float x = w[r * in + k], err = std::fabs(back[r * in + k] - x);
      float subnormalStep = std::ldexp(1.0f, -9) * q.scales[r];
      ASSERT_LE(err, std::max(std::fabs(x) / 16, subnormalStep / 2) * 1.0001f)
          << r << ", " << k;
    }
  }
  // e4m3's 3 mantissa bits give roughly 30 dB on Gaussian weights.
  double sqnr = valueOrFail(measureError(w, back)).sqnrDb;
  EXPECT_GT(sqnr, 28.0);
  EXPECT_LT(sqnr, 36.0);
}

TEST(Fp8ChannelTest, ValuesOnTheGridAreExact) {
  // Row 0: multiples of 2^-3 times powers of two fit e4m3 under scale 1.
  std::vector<float> w = {448.0f, -1.5f, 0.125f, 0.0f, /*row 1: zeros*/ 0, 0, 0, 0};
  Fp8ChannelWeight q = valueOrFail(quantizeFp8ChannelRtn(w, 2, 4));
  EXPECT_EQ(q.scales[0], 1.0f);
  EXPECT_EQ(q.scales[1], 1.0f); // a zero row keeps scale 1
  std::vector<float> back = valueOrFail(dequantizeFp8Channel(q));
  EXPECT_EQ(back, w);
  EXPECT_EQ(q.codes[0], 0x7e); // 448, the largest finite code
}

TEST(Fp8ChannelTest, RejectsBadInput) {
  std::vector<float> w = {1.0f, std::nanf(""), 0.0f, 1.0f};
  llvm::Expected<Fp8ChannelWeight> q = quantizeFp8ChannelRtn(w, 2, 2);
  ASSERT_FALSE(static_cast<bool>(q));
  EXPECT_EQ(llvm::toString(q.takeError()), "weight [0, 1] is not finite");
  q = quantizeFp8ChannelRtn(w, 3, 2);
  ASSERT_FALSE(static_cast<bool>(q));
  EXPECT_EQ(llvm::toString(q.takeError()), "weight holds 4 values, expected 3x2");

  Fp8ChannelWeight nan;
  nan.outFeatures = 1;
  nan.inFeatures = 2;
  nan.codes = {0x10, 0x7f};
  nan.scales = {1.0f};
  EXPECT_EQ(llvm::toString(verifyFp8Channel(nan)), "fp8 weight code at [0, 1] is NaN");
}

} // namespace
