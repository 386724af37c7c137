//===- AwqClipTest.cpp - Clip weight groups to minimise output error ------===//

#include "qtc/Quant/AwqClip.h"
#include "qtc/Quant/Gptq.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace qtc::quant;

namespace {

struct Case {
  std::vector<float> weight;
  std::vector<double> hessian;
};

// Gaussian weights with a few large ones per row, correlated activations.
Case makeCase(int out, int in, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Case c;
  c.weight.resize(out * in);
  for (float &w : c.weight)
    w = 0.02f * normal(rng);
  for (int r = 0; r < out; ++r)
    c.weight[r * in + (r * 7) % in] *= 8.0f;
  const int rows = 2 * in;
  std::vector<float> x(rows * in);
  for (int t = 0; t < rows; ++t) {
    float common = normal(rng);
    for (int i = 0; i < in; ++i)
      x[t * in + i] = normal(rng) + 0.5f * common;
  }
  c.hessian.assign(in * in, 0.0);
  for (int t = 0; t < rows; ++t)
    for (int i = 0; i < in; ++i)
      for (int j = 0; j < in; ++j)
        c.hessian[i * in + j] += double(x[t * in + i]) * x[t * in + j];
  return c;
}

double rtnError(const std::vector<float> &reference, const std::vector<float> &toQuantize,
                const std::vector<double> &hessian, int out, int in,
                const IntGroupOptions &grid) {
  auto q = quantizeIntGroupRtn(toQuantize, out, in, grid);
  EXPECT_TRUE(bool(q));
  auto deq = dequantizeIntGroup(*q);
  EXPECT_TRUE(bool(deq));
  auto err = hessianWeightedError(reference, *deq, out, in, hessian);
  EXPECT_TRUE(bool(err));
  return *err;
}

// Clamped then rounded weights have a lower output error (against the
// unclamped originals) than rounding the originals, and values only shrink.
TEST(AwqClipTest, LowersTheOutputErrorOfRoundToNearest) {
  for (bool symmetric : {true, false}) {
    const int out = 24, in = 128;
    Case c = makeCase(out, in, symmetric ? 1 : 2);
    ClipSearchOptions options;
    options.grid.groupSize = 32;
    options.grid.symmetric = symmetric;
    std::vector<float> clipped = c.weight;
    auto ratio = clipGroupsForOutputError(clipped, out, in, c.hessian, options);
    ASSERT_TRUE(bool(ratio)) << llvm::toString(ratio.takeError());
    EXPECT_LT(*ratio, 1.0);
    EXPECT_GE(*ratio, options.minRatio);
    for (size_t i = 0; i < clipped.size(); ++i)
      EXPECT_LE(std::fabs(clipped[i]), std::fabs(c.weight[i]));
    double before = rtnError(c.weight, c.weight, c.hessian, out, in, options.grid);
    double after = rtnError(c.weight, clipped, c.hessian, out, in, options.grid);
    EXPECT_LT(after, before) << "symmetric " << symmetric;
  }
}

// A zero Hessian sees no error anywhere: nothing is clamped.
TEST(AwqClipTest, ZeroHessianKeepsTheWeights) {
  const int out = 4, in = 64;
  Case c = makeCase(out, in, 3);
  std::vector<double> zero(in * in, 0.0);
  std::vector<float> w = c.weight;
  ClipSearchOptions options;
  options.grid.groupSize = 32;
  auto ratio = clipGroupsForOutputError(w, out, in, zero, options);
  ASSERT_TRUE(bool(ratio));
  EXPECT_EQ(*ratio, 1.0);
  EXPECT_EQ(w, c.weight);
}

TEST(AwqClipTest, RejectsBadShapes) {
  std::vector<float> w(8 * 64, 0.1f);
  std::vector<double> h(10, 0.0);
  ClipSearchOptions options;
  options.grid.groupSize = 32;
  auto r = clipGroupsForOutputError(w, 8, 64, h, options);
  ASSERT_FALSE(bool(r));
  EXPECT_NE(llvm::toString(r.takeError()).find("hessian holds 10 values"), std::string::npos);
  options.grid.groupSize = 48;
  std::vector<double> h2(64 * 64, 0.0);
  auto r2 = clipGroupsForOutputError(w, 8, 64, h2, options);
  EXPECT_FALSE(bool(r2));
  llvm::consumeError(r2.takeError());
}

} // namespace
