//===- OnnxRaisingTest.cpp - Decomposed decoders raise to the right graph -===//
//
// The tiny models of test/Inputs/onnx mark every weight with its role (see
// make_onnx_inputs.py): element [0, 0] of each tensor, in the Hugging Face
// layout, is 10 * layer + role, and [0, 1] is that plus 0.5. Checking the
// markers under each Hugging Face name checks both the role the raiser gave
// an initializer and the orientation the WeightStore presents it in.
//
//===----------------------------------------------------------------------===//

#include "CapturedDiagnostics.h"
#include "ScratchDirectory.h"
#include "qtc/Import/Import.h"

#include "dialects/tfm/TfmOps.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cstring>
#include <gtest/gtest.h>

using namespace qtc;
using namespace qtc::test;

namespace {

std::string input(llvm::StringRef name) {
  llvm::SmallString<256> path(QTC_TEST_INPUTS_DIR);
  llvm::sys::path::append(path, "onnx", name);
  return std::string(path);
}

float elementAt(const WeightRef &weight, int64_t index) {
  float value;
  std::memcpy(&value, static_cast<const char *>(weight.data) + 4 * index, 4);
  return value;
}

struct Marker {
  std::string name;
  float value;
  llvm::SmallVector<int64_t, 4> shape;
};

std::vector<Marker> layerMarkers(int64_t layer, int64_t hidden, int64_t qWidth,
                                 int64_t kvWidth, int64_t mlp) {
  std::string prefix = "model.layers." + std::to_string(layer) + ".";
  float base = 10.0f * layer;
  return {
      {prefix + "self_attn.q_proj.weight", base + 1, {qWidth, hidden}},
      {prefix + "self_attn.k_proj.weight", base + 2, {kvWidth, hidden}},
      {prefix + "self_attn.v_proj.weight", base + 3, {kvWidth, hidden}},
      {prefix + "self_attn.o_proj.weight", base + 4, {hidden, qWidth}},
      {prefix + "mlp.gate_proj.weight", base + 5, {mlp, hidden}},
      {prefix + "mlp.up_proj.weight", base + 6, {mlp, hidden}},
      {prefix + "mlp.down_proj.weight", base + 7, {hidden, mlp}},
      {prefix + "input_layernorm.weight", base + 8, {hidden}},
      {prefix + "post_attention_layernorm.weight", base + 9, {hidden}},
  };
}

void expectMarkers(const WeightStore &store,
                   const std::vector<Marker> &markers) {
  for (const Marker &marker : markers) {
    std::optional<WeightRef> weight = store.lookup(marker.name);
    ASSERT_TRUE(weight.has_value()) << marker.name;
    EXPECT_EQ(weight->shape, marker.shape) << marker.name;
    EXPECT_EQ(elementAt(*weight, 0), marker.value) << marker.name;
    if (marker.shape.size() == 2) {
      EXPECT_EQ(elementAt(*weight, 1), marker.value + 0.5f) << marker.name;
    }
  }
}

tfm::ModelConfigAttr configOf(ImportedModel &model) {
  return (*model.module->getOps<tfm::ModelOp>().begin()).getConfig();
}

TEST(OnnxRaisingTest, TinyQwen2WithBiasesAndGroupedHeads) {
  mlir::MLIRContext context;
  CapturedDiagnostics diagnostics(context);
  auto model = importOnnx(context, input("tiny-qwen2/model.onnx"));
  ASSERT_TRUE(mlir::succeeded(model)) << diagnostics.text();

  tfm::ModelConfigAttr config = configOf(*model);
  EXPECT_EQ(config.getArchitecture(), "Qwen2ForCausalLM");
  EXPECT_EQ(config.getNumLayers(), 2);
  EXPECT_EQ(config.getNumHeads(), 4);
  EXPECT_EQ(config.getNumKvHeads(), 2);
  EXPECT_EQ(config.getHeadDim(), 4);
  EXPECT_EQ(config.getIntermediateSize(), 24);
  EXPECT_EQ(config.getRopeTheta().convertToFloat(), 1e6f);
  EXPECT_EQ(config.getRmsNormEps().convertToFloat(), 1e-6f);
  // From the config.json beside the model; the first of the eos ids.
  EXPECT_EQ(config.getMaxPositions(), 128);
  EXPECT_EQ(config.getBosTokenId(), 3);
  EXPECT_EQ(config.getEosTokenId(), 4);
  EXPECT_FALSE(config.getTieWordEmbeddings());

  for (int64_t layer = 0; layer < 2; ++layer) {
    expectMarkers(model->weights, layerMarkers(layer, 16, 16, 8, 24));
    std::string prefix = "model.layers." + std::to_string(layer) + ".";
    expectMarkers(
        model->weights,
        {{prefix + "self_attn.q_proj.bias", 10.0f * layer + 1.25f, {16}},
         {prefix + "self_attn.v_proj.bias", 10.0f * layer + 3.25f, {8}}});
  }
  expectMarkers(model->weights, {{"model.embed_tokens.weight", -1, {32, 16}},
                                 {"model.norm.weight", -3, {16}},
                                 {"lm_head.weight", -2, {32, 16}}});
  EXPECT_TRUE(diagnostics.text().empty()) << diagnostics.text();
}

TEST(OnnxRaisingTest, TinyTiedLlamaWithoutConfig) {
  mlir::MLIRContext context;
  CapturedDiagnostics diagnostics(context);
  auto model = importOnnx(context, input("tiny-llama-tied/model.onnx"));
  ASSERT_TRUE(mlir::succeeded(model)) << diagnostics.text();

  tfm::ModelConfigAttr config = configOf(*model);
  EXPECT_EQ(config.getArchitecture(), "LlamaForCausalLM");
  EXPECT_EQ(config.getNumHeads(), 2);
  EXPECT_EQ(config.getNumKvHeads(), 2);
  EXPECT_TRUE(config.getTieWordEmbeddings());
  // Recovered from the f32 frequencies alone.
  EXPECT_EQ(config.getRopeTheta().convertToFloat(), 500000.0f);
  EXPECT_EQ(config.getBosTokenId(), -1);
  EXPECT_TRUE(diagnostics.contains("no config.json beside the model"))
      << diagnostics.text();

  for (int64_t layer = 0; layer < 2; ++layer)
    expectMarkers(model->weights, layerMarkers(layer, 16, 16, 16, 24));
  expectMarkers(model->weights, {{"model.embed_tokens.weight", -1, {32, 16}}});
  EXPECT_FALSE(model->weights.contains("lm_head.weight"));
}

TEST(OnnxRaisingTest, WeightsFromExternalData) {
  mlir::MLIRContext context;
  CapturedDiagnostics diagnostics(context);
  auto model = importOnnx(context, input("tiny-llama-external/model.onnx"));
  ASSERT_TRUE(mlir::succeeded(model)) << diagnostics.text();
  for (int64_t layer = 0; layer < 2; ++layer)
    expectMarkers(model->weights, layerMarkers(layer, 16, 16, 16, 24));
  expectMarkers(model->weights, {{"model.embed_tokens.weight", -1, {32, 16}},
                                 {"model.norm.weight", -3, {16}}});
}

TEST(OnnxRaisingTest, SidecarConfigMustAgreeWithTheGraph) {
  mlir::MLIRContext context;
  CapturedDiagnostics diagnostics(context);
  ScratchDirectory dir;
  ASSERT_FALSE(llvm::sys::fs::copy_file(input("tiny-qwen2/model.onnx"),
                                        dir.file("model.onnx")));
  auto buffer = llvm::MemoryBuffer::getFile(input("tiny-qwen2/config.json"));
  ASSERT_TRUE(bool(buffer));
  std::string config = (*buffer)->getBuffer().str();
  size_t at = config.find("\"hidden_size\": 16");
  ASSERT_NE(at, std::string::npos);
  config.replace(at, 17, "\"hidden_size\": 32");
  dir.write("config.json", config);

  EXPECT_TRUE(mlir::failed(importOnnx(context, dir.file("model.onnx"))));
  EXPECT_TRUE(diagnostics.contains("config.json beside the model says "
                                   "hidden_size = 32 but the ONNX graph has "
                                   "16"))
      << diagnostics.text();
}

// The shared model's two files hold the same weights (fp16 in safetensors,
// upcast to fp32 in ONNX): every tensor must come out identical under the
// same name, which checks the raiser's names and transposes on a real export.
TEST(OnnxRaisingTest, SharedModelMatchesItsCheckpoint) {
  llvm::SmallString<256> dir(QTC_SHARED_MODELS_DIR);
  llvm::sys::path::append(dir, "kjv-llama-6m");
  llvm::SmallString<256> onnx(dir);
  llvm::sys::path::append(onnx, "model.onnx");
  if (!llvm::sys::fs::exists(onnx))
    GTEST_SKIP() << "shared model not present at " << dir.str().str();

  mlir::MLIRContext context;
  CapturedDiagnostics diagnostics(context);
  auto fromCheckpoint = importHuggingFace(context, dir);
  auto fromOnnx = importOnnx(context, onnx);
  ASSERT_TRUE(mlir::succeeded(fromCheckpoint)) << diagnostics.text();
  ASSERT_TRUE(mlir::succeeded(fromOnnx)) << diagnostics.text();
  auto sortedNames = [](const WeightStore &store) {
    std::vector<std::string> names(store.names().begin(), store.names().end());
    llvm::sort(names);
    return names;
  };
  ASSERT_EQ(sortedNames(fromCheckpoint->weights),
            sortedNames(fromOnnx->weights));

  for (const std::string &name : fromCheckpoint->weights.names()) {
    WeightRef half = *fromCheckpoint->weights.lookup(name);
    WeightRef single = *fromOnnx->weights.lookup(name);
    ASSERT_EQ(half.dtype, DType::F16) << name;
    ASSERT_EQ(single.dtype, DType::F32) << name;
    ASSERT_EQ(half.shape, single.shape) << name;
    for (int64_t i = 0, e = half.numElements(); i < e; ++i) {
      uint16_t bits;
      std::memcpy(&bits, static_cast<const char *>(half.data) + 2 * i, 2);
      llvm::APFloat value(llvm::APFloat::IEEEhalf(), llvm::APInt(16, bits));
      bool losesInfo;
      value.convert(llvm::APFloat::IEEEsingle(),
                    llvm::APFloat::rmNearestTiesToEven, &losesInfo);
      ASSERT_EQ(value.convertToFloat(), elementAt(single, i))
          << name << " element " << i;
    }
  }
}

} // namespace
