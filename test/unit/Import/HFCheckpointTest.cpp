//===- HFCheckpointTest.cpp - Hugging Face checkpoint import --------------===//

#include "CapturedDiagnostics.h"
#include "ScratchDirectory.h"
#include "TinyCheckpoint.h"
#include "qtc/Import/Import.h"

#include "dialects/tfm/TfmOps.h"

#include <gtest/gtest.h>

using namespace qtc;
using namespace qtc::test;

namespace {

class HFCheckpointTest : public ::testing::Test {
protected:
  mlir::FailureOr<ImportedModel> import() {
    checkpoint.writeTo(dir.get());
    return importHuggingFace(context, dir.get());
  }

  tfm::ModelConfigAttr configOf(ImportedModel &model) {
    auto op = *model.module->getOps<tfm::ModelOp>().begin();
    return op.getConfig();
  }

  std::string printed(ImportedModel &model) {
    std::string text;
    llvm::raw_string_ostream os(text);
    model.module->print(os);
    return text;
  }

  mlir::MLIRContext context;
  CapturedDiagnostics diagnostics{context};
  ScratchDirectory dir;
  TinyCheckpoint checkpoint = TinyCheckpoint::llama();
};

TEST_F(HFCheckpointTest, ImportsATinyLlama) {
  auto model = import();
  ASSERT_TRUE(mlir::succeeded(model)) << diagnostics.text();
  tfm::ModelConfigAttr config = configOf(*model);
  EXPECT_EQ(config.getArchitecture(), "LlamaForCausalLM");
  EXPECT_EQ(config.getNumHeads(), 2);
  EXPECT_EQ(config.getNumKvHeads(), 1);
  // head_dim defaults to hidden / heads.
  EXPECT_EQ(config.getHeadDim(), 8);
  EXPECT_EQ(config.getBosTokenId(), 1);
  EXPECT_EQ(model->weights.size(), checkpoint.tensors.size());
  EXPECT_TRUE(
      llvm::StringRef(printed(*model))
          .contains("tfm.weight \"lm_head.weight\" : tensor<32x16xf16>"));
}

TEST_F(HFCheckpointTest, ReportsAMissingConfigField) {
  checkpoint.config.erase("num_hidden_layers");
  EXPECT_TRUE(mlir::failed(import()));
  EXPECT_TRUE(
      diagnostics.contains("missing required config field 'num_hidden_layers'"))
      << diagnostics.text();
  EXPECT_TRUE(diagnostics.contains("config.json")) << diagnostics.text();
}

TEST_F(HFCheckpointTest, ReportsAnUnknownArchitectureAtItsLine) {
  checkpoint.config["architectures"] = llvm::json::Array{"GPT2LMHeadModel"};
  EXPECT_TRUE(mlir::failed(import()));
  EXPECT_TRUE(diagnostics.contains("unsupported architecture "
                                   "'GPT2LMHeadModel' (supported: "
                                   "LlamaForCausalLM, MistralForCausalLM, "
                                   "Qwen2ForCausalLM)"))
      << diagnostics.text();
  // config.json is written with one key per line, "architectures" first.
  EXPECT_TRUE(diagnostics.contains("config.json\":2:3")) << diagnostics.text();
}

TEST_F(HFCheckpointTest, ReportsAMissingTensorWithItsFile) {
  checkpoint.remove("model.layers.0.mlp.up_proj.weight");
  EXPECT_TRUE(mlir::failed(import()));
  EXPECT_TRUE(diagnostics.contains(
      "missing tensor 'model.layers.0.mlp.up_proj.weight'"))
      << diagnostics.text();
  EXPECT_TRUE(diagnostics.contains("model.safetensors")) << diagnostics.text();
}

TEST_F(HFCheckpointTest, ReportsAWrongTensorShape) {
  checkpoint.find("model.layers.0.self_attn.q_proj.weight")->shape = {8, 16};
  EXPECT_TRUE(mlir::failed(import()));
  EXPECT_TRUE(diagnostics.contains(
      "tensor 'model.layers.0.self_attn.q_proj.weight' has shape [8, 16] but "
      "the model configuration implies [16, 16]"))
      << diagnostics.text();
}

TEST_F(HFCheckpointTest, ReportsTokenIdsOutsideTheVocabulary) {
  checkpoint.config["bos_token_id"] = 99;
  EXPECT_TRUE(mlir::failed(import()));
  EXPECT_TRUE(diagnostics.contains("bos_token_id (99) must be -1 (none) or "
                                   "below vocab_size (32)"))
      << diagnostics.text();
}

TEST_F(HFCheckpointTest, TiedEmbeddingsNeedNoLmHead) {
  checkpoint.config["tie_word_embeddings"] = true;
  checkpoint.remove("lm_head.weight");
  auto model = import();
  ASSERT_TRUE(mlir::succeeded(model)) << diagnostics.text();
  EXPECT_TRUE(configOf(*model).getTieWordEmbeddings());
  EXPECT_TRUE(llvm::StringRef(printed(*model)).contains("tfm.lm_head"));
  EXPECT_FALSE(llvm::StringRef(printed(*model)).contains("lm_head.weight"));
}

TEST_F(HFCheckpointTest, UntiedModelsNeedTheirLmHead) {
  checkpoint.remove("lm_head.weight");
  EXPECT_TRUE(mlir::failed(import()));
  EXPECT_TRUE(diagnostics.contains("missing tensor 'lm_head.weight'"))
      << diagnostics.text();
}

TEST_F(HFCheckpointTest, ReadsLlama3ScalingFromRopeParameters) {
  checkpoint.config.erase("rope_theta");
  checkpoint.config["rope_parameters"] = llvm::json::Object{
      {"rope_type", "llama3"},   {"rope_theta", 500000.0},
      {"factor", 8.0},           {"low_freq_factor", 1.0},
      {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
  auto model = import();
  ASSERT_TRUE(mlir::succeeded(model)) << diagnostics.text();
  tfm::ModelConfigAttr config = configOf(*model);
  EXPECT_EQ(config.getRopeTheta().convertToFloat(), 500000.0f);
  ASSERT_TRUE(config.getRopeScaling());
  EXPECT_EQ(config.getRopeScaling().getKind(), tfm::RopeScalingKind::llama3);
  EXPECT_EQ(config.getRopeScaling().getOriginalMaxPositions(), 8192);
  EXPECT_TRUE(llvm::StringRef(printed(*model)).contains("scaling = "));
}

TEST_F(HFCheckpointTest, ReadsTheOlderRopeScalingKeys) {
  checkpoint.config["rope_scaling"] =
      llvm::json::Object{{"type", "linear"}, {"factor", 4.0}};
  auto model = import();
  ASSERT_TRUE(mlir::succeeded(model)) << diagnostics.text();
  ASSERT_TRUE(configOf(*model).getRopeScaling());
  EXPECT_EQ(configOf(*model).getRopeScaling().getKind(),
            tfm::RopeScalingKind::linear);
  EXPECT_EQ(configOf(*model).getRopeScaling().getFactor().convertToFloat(),
            4.0f);
}

TEST_F(HFCheckpointTest, RejectsUnsupportedRopeTypes) {
  checkpoint.config["rope_scaling"] =
      llvm::json::Object{{"rope_type", "yarn"}, {"factor", 4.0}};
  EXPECT_TRUE(mlir::failed(import()));
  EXPECT_TRUE(diagnostics.contains("unsupported RoPE type 'yarn'"))
      << diagnostics.text();
}

TEST_F(HFCheckpointTest, Qwen2ExpectsQkvBiases) {
  checkpoint.config["architectures"] = llvm::json::Array{"Qwen2ForCausalLM"};
  EXPECT_TRUE(mlir::failed(import()));
  EXPECT_TRUE(diagnostics.contains(
      "missing tensor 'model.layers.0.self_attn.q_proj.bias'"))
      << diagnostics.text();

  for (const char *projection : {"q_proj", "k_proj", "v_proj"}) {
    std::string name =
        std::string("model.layers.0.self_attn.") + projection + ".bias";
    checkpoint.tensors.push_back({name, {projection[0] == 'q' ? 16 : 8}});
  }
  auto model = import();
  ASSERT_TRUE(mlir::succeeded(model)) << diagnostics.text();
  EXPECT_TRUE(
      llvm::StringRef(printed(*model))
          .contains("tfm.weight \"model.layers.0.self_attn.k_proj.bias\" : "
                    "tensor<8xf16>"));
}

TEST_F(HFCheckpointTest, MistralSlidingWindowReachesAttention) {
  checkpoint.config["architectures"] = llvm::json::Array{"MistralForCausalLM"};
  checkpoint.config["sliding_window"] = 32;
  auto model = import();
  ASSERT_TRUE(mlir::succeeded(model)) << diagnostics.text();
  EXPECT_TRUE(llvm::StringRef(printed(*model)).contains("sliding_window = 32"));
}

TEST_F(HFCheckpointTest, LoadsShardedCheckpoints) {
  checkpoint.writeTo(dir.get());
  llvm::sys::fs::remove(dir.file("model.safetensors"));
  std::vector<TinyTensor> first(checkpoint.tensors.begin(),
                                checkpoint.tensors.begin() + 5);
  std::vector<TinyTensor> second(checkpoint.tensors.begin() + 5,
                                 checkpoint.tensors.end());
  dir.write("model-00001-of-00002.safetensors",
            TinyCheckpoint::safetensors(first));
  dir.write("model-00002-of-00002.safetensors",
            TinyCheckpoint::safetensors(second));
  llvm::json::Object weightMap;
  for (const TinyTensor &tensor : first)
    weightMap[tensor.name] = "model-00001-of-00002.safetensors";
  for (const TinyTensor &tensor : second)
    weightMap[tensor.name] = "model-00002-of-00002.safetensors";
  std::string index;
  llvm::raw_string_ostream(index) << llvm::json::Value(
      llvm::json::Object{{"weight_map", std::move(weightMap)}});
  dir.write("model.safetensors.index.json", index);

  auto model = importHuggingFace(context, dir.get());
  ASSERT_TRUE(mlir::succeeded(model)) << diagnostics.text();
  EXPECT_EQ(model->weights.size(), checkpoint.tensors.size());
}

TEST_F(HFCheckpointTest, RejectsShardsOutsideTheFolder) {
  checkpoint.writeTo(dir.get());
  dir.write(
      "model.safetensors.index.json",
      R"({"weight_map": {"model.norm.weight": "../elsewhere.safetensors"}})");
  EXPECT_TRUE(mlir::failed(importHuggingFace(context, dir.get())));
  EXPECT_TRUE(diagnostics.contains("must name a file inside the checkpoint "
                                   "folder"))
      << diagnostics.text();
}

TEST_F(HFCheckpointTest, ReportsAFolderWithoutWeights) {
  checkpoint.writeTo(dir.get());
  llvm::sys::fs::remove(dir.file("model.safetensors"));
  EXPECT_TRUE(mlir::failed(importHuggingFace(context, dir.get())));
  EXPECT_TRUE(diagnostics.contains(
      "no model.safetensors or model.safetensors.index.json"))
      << diagnostics.text();
}

TEST(ImportModelTest, RejectsPathsThatAreNeitherFolderNorOnnx) {
  mlir::MLIRContext context;
  CapturedDiagnostics diagnostics(context);
  EXPECT_TRUE(mlir::failed(importModel(context, "/nonexistent/model.bin")));
  EXPECT_TRUE(diagnostics.contains("expected a Hugging Face checkpoint folder "
                                   "or an .onnx file"))
      << diagnostics.text();
}

} // namespace
