//===- SmoothQuantTest.cpp - qtc-smooth-quant keeps the fp32 function -----===//
//
// SmoothQuant divides a producer's output channel c by s_c and multiplies
// the consumers' input column c by it. The fp32 function is unchanged
// exactly when, for every channel, producer'[c] * W'[:, c] equals
// producer[c] * W[:, c]; with alpha = 0.5 the smoothed input's channel
// maximum equals the smoothed weights' (the two ranges are balanced).
//
//===----------------------------------------------------------------------===//

#include "TinyModel.h"

#include "qtc/Import/WeightMatrix.h"
#include "qtc/Pipeline/Compile.h"
#include "qtc/Transforms/Passes.h"
#include "qtc/Transforms/WeightContext.h"

#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace qtc;

namespace {

std::vector<float> valuesOf(const WeightStore &store, const std::string &name) {
  mlir::MLIRContext context;
  mlir::FailureOr<WeightMatrix> m =
      readWeight(store, name, mlir::UnknownLoc::get(&context));
  EXPECT_TRUE(mlir::succeeded(m)) << name;
  return mlir::succeeded(m) ? m->values : std::vector<float>();
}

TEST(SmoothQuantTest, KeepsTheFunctionAndBalancesTheRanges) {
  mlir::MLIRContext context;
  loadPipelineDialects(context);
  test::TinyModel model = test::buildTinyModel(context);
  WeightContext weights(model.weights);
  WeightContext::attach(&context, &weights);
  mlir::PassManager pm(&context);
  CalibrateOptions calibrate;
  calibrate.tokens = 256;
  calibrate.seqLen = 32;
  pm.addPass(createCalibrate(calibrate));
  pm.addPass(createSmoothQuant());
  ASSERT_TRUE(mlir::succeeded(pm.run(*model.module)));
  WeightContext::attach(&context, nullptr);

  const std::string l = "model.layers.0.";
  struct Pair {
    std::string producer, newProducer;
    std::vector<std::string> consumers, newConsumers;
    int width;
  } pairs[] = {
      {l + "input_layernorm.weight", l + "input_layernorm.weight.smooth",
       {l + "self_attn.q_proj.weight", l + "self_attn.k_proj.weight",
        l + "self_attn.v_proj.weight"},
       {l + "self_attn.q_proj.weight.smooth", l + "self_attn.k_proj.weight.smooth",
        l + "self_attn.v_proj.weight.smooth"},
       16},
      {l + "post_attention_layernorm.weight", l + "post_attention_layernorm.weight.smooth",
       {l + "mlp.gate_proj.weight", l + "mlp.up_proj.weight"},
       {l + "mlp.gate_proj.weight.smooth", l + "mlp.up_proj.weight.smooth"},
       16},
      // up_proj is a consumer above and the producer of down_proj: its rows
      // carry the earlier column scale and now this row scale.
      {l + "mlp.up_proj.weight.smooth", l + "mlp.up_proj.weight.smooth.2",
       {l + "mlp.down_proj.weight"}, {l + "mlp.down_proj.weight.smooth"}, 24},
  };
  for (const Pair &p : pairs) {
    SCOPED_TRACE(p.producer);
    std::vector<float> before = valuesOf(model.weights, p.producer);
    std::vector<float> after = valuesOf(model.weights, p.newProducer);
    ASSERT_EQ(before.size(), after.size());
    const int width = p.width;
    const size_t rowLen = before.size() / width;
    // s_c from the producer; every consumer column must carry the same.
    std::vector<double> s(width);
    for (int c = 0; c < width; ++c)
      s[c] = double(before[c * rowLen]) / after[c * rowLen];
    for (int c = 0; c < width; ++c)
      for (size_t j = 0; j < rowLen; ++j)
        ASSERT_NEAR(double(after[c * rowLen + j]) * s[c], before[c * rowLen + j],
                    1e-5 * std::fabs(before[c * rowLen + j]) + 1e-9);
    double weightMax = 0;
    std::vector<double> columnMax(width, 0.0);
    for (size_t i = 0; i < p.consumers.size(); ++i) {
      std::vector<float> w = valuesOf(model.weights, p.consumers[i]);
      std::vector<float> w2 = valuesOf(model.weights, p.newConsumers[i]);
      ASSERT_EQ(w.size(), w2.size());
      for (size_t k = 0; k < w.size(); ++k) {
        int c = static_cast<int>(k % width);
        // producer[c] * W[n, c] is what the consumer computes with.
        ASSERT_NEAR(double(w2[k]) / s[c], w[k], 1e-5 * std::fabs(w[k]) + 1e-9);
        columnMax[c] = std::max(columnMax[c], std::fabs(double(w2[k])));
      }
      weightMax = std::max(weightMax, *std::max_element(columnMax.begin(), columnMax.end()));
    }
    // alpha 0.5: max|x_c| / s_c == max|W'_c| (SmoothQuant's balance).
    const quant::ActivationStatistics *stats = weights.inputStatistics(p.newConsumers[0]);
    ASSERT_NE(stats, nullptr);
    for (int c = 0; c < width; ++c)
      if (stats->absMax()[c] > 1e-4)
        EXPECT_NEAR(stats->absMax()[c], columnMax[c], 1e-3 * columnMax[c]) << "channel " << c;
    EXPECT_GT(weightMax, 0.0);
  }
}

} // namespace
