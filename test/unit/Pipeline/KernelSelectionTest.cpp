//===- KernelSelectionTest.cpp - Kernel requests read off chain ops -------===//
//
// generateKernels on hand-written chain.linear ops: each weight encoding
// reaches the generator as the artifact WeightFormat it is stored in
// (weightLayout), and what no kernel serves is an error at the op.
//
//===----------------------------------------------------------------------===//

#include "lib/Pipeline/KernelSelection.h"

#include "qtc/Pipeline/Compile.h"

#include "dialects/chain/ChainOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace qtc;

namespace {

class KernelSelectionTest : public ::testing::Test {
protected:
  KernelSelectionTest() {
    loadPipelineDialects(context);
    loadCodegenDialects(context);
  }

  // Generates the sm_90 kernels of the single chain.linear in a plan whose
  // linear has the attribute text `attrs` (encoding, input_encoding), and
  // returns the entry names, or the diagnostics when generation fails.
  std::vector<std::string> kernelsOf(const std::string &attrs, std::string *diagnostics) {
    std::string src = R"(
#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 64, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 32, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>
chain.plan @p attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<64>
  %y = chain.linear %x {in_features = 64 : i64, rows = array<i64: 48>, sources = ["w"], )" +
                      attrs + R"(} : (!chain.tokens<64>) -> !chain.tokens<48>
  %l = chain.gather_rows %y : (!chain.tokens<48>) -> !chain.logit_rows<48>
  chain.return %l : !chain.logit_rows<48>
}
)";
    mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
      *diagnostics += d.str() + "\n";
      return mlir::success();
    });
    auto module = mlir::parseSourceString<mlir::ModuleOp>(src, &context);
    if (!module) {
      ADD_FAILURE() << "the plan does not parse:\n" << *diagnostics;
      return {};
    }
    mlir::Operation *linear = nullptr;
    module->walk([&](chain::LinearOp op) { linear = op; });
    artifact::ArtifactContents c;
    artifact::Step step;
    step.kind = artifact::fb::StepKind::Linear;
    c.steps.push_back(step);
    std::vector<mlir::Operation *> ops = {linear};
    if (mlir::failed(generateKernels(context, linear->getLoc(), {"sm_90"}, c, ops, nullptr)))
      return {};
    std::vector<std::string> names;
    for (const artifact::Kernel &k : c.kernels)
      names.push_back(k.name);
    return names;
  }

  mlir::MLIRContext context;
};

TEST_F(KernelSelectionTest, EachEncodingGetsItsStoredFormat) {
  struct Case {
    std::string encoding, prefill, decode;
  };
  const Case cases[] = {
      {"#qnt.encoding<format = i4, granularity = per_group, group_size = 32, scale_type = f16>",
       "qtc_linear_int4g32s_n48_k64_gemm_sm90", "qtc_linear_int4g32s_n48_k64_gemv_sm90"},
      // int3 is stored (and multiplied) as int4.
      {"#qnt.encoding<format = u3, granularity = per_group, group_size = 32, symmetric = false, "
       "scale_type = f16, zero_type = f16>",
       "qtc_linear_int4g32a_n48_k64_gemm_sm90", "qtc_linear_int4g32a_n48_k64_gemv_sm90"},
      {"#qnt.encoding<format = i8, granularity = per_group, group_size = 32, scale_type = f16>",
       "qtc_linear_int8g32_n48_k64_gemm_sm90", "qtc_linear_int8g32_n48_k64_gemv_sm90"},
      // per_channel: one group spanning the row.
      {"#qnt.encoding<format = i8, granularity = per_channel, scale_type = f16>",
       "qtc_linear_int8c_n48_k64_gemm_sm90", "qtc_linear_int8c_n48_k64_gemv_sm90"},
      {"#qnt.encoding<format = f8e4m3, granularity = per_channel, scale_type = f32>",
       "qtc_linear_fp8c_n48_k64_gemm_sm90", "qtc_linear_fp8c_n48_k64_gemv_sm90"},
  };
  for (const Case &c : cases) {
    std::string diagnostics;
    std::vector<std::string> names = kernelsOf("encoding = " + c.encoding, &diagnostics);
    EXPECT_EQ(names, (std::vector<std::string>{c.prefill, c.decode}))
        << c.encoding << "\n" << diagnostics;
  }
}

TEST_F(KernelSelectionTest, RefusesEncodingsNoFormatHolds) {
  std::string diagnostics;
  EXPECT_TRUE(kernelsOf("encoding = #qnt.encoding<format = f8e5m2, granularity = per_channel, "
                        "scale_type = f32>",
                        &diagnostics)
                  .empty());
  EXPECT_NE(diagnostics.find("no quantizer computes weights in #qnt.encoding<format = f8e5m2"),
            std::string::npos)
      << diagnostics;
}

// An int8 per-token input runs on the W8A8 kernels (prefill and decode),
// which read the codes and row scales of their quantized input slot; on
// sm_90 the prefill one is the wgmma GEMM's s8 variant.
TEST_F(KernelSelectionTest, Int8InputsGetW8A8Kernels) {
  std::string diagnostics;
  std::vector<std::string> names =
      kernelsOf("encoding = #qnt.encoding<format = i8, granularity = per_channel, "
                "scale_type = f16>, input_encoding = #qnt.encoding<format = i8, "
                "granularity = per_token, scale_type = f32>",
                &diagnostics);
  EXPECT_EQ(names, (std::vector<std::string>{"qtc_linear_int8c_a8_n48_k64_wgmma_sm90",
                                             "qtc_linear_int8c_a8_n48_k64_gemv_sm90"}))
      << diagnostics;
}

// W8A8 multiplies integer sums by one weight scale per row: int8 groups
// are the generator's refusal, named.
TEST_F(KernelSelectionTest, RefusesInt8InputsOverGroupedWeights) {
  std::string diagnostics;
  EXPECT_TRUE(kernelsOf("encoding = #qnt.encoding<format = i8, granularity = per_group, "
                        "group_size = 32, scale_type = f16>, input_encoding = "
                        "#qnt.encoding<format = i8, granularity = per_token, scale_type = f32>",
                        &diagnostics)
                  .empty());
  EXPECT_NE(diagnostics.find("int8 activations (W8A8) need one weight scale per row"),
            std::string::npos)
      << diagnostics;
}

// fp8 activations: the sm_90 wgmma GEMM (e4m3 x e4m3) for prefill, the
// mma.sync e4m3 kernel for decode batches.
TEST_F(KernelSelectionTest, Fp8InputsRunOnWgmmaAndTheE4M3Gemv) {
  std::string diagnostics;
  std::vector<std::string> names =
      kernelsOf("encoding = #qnt.encoding<format = f8e4m3, granularity = per_channel, "
                "scale_type = f32>, input_encoding = #qnt.encoding<format = f8e4m3, "
                "granularity = per_token, scale_type = f32>",
                &diagnostics);
  EXPECT_EQ(names, (std::vector<std::string>{"qtc_linear_fp8c_af8_n48_k64_wgmma_sm90",
                                              "qtc_linear_fp8c_af8_n48_k64_gemv_sm90"}))
      << diagnostics;
}

// What the generator refuses (int8 groups of 8: a 16-channel chunk would
// span two scales) is an error too, with the generator's reason.
TEST_F(KernelSelectionTest, ReportsRequestsTheGeneratorRefuses) {
  std::string diagnostics;
  EXPECT_TRUE(kernelsOf("encoding = #qnt.encoding<format = i8, granularity = per_group, "
                        "group_size = 8, scale_type = f16>",
                        &diagnostics)
                  .empty());
  EXPECT_NE(diagnostics.find("int8 group size must be a positive multiple of 16, got 8"),
            std::string::npos)
      << diagnostics;
  EXPECT_NE(diagnostics.find("could not generate the linear kernel for sm_90"),
            std::string::npos)
      << diagnostics;
}

} // namespace
