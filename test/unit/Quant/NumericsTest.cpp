//===- NumericsTest.cpp - Quantization error measures ---------------------===//

#include "qtc/Quant/Numerics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace qtc::quant;

TEST(NumericsTest, ExactCopyHasInfiniteSqnr) {
  std::vector<float> x = {1.0f, -2.0f, 0.5f};
  llvm::Expected<ErrorStats> stats = measureError(x, x);
  ASSERT_TRUE(static_cast<bool>(stats)) << llvm::toString(stats.takeError());
  EXPECT_TRUE(std::isinf(stats->sqnrDb) && stats->sqnrDb > 0);
  EXPECT_EQ(stats->maxAbsError, 0.0);
}

TEST(NumericsTest, KnownNoise) {
  // Signal energy 4, noise energy 0.25^2 + 0.25^2 = 0.125: 10 log10(32) dB.
  std::vector<float> x = {1.0f, 1.0f, -1.0f, -1.0f};
  std::vector<float> y = {1.25f, 1.0f, -1.0f, -0.75f};
  llvm::Expected<ErrorStats> stats = measureError(x, y);
  ASSERT_TRUE(static_cast<bool>(stats)) << llvm::toString(stats.takeError());
  EXPECT_NEAR(stats->sqnrDb, 10.0 * std::log10(32.0), 1e-12);
  EXPECT_EQ(stats->maxAbsError, 0.25);
}

TEST(NumericsTest, ScalingBothSidesKeepsSqnr) {
  std::vector<float> x = {0.3f, -1.7f, 2.2f, 0.01f};
  std::vector<float> y = {0.31f, -1.69f, 2.18f, 0.0f};
  std::vector<float> x8, y8;
  for (size_t i = 0; i < x.size(); ++i) {
    x8.push_back(x[i] * 8.0f); // powers of two scale exactly
    y8.push_back(y[i] * 8.0f);
  }
  llvm::Expected<ErrorStats> a = measureError(x, y), b = measureError(x8, y8);
  ASSERT_TRUE(a && b);
  EXPECT_NEAR(a->sqnrDb, b->sqnrDb, 1e-9);
  EXPECT_NEAR(b->maxAbsError, 8.0 * a->maxAbsError, 1e-9);
}

TEST(NumericsTest, RejectsMismatchedOrEmptyInputs) {
  std::vector<float> two = {1.0f, 2.0f}, three = {1.0f, 2.0f, 3.0f};
  llvm::Expected<ErrorStats> mismatched = measureError(two, three);
  ASSERT_FALSE(static_cast<bool>(mismatched));
  EXPECT_NE(llvm::toString(mismatched.takeError()).find("got 2 and 3"),
            std::string::npos);
  llvm::Expected<ErrorStats> empty = measureError({}, {});
  ASSERT_FALSE(static_cast<bool>(empty));
  llvm::consumeError(empty.takeError());
}
