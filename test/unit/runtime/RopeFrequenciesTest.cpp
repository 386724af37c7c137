//===- RopeFrequenciesTest.cpp - RoPE inverse frequencies and scaling -----===//
//
// qtc/rt/RopeFrequencies.h is the one definition the RoPE kernels are
// generated from and the host backend tabulates; these check it against
// transformers' formulas computed in double.
//
//===----------------------------------------------------------------------===//

#include "qtc/rt/RopeFrequencies.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace qtc::rt;

namespace {

RopeFrequencySpec plain(int headDim, float theta) {
  RopeFrequencySpec spec;
  spec.headDim = headDim;
  spec.theta = theta;
  return spec;
}

} // namespace

TEST(RopeInverseFrequencies, UnscaledIsThetaToTheMinusTwoIOverD) {
  std::vector<float> inv = ropeInverseFrequencies(plain(64, 10000.0f));
  ASSERT_EQ(inv.size(), 32u);
  EXPECT_EQ(inv[0], 1.0f);
  for (int i = 0; i < 32; ++i)
    EXPECT_NEAR(inv[i], std::pow(10000.0, -2.0 * i / 64.0), 1e-6 * std::pow(10000.0, -2.0 * i / 64.0))
        << i;
  // Strictly decreasing.
  for (int i = 1; i < 32; ++i)
    EXPECT_LT(inv[i], inv[i - 1]);
}

TEST(RopeInverseFrequencies, LinearScalingDividesEveryFrequency) {
  RopeFrequencySpec spec = plain(16, 500000.0f);
  std::vector<float> base = ropeInverseFrequencies(spec);
  spec.scaling = RopeFrequencySpec::Scaling::Linear;
  spec.factor = 4.0f;
  std::vector<float> scaled = ropeInverseFrequencies(spec);
  ASSERT_EQ(scaled.size(), base.size());
  for (size_t i = 0; i < base.size(); ++i)
    EXPECT_EQ(scaled[i], base[i] / 4.0f) << i;
}

TEST(RopeInverseFrequencies, Llama3ScalingKeepsHighAndDividesLowFrequencies) {
  // Llama 3.1's parameters on a 128-wide head.
  RopeFrequencySpec spec = plain(128, 500000.0f);
  std::vector<float> base = ropeInverseFrequencies(spec);
  spec.scaling = RopeFrequencySpec::Scaling::Llama3;
  spec.factor = 8.0f;
  spec.lowFreqFactor = 1.0f;
  spec.highFreqFactor = 4.0f;
  spec.originalMaxPositions = 8192;
  std::vector<float> scaled = ropeInverseFrequencies(spec);
  ASSERT_EQ(scaled.size(), 64u);
  const double lowWavelen = 8192.0 / 1.0, highWavelen = 8192.0 / 4.0;
  int kept = 0, divided = 0, smoothed = 0;
  for (size_t i = 0; i < base.size(); ++i) {
    const double wavelen = 2 * M_PI / base[i];
    double expected = base[i];
    if (wavelen > lowWavelen) {
      expected = base[i] / 8.0;
      ++divided;
    } else if (wavelen >= highWavelen) {
      const double smooth = (8192.0 / wavelen - 1.0) / (4.0 - 1.0);
      expected = (1 - smooth) * base[i] / 8.0 + smooth * base[i];
      ++smoothed;
    } else {
      ++kept;
    }
    EXPECT_NEAR(scaled[i], expected, 1e-5 * expected) << i;
  }
  // All three regimes occur for these parameters.
  EXPECT_GT(kept, 0);
  EXPECT_GT(divided, 0);
  EXPECT_GT(smoothed, 0);
  EXPECT_EQ(scaled[0], base[0]);
}

TEST(RopeInverseFrequencies, OddOrEmptyHeadsGiveHalfTheWidth) {
  EXPECT_EQ(ropeInverseFrequencies(plain(0, 10000.0f)).size(), 0u);
  EXPECT_EQ(ropeInverseFrequencies(plain(2, 10000.0f)).size(), 1u);
}
