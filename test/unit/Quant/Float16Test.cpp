//===- Float16Test.cpp - f16 storage conversions --------------------------===//

#include "qtc/Quant/Float16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace qtc::quant;

TEST(Float16Test, KnownBitPatterns) {
  EXPECT_EQ(toHalfBits(1.0), 0x3C00);
  EXPECT_EQ(toHalfBits(-2.0), 0xC000);
  EXPECT_EQ(toHalfBits(0.0), 0x0000);
  EXPECT_EQ(toHalfBits(kHalfMax), 0x7BFF);
  EXPECT_EQ(toHalfBits(1e6), 0x7C00); // overflow goes to +infinity
  EXPECT_EQ(fromHalfBits(0x3555), 0.333251953125f);
  EXPECT_EQ(fromHalfBits(0x0001), std::ldexp(1.0f, -24)); // smallest subnormal
}

TEST(Float16Test, EveryFiniteHalfRoundTrips) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    auto half = static_cast<uint16_t>(bits);
    float value = fromHalfBits(half);
    if (std::isnan(value))
      continue;
    // -0 and +0 keep their sign bit.
    EXPECT_EQ(toHalfBits(value), half) << "bits " << bits;
  }
}

TEST(Float16Test, DirectedRoundingBracketsTheValue) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> magnitude(-20.0, 15.0);
  for (int i = 0; i < 10000; ++i) {
    double value = std::exp2(magnitude(rng));
    float up = fromHalfBits(toHalfBits(value, llvm::RoundingMode::TowardPositive));
    float down =
        fromHalfBits(toHalfBits(value, llvm::RoundingMode::TowardNegative));
    float nearest = fromHalfBits(toHalfBits(value));
    EXPECT_GE(up, value);
    EXPECT_LE(down, value);
    EXPECT_TRUE(nearest == up || nearest == down);
    EXPECT_LE(std::fabs(nearest - value), 0.5 * (up - down) + 1e-30);
  }
}
