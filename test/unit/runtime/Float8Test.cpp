//===- Float8Test.cpp - E4M3 conversions of the fp8 KV cache --------------===//

#include "qtc/rt/Float8.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace qtc::rt;

TEST(Float8, EveryFiniteCodeRoundTrips) {
  for (int code = 0; code < 256; ++code) {
    const float value = e4m3ToFloat(static_cast<uint8_t>(code));
    if ((code & 0x7f) == 0x7f) {
      EXPECT_TRUE(std::isnan(value)) << code;
      continue;
    }
    EXPECT_EQ(floatToE4M3(value), code) << "code " << code << " value " << value;
  }
}

TEST(Float8, KnownValues) {
  EXPECT_EQ(e4m3ToFloat(0x7e), 448.0f);
  EXPECT_EQ(e4m3ToFloat(0x38), 1.0f);
  EXPECT_EQ(e4m3ToFloat(0x01), std::ldexp(1.0f, -9));
  EXPECT_EQ(e4m3ToFloat(0x08), std::ldexp(1.0f, -6));
  EXPECT_EQ(e4m3ToFloat(0xb8), -1.0f);
  EXPECT_EQ(floatToE4M3(1.0f), 0x38);
  EXPECT_EQ(floatToE4M3(-2.5f), 0xc2); // 1.25 * 2^1
}

TEST(Float8, RoundsToNearestEvenAndSaturates) {
  // Between 1.0 (0x38) and 1.125 (0x39): the midpoint goes to the even code.
  EXPECT_EQ(floatToE4M3(1.0625f), 0x38);
  EXPECT_EQ(floatToE4M3(1.0626f), 0x39);
  // Between 1.125 and 1.25 (0x3a): the midpoint goes to 0x3a.
  EXPECT_EQ(floatToE4M3(1.1875f), 0x3a);
  // 1.9375 rounds up into the next binade: 2.0 (0x40).
  EXPECT_EQ(floatToE4M3(1.9375f), 0x40);
  // Subnormal midpoint between 1 and 2 units of 2^-9 goes to 2.
  EXPECT_EQ(floatToE4M3(1.5f * std::ldexp(1.0f, -9)), 0x02);
  EXPECT_EQ(floatToE4M3(0.4f * std::ldexp(1.0f, -9)), 0x00);
  // The largest subnormal rounds up to the smallest normal.
  EXPECT_EQ(floatToE4M3(7.75f * std::ldexp(1.0f, -9)), 0x08);
  EXPECT_EQ(floatToE4M3(1000.0f), 0x7e);
  EXPECT_EQ(floatToE4M3(-INFINITY), 0xfe);
  EXPECT_EQ(floatToE4M3(460.0f), 0x7e);
  EXPECT_TRUE(std::isnan(roundToE4M3(NAN)));
  // Relative error at most 2^-4 for normal values.
  for (float x = 0.02f; x < 400.0f; x *= 1.01f)
    EXPECT_LE(std::fabs(roundToE4M3(x) - x), x / 16.0f) << x;
}
