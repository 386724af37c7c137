//===- RopeFrequenciesTest.cpp - Theta and scaling from frequencies -------===//

#include "lib/Import/RopeFrequencies.h"

#include "llvm/ADT/APFloat.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace qtc;

namespace {

// Rounds every frequency to `semantics`, as an exporter storing them does.
std::vector<double> storedAs(std::vector<double> frequencies,
                             const llvm::fltSemantics &semantics) {
  for (double &f : frequencies) {
    llvm::APFloat value(f);
    bool losesInfo;
    value.convert(semantics, llvm::APFloat::rmNearestTiesToEven, &losesInfo);
    value.convert(llvm::APFloat::IEEEdouble(),
                  llvm::APFloat::rmNearestTiesToEven, &losesInfo);
    f = value.convertToDouble();
  }
  return frequencies;
}

TEST(RopeFrequenciesTest, RecoversRoundThetaFromBf16Frequencies) {
  // kjv-llama-6m's export keeps theta = 10000, head_dim 64 in bf16, where
  // inv_freq[1] reads 0.75 and alone would suggest theta = 9990.
  auto frequencies =
      storedAs(ropeFrequencies(10000.0, {}, 64), llvm::APFloat::BFloat());
  EXPECT_EQ(frequencies[1], 0.75);
  llvm::Expected<RopeFit> fit = fitRopeTheta(frequencies, 64);
  ASSERT_TRUE(bool(fit)) << llvm::toString(fit.takeError());
  EXPECT_EQ(fit->theta, 10000.0f);
  EXPECT_EQ(fit->scaling.kind, RopeScalingConfig::Kind::None);
}

TEST(RopeFrequenciesTest, RecoversThetaFromF32Frequencies) {
  for (double theta : {10000.0, 500000.0, 1000000.0, 12345.0}) {
    auto frequencies =
        storedAs(ropeFrequencies(theta, {}, 128), llvm::APFloat::IEEEsingle());
    llvm::Expected<RopeFit> fit = fitRopeTheta(frequencies, 128);
    ASSERT_TRUE(bool(fit)) << llvm::toString(fit.takeError());
    EXPECT_EQ(fit->theta, static_cast<float>(theta));
  }
}

TEST(RopeFrequenciesTest, RecoversLinearScaling) {
  RopeScalingConfig linear;
  linear.kind = RopeScalingConfig::Kind::Linear;
  linear.factor = 4.0f;
  auto frequencies = storedAs(ropeFrequencies(10000.0, linear, 64),
                              llvm::APFloat::IEEEsingle());
  llvm::Expected<RopeFit> fit = fitRopeTheta(frequencies, 64);
  ASSERT_TRUE(bool(fit)) << llvm::toString(fit.takeError());
  EXPECT_EQ(fit->theta, 10000.0f);
  EXPECT_EQ(fit->scaling.kind, RopeScalingConfig::Kind::Linear);
  EXPECT_EQ(fit->scaling.factor, 4.0f);
}

TEST(RopeFrequenciesTest, Llama3ScalingNeedsItsParameters) {
  RopeScalingConfig llama3;
  llama3.kind = RopeScalingConfig::Kind::Llama3;
  llama3.factor = 8.0f;
  llama3.lowFreqFactor = 1.0f;
  llama3.highFreqFactor = 4.0f;
  llama3.originalMaxPositions = 8192;
  auto frequencies = storedAs(ropeFrequencies(500000.0, llama3, 128),
                              llvm::APFloat::IEEEsingle());
  llvm::Expected<RopeFit> fit = fitRopeTheta(frequencies, 128);
  ASSERT_FALSE(bool(fit));
  EXPECT_NE(llvm::toString(fit.takeError()).find("config.json"),
            std::string::npos);
  EXPECT_TRUE(frequenciesMatch(frequencies, 500000.0, llama3, 128));
  EXPECT_FALSE(frequenciesMatch(frequencies, 500000.0, {}, 128));
}

TEST(RopeFrequenciesTest, ReadsFrequenciesFromRotateHalfTables) {
  const int64_t positions = 5, headDim = 4;
  std::vector<double> expected = ropeFrequencies(100.0, {}, headDim);
  HostTensor cos = HostTensor::zeros(DType::F32, {1, positions, headDim});
  HostTensor sin = HostTensor::zeros(DType::F32, {1, positions, headDim});
  for (int64_t p = 0; p < positions; ++p)
    for (int64_t j = 0; j < headDim; ++j) {
      cos.floats[p * headDim + j] = std::cos(p * expected[j % 2]);
      sin.floats[p * headDim + j] = std::sin(p * expected[j % 2]);
    }
  llvm::Expected<std::vector<double>> read =
      frequenciesFromTables(cos, sin, headDim, positions);
  ASSERT_TRUE(bool(read)) << llvm::toString(read.takeError());
  EXPECT_NEAR((*read)[0], expected[0], 1e-12);
  EXPECT_NEAR((*read)[1], expected[1], 1e-12);

  // Interleaved tables (pairs side by side) are not rotate-half.
  std::swap(cos.floats[headDim + 1], cos.floats[headDim + 2]);
  std::swap(sin.floats[headDim + 1], sin.floats[headDim + 2]);
  llvm::Expected<std::vector<double>> interleaved =
      frequenciesFromTables(cos, sin, headDim, positions);
  ASSERT_FALSE(bool(interleaved));
  llvm::consumeError(interleaved.takeError());
}

} // namespace
