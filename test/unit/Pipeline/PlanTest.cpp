//===- PlanTest.cpp - tfm/qnt -> artifact plan ---------------------===//

#include "TinyModel.h"

#include "qtc/Pipeline/Compile.h"
#include "qtc/Artifact/ArtifactWriter.h"
#include "qtc/Chain/Plan.h"
#include "qtc/Transforms/Passes.h"
#include "qtc/Transforms/WeightContext.h"

#include "dialects/tfm/TfmOps.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace qtc;
namespace fb = artifact::fb;

namespace {

class PlanTest : public ::testing::Test {
protected:
  PlanTest() { loadPipelineDialects(context); }

  std::vector<fb::StepKind> kinds(const artifact::ArtifactContents &c) {
    std::vector<fb::StepKind> out;
    for (const artifact::Step &s : c.steps)
      out.push_back(s.kind);
    return out;
  }

  // qtc-quantize-weights with `options`, then `quantizer` (qtc-rtn unless
  // given), with the model's weights attached as `qtc compile` does.
  mlir::LogicalResult quantize(test::TinyModel &model,
                               const QuantizeWeightsOptions &options,
                               bool gptq = false) {
    WeightContext weights(model.weights);
    WeightContext::attach(&context, &weights);
    mlir::PassManager pm(&context);
    if (gptq) {
      CalibrateOptions calibrate;
      calibrate.tokens = 256;
      calibrate.seqLen = 32;
      pm.addPass(createCalibrate(calibrate));
    }
    pm.addPass(createQuantizeWeights(options));
    if (gptq)
      pm.addPass(createGptq());
    else
      pm.addPass(createRoundToNearest());
    mlir::LogicalResult result = pm.run(*model.module);
    WeightContext::attach(&context, nullptr);
    return result;
  }

  // Builds the plan of `module`, expecting it to fail, and returns what it
  // reported.
  std::string planDiagnostics(mlir::ModuleOp module, WeightStore &weights) {
    std::string diagnostics;
    mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
      diagnostics += d.str();
      return mlir::success();
    });
    artifact::ArtifactContents c;
    EXPECT_TRUE(mlir::failed(buildPlan(module, weights, c)));
    return diagnostics;
  }

  // planDiagnostics() of the tiny model's source as edited to `src`, with
  // the tiny model's weights.
  std::string tinyPlanDiagnostics(const std::string &src) {
    auto module = mlir::parseSourceString<mlir::ModuleOp>(src, &context);
    EXPECT_TRUE(module);
    if (!module)
      return {};
    test::TinyModel weights = test::buildTinyModel(context);
    return planDiagnostics(*module, weights.weights);
  }

  mlir::MLIRContext context;
};

TEST_F(PlanTest, FusesProjectionsResidualsAndRope) {
  test::TinyModel model = test::buildTinyModel(context);
  artifact::ArtifactContents c;
  ASSERT_TRUE(mlir::succeeded(
      buildPlan(*model.module, model.weights, c)));

  using K = fb::StepKind;
  std::vector<K> expected = {K::Embedding, K::RmsNorm,     K::Linear,
                             K::RopeKvAppend, K::Attention, K::Linear,
                             K::RmsNorm,   K::Linear,      K::SwiGlu,
                             K::Linear,    K::GatherRows,  K::RmsNorm,
                             K::Linear};
  EXPECT_EQ(kinds(c), expected);

  // q|k|v: one linear of 16 + 8 + 8 rows; gate|up: 24 + 24.
  EXPECT_EQ(c.steps[2].outFeatures, 32);
  EXPECT_EQ(c.slots[c.steps[2].outputs[0]].width, 32);
  EXPECT_EQ(c.steps[7].outFeatures, 48);
  // o_proj and down_proj carry the residual as a second input.
  EXPECT_EQ(c.steps[5].inputs.size(), 2u);
  EXPECT_EQ(c.steps[9].inputs.size(), 2u);
  // The attention reads the slot RopeKvAppend rotated in place.
  EXPECT_EQ(c.steps[3].inputs, c.steps[3].outputs);
  EXPECT_EQ(c.steps[4].inputs[0], c.steps[3].outputs[0]);
  EXPECT_EQ(c.steps[4].layer, 0);
  // The lm_head writes the logits slot, vocab wide.
  EXPECT_EQ(c.logitsSlot, c.steps.back().outputs[0]);
  EXPECT_EQ(c.slots[c.logitsSlot].width, 32);
  // Dense weights are f16 tensors of the original shapes (fused ones
  // concatenated); no numerics for unquantized layers.
  EXPECT_EQ(c.tensors[c.steps[2].weights[0]].shape,
            (std::vector<int64_t>{32, 16}));
  EXPECT_TRUE(c.numerics.empty());
}

TEST_F(PlanTest, ReusesSlotsByLiveness) {
  test::TinyModel model = test::buildTinyModel(context);
  artifact::ArtifactContents c;
  ASSERT_TRUE(mlir::succeeded(
      buildPlan(*model.module, model.weights, c)));
  // No step may write a slot it also reads, except RopeKvAppend (in place).
  for (const artifact::Step &s : c.steps) {
    if (s.kind == fb::StepKind::RopeKvAppend)
      continue;
    for (int in : s.inputs)
      for (int out : s.outputs)
        EXPECT_NE(in, out) << "step kind " << fb::EnumNameStepKind(s.kind);
  }
  // 13 steps produce 13 values; liveness lets width-16 slots be reused.
  EXPECT_LT(c.slots.size(), 12u);
}

TEST_F(PlanTest, Int4RecipePacksGroupsAndRecordsNumerics) {
  test::TinyModel model = test::buildTinyModel(context);
  QuantizeWeightsOptions options;
  options.groupSize = 8;
  options.symmetric = false;
  ASSERT_TRUE(mlir::succeeded(quantize(model, options)));

  artifact::ArtifactContents c;
  ASSERT_TRUE(mlir::succeeded(
      buildPlan(*model.module, model.weights, c)));
  const artifact::Step &qkv = c.steps[2];
  EXPECT_EQ(qkv.format, fb::WeightFormat::Int4Group);
  EXPECT_EQ(qkv.groupSize, 8);
  EXPECT_FALSE(qkv.symmetric);
  ASSERT_GE(qkv.weights.size(), 3u);
  EXPECT_EQ(c.tensors[qkv.weights[0]].shape, (std::vector<int64_t>{32, 8}));
  EXPECT_EQ(c.tensors[qkv.weights[1]].shape, (std::vector<int64_t>{32, 2}));
  EXPECT_EQ(c.tensors[qkv.weights[2]].shape, (std::vector<int64_t>{32, 2}));
  // The lm_head stays dense by default.
  EXPECT_EQ(c.steps.back().format, fb::WeightFormat::Dense);
  // One record per original linear (q, k, v, o, gate, up, down), each with a
  // finite SQNR in the range 4-bit RTN gives on Gaussian weights.
  ASSERT_EQ(c.numerics.size(), 7u);
  EXPECT_EQ(c.numerics[0].name, "model.layers.0.self_attn.q_proj.weight");
  for (const artifact::LayerNumerics &n : c.numerics) {
    EXPECT_EQ(n.format, "int4-g8-asym");
    EXPECT_EQ(n.method, "rtn");
    EXPECT_TRUE(std::isnan(n.outputSqnrDb)) << "uncalibrated: " << n.name;
    EXPECT_GT(n.sqnrDb, 15.0f) << n.name;
    EXPECT_LT(n.sqnrDb, 40.0f) << n.name;
    EXPECT_GT(n.maxAbsError, 0.0f) << n.name;
  }
}

// Symmetric int4 stores no zero points (regression: packing them copied from
// a null pointer, which UBSan reports under the asan preset).
TEST_F(PlanTest, Int4SymmetricStoresNoZeros) {
  test::TinyModel model = test::buildTinyModel(context);
  QuantizeWeightsOptions options;
  options.groupSize = 8;
  ASSERT_TRUE(mlir::succeeded(quantize(model, options)));
  artifact::ArtifactContents c;
  ASSERT_TRUE(mlir::succeeded(
      buildPlan(*model.module, model.weights, c)));
  const artifact::Step &qkv = c.steps[2];
  EXPECT_EQ(qkv.format, fb::WeightFormat::Int4Group);
  EXPECT_TRUE(qkv.symmetric);
  ASSERT_GE(qkv.weights.size(), 3u);
  EXPECT_EQ(qkv.weights[2], -1);
  for (const artifact::LayerNumerics &n : c.numerics)
    EXPECT_EQ(n.format, "int4-g8-sym");
}

// A weight marked for quantization whose values no quantizer computed is an
// error at the plan, not a silent RTN.
TEST_F(PlanTest, RejectsQuantizeWithoutQuantizer) {
  test::TinyModel model = test::buildTinyModel(context);
  QuantizeWeightsOptions options;
  options.groupSize = 8;
  mlir::PassManager pm(&context);
  pm.addPass(createQuantizeWeights(options));
  ASSERT_TRUE(mlir::succeeded(pm.run(*model.module)));
  std::string diagnostics = planDiagnostics(*model.module, model.weights);
  EXPECT_NE(diagnostics.find("never computed"), std::string::npos) << diagnostics;
}

// GPTQ after calibration on the host backend: every layer records its method
// and an output SQNR over the calibration activations.
TEST_F(PlanTest, GptqRecordsCalibratedNumerics) {
  test::TinyModel model = test::buildTinyModel(context);
  QuantizeWeightsOptions options;
  options.groupSize = 8;
  ASSERT_TRUE(mlir::succeeded(quantize(model, options, /*gptq=*/true)));
  artifact::ArtifactContents c;
  ASSERT_TRUE(mlir::succeeded(
      buildPlan(*model.module, model.weights, c)));
  ASSERT_EQ(c.numerics.size(), 7u);
  for (const artifact::LayerNumerics &n : c.numerics) {
    EXPECT_EQ(n.method, "gptq");
    EXPECT_TRUE(std::isfinite(n.outputSqnrDb)) << n.name;
    EXPECT_GT(n.outputSqnrDb, 10.0f) << n.name;
  }
}

TEST_F(PlanTest, RejectsAttentionWithoutRope) {
  std::string src = test::tinyModelSource();
  // Feed the unrotated query to the attention.
  size_t at = src.find("tfm.attention %qr");
  ASSERT_NE(at, std::string::npos);
  src.replace(at, std::string("tfm.attention %qr").size(), "tfm.attention %q");
  std::string message = tinyPlanDiagnostics(src);
  EXPECT_NE(message.find("RoPE-rotated query and key"), std::string::npos)
      << message;
}

TEST_F(PlanTest, RejectsNonFiniteWeights) {
  test::TinyModel model = test::buildTinyModel(context);
  // Poison one element of the o_proj weight with a NaN.
  std::optional<WeightRef> ref =
      model.weights.lookup("model.layers.0.self_attn.o_proj.weight");
  ASSERT_TRUE(ref);
  const_cast<uint16_t *>(static_cast<const uint16_t *>(ref->data))[5] = 0x7e00;

  // Dense weights are converted as the artifact is written, straight from
  // the source: the plan builds, and writing it fails naming the weight.
  artifact::ArtifactContents c;
  ASSERT_TRUE(mlir::succeeded(buildPlan(*model.module, model.weights, c)));
  std::string bytes;
  llvm::raw_string_ostream os(bytes);
  llvm::Error error = artifact::serializeArtifact(c, os);
  ASSERT_TRUE(static_cast<bool>(error));
  std::string message = llvm::toString(std::move(error));
  EXPECT_NE(message.find("'model.layers.0.self_attn.o_proj.weight' holds a "
                         "non-finite value (nan) at element 5"),
            std::string::npos)
      << message;
}

// Packed tensors are produced in row ranges, in any order and from several
// threads: the section is the same whichever way it is cut.
TEST_F(PlanTest, PackedTensorsAreTheSameInAnyPieces) {
  test::TinyModel model = test::buildTinyModel(context);
  artifact::ArtifactContents c;
  ASSERT_TRUE(mlir::succeeded(buildPlan(*model.module, model.weights, c)));
  for (const artifact::Tensor &t : c.tensors) {
    if (!t.produce)
      continue;
    std::vector<uint8_t> whole(t.byteSize()), pieces(t.byteSize());
    ASSERT_FALSE(static_cast<bool>(t.produce(0, whole))) << t.name;
    // Back to front, a granule at a time.
    for (uint64_t at = t.byteSize(); at > 0; at -= t.granule)
      ASSERT_FALSE(static_cast<bool>(t.produce(
          at - t.granule, llvm::MutableArrayRef<uint8_t>(pieces).slice(at - t.granule, t.granule))))
          << t.name;
    EXPECT_EQ(whole, pieces) << t.name;
  }
}

// A KV scheme the runtime has no cache format for is refused by name when
// the plan is translated, not silently stored as f16.
TEST_F(PlanTest, RejectsUnsupportedKvScheme) {
  std::string src = test::tinyModelSource();
  size_t at = src.find("causal, scale");
  ASSERT_NE(at, std::string::npos);
  // 3-bit codes, and keys per channel with values at 4 bits: neither has a
  // page layout.
  src.insert(at, "qnt.kv_scheme = #qnt.kv_scheme<key = <format = i3, "
                 "granularity = per_channel, axis = 0, scale_type = f16>, "
                 "value = <format = i4, granularity = per_token, "
                 "scale_type = f16>>, ");
  std::string message = tinyPlanDiagnostics(src);
  EXPECT_NE(message.find("unsupported KV cache scheme"), std::string::npos)
      << message;
}

// fp8 caches keep the GPU kernels' blocks of 16; only integer caches choose.
TEST_F(PlanTest, RejectsFp8KvSchemeWithOtherBlocks) {
  std::string src = test::tinyModelSource();
  size_t at = src.find("causal, scale");
  ASSERT_NE(at, std::string::npos);
  src.insert(at, "qnt.kv_scheme = #qnt.kv_scheme<key = <format = f8e4m3, "
                 "granularity = per_tensor, scale_type = f32>, value = <format = "
                 "f8e4m3, granularity = per_tensor, scale_type = f32>, block_size = 32>, ");
  std::string message = tinyPlanDiagnostics(src);
  EXPECT_NE(message.find("KV scheme block_size 32: f8e4m3 caches use blocks of 16"),
            std::string::npos)
      << message;
}

// The fp8 scheme reaches the artifact's KV dtype through the chain ops.
TEST_F(PlanTest, Fp8KvSchemeSetsTheCacheFormat) {
  test::TinyModel model = test::buildTinyModel(context);
  mlir::PassManager pm(&context);
  QuantizeKvCacheOptions kv;
  kv.format = "f8e4m3";
  pm.addPass(createQuantizeKvCache(kv));
  ASSERT_TRUE(mlir::succeeded(pm.run(*model.module)));
  artifact::ArtifactContents c;
  ASSERT_TRUE(mlir::succeeded(buildPlan(*model.module, model.weights, c)));
  EXPECT_EQ(c.kvDType, fb::KvDType::F8E4M3);
}

// KIVI's scheme reaches the artifact's KvCacheSpec: int4, keys per channel,
// asymmetric, blocks of 32 with the window; calibrated-free fp8 per layer.
TEST_F(PlanTest, IntegerKvSchemeSetsTheCacheSpec) {
  test::TinyModel model = test::buildTinyModel(context);
  mlir::PassManager pm(&context);
  QuantizeKvCacheOptions kv;
  kv.format = "i4";
  kv.keyGranularity = "per_channel";
  kv.blockSize = 32;
  kv.residualWindow = 32;
  kv.sinkTokens = 2;
  pm.addPass(createQuantizeKvCache(kv));
  ASSERT_TRUE(mlir::succeeded(pm.run(*model.module)));
  artifact::ArtifactContents c;
  ASSERT_TRUE(mlir::succeeded(buildPlan(*model.module, model.weights, c)));
  EXPECT_EQ(c.kvDType, fb::KvDType::Int4);
  EXPECT_EQ(c.kvKeyGranularity, fb::KvGranularity::PerChannel);
  EXPECT_FALSE(c.kvKeySymmetric);
  EXPECT_FALSE(c.kvValueSymmetric);
  EXPECT_EQ(c.kvBlockSize, 32);
  EXPECT_EQ(c.kvResidualWindow, 32);
  EXPECT_EQ(c.kvSinkTokens, 2);
  EXPECT_TRUE(c.kvKeyScales.empty());
}

// Calibrated fp8 scales given for the layer reach the artifact per layer and
// kv head (the tiny model: one layer, one kv head).
TEST_F(PlanTest, Fp8KvSchemeScalesReachTheArtifact) {
  std::string src = test::tinyModelSource();
  size_t at = src.find("causal, scale");
  ASSERT_NE(at, std::string::npos);
  src.insert(at, "qnt.kv_scheme = #qnt.kv_scheme<key = <format = f8e4m3, "
                 "granularity = per_tensor, scale_type = f32>, value = <format = "
                 "f8e4m3, granularity = per_tensor, scale_type = f32>, key_scales = "
                 "[0.5], value_scales = [0.25]>, ");
  auto module = mlir::parseSourceString<mlir::ModuleOp>(src, &context);
  ASSERT_TRUE(module);
  test::TinyModel weights = test::buildTinyModel(context);
  artifact::ArtifactContents c;
  ASSERT_TRUE(mlir::succeeded(buildPlan(*module, weights.weights, c)));
  EXPECT_EQ(c.kvDType, fb::KvDType::F8E4M3);
  EXPECT_EQ(c.kvKeyScales, std::vector<float>{0.5f});
  EXPECT_EQ(c.kvValueScales, std::vector<float>{0.25f});
}

} // namespace
