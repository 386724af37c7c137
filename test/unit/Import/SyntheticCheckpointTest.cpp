//===- SyntheticCheckpointTest.cpp - Random weights and the qtc synth plan ===//

#include "qtc/Import/SyntheticCheckpoint.h"
#include "CapturedDiagnostics.h"
#include "ScratchDirectory.h"
#include "lib/Import/SyntheticWeights.h"
#include "qtc/Import/Import.h"

#include "qtc/rt/Float16.h"

#include "llvm/Support/Endian.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace qtc;
using namespace qtc::test;

namespace {

std::vector<uint8_t> generate(uint64_t key, SyntheticDistribution distribution,
                              DType dtype, uint64_t first, size_t count) {
  std::vector<uint8_t> bytes(count * dtypeByteSize(dtype));
  fillSyntheticElements(key, distribution, dtype, first, bytes);
  return bytes;
}

TEST(SyntheticWeightsTest, ElementsDependOnKeyAndIndexOnly) {
  uint64_t key = syntheticStreamKey(7, "model.layers.0.mlp.up_proj.weight");
  SyntheticDistribution distribution{0.0f, 0.02f};
  std::vector<uint8_t> whole = generate(key, distribution, DType::F16, 0, 1000);
  // Pieces starting anywhere reproduce the same elements.
  std::vector<uint8_t> tail = generate(key, distribution, DType::F16, 333, 667);
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), whole.begin() + 2 * 333));
  // Another seed or another tensor is another stream.
  EXPECT_NE(whole, generate(syntheticStreamKey(8, "model.layers.0.mlp.up_proj.weight"),
                            distribution, DType::F16, 0, 1000));
  EXPECT_NE(whole, generate(syntheticStreamKey(7, "model.layers.1.mlp.up_proj.weight"),
                            distribution, DType::F16, 0, 1000));
}

TEST(SyntheticWeightsTest, ValuesHaveTheRequestedScale) {
  constexpr size_t kCount = 1 << 18;
  for (DType dtype : {DType::F16, DType::BF16, DType::F32}) {
    std::vector<uint8_t> bytes = generate(syntheticStreamKey(0, "w"),
                                          {1.0f, 0.02f}, dtype, 0, kCount);
    double sum = 0, squares = 0, largest = 0;
    for (size_t i = 0; i < kCount; ++i) {
      double value;
      if (dtype == DType::F32)
        value = rt::bitsToFloat(
            llvm::support::endian::read32le(bytes.data() + 4 * i));
      else if (dtype == DType::F16)
        value = rt::halfToFloat(
            llvm::support::endian::read16le(bytes.data() + 2 * i));
      else
        value = rt::bf16ToFloat(
            llvm::support::endian::read16le(bytes.data() + 2 * i));
      sum += value;
      squares += (value - 1.0) * (value - 1.0);
      largest = std::max(largest, std::fabs(value - 1.0));
    }
    double mean = sum / kCount;
    double stddev = std::sqrt(squares / kCount);
    EXPECT_NEAR(mean, 1.0, 1e-3) << dtypeName(dtype).str();
    // bf16's 8-bit mantissa near 1 rounds to steps of 2^-7, which widen
    // the spread a little.
    EXPECT_NEAR(stddev, 0.02, dtype == DType::BF16 ? 2e-3 : 2e-4)
        << dtypeName(dtype).str();
    // The sum of four uniforms ends at 2 * sqrt(3) standard deviations.
    EXPECT_LE(largest, 0.02 * 3.47 + 0.008) << dtypeName(dtype).str();
    EXPECT_GT(largest, 0.02 * 2.5) << dtypeName(dtype).str();
  }
}

class SyntheticCheckpointTest : public ::testing::Test {
protected:
  mlir::FailureOr<SyntheticCheckpoint>
  plan(const std::string &config, uint64_t maxShardBytes = kDefaultMaxShardBytes) {
    SyntheticCheckpointOptions options;
    options.config = config;
    options.maxShardBytes = maxShardBytes;
    return planSyntheticCheckpoint(context, options);
  }

  mlir::MLIRContext context;
  CapturedDiagnostics diagnostics{context};
  ScratchDirectory scratch;
};

TEST_F(SyntheticCheckpointTest, PresetsHaveTheirModelsParameterCounts) {
  auto llama2 = plan("llama2-7b");
  ASSERT_TRUE(mlir::succeeded(llama2)) << diagnostics.text();
  EXPECT_EQ(llama2->parameters, 6738415616u);
  EXPECT_EQ(llama2->dataBytes, 2 * 6738415616u);
  EXPECT_EQ(llama2->tensors.size(), 291u);
  auto llama3 = plan("llama3-8b");
  ASSERT_TRUE(mlir::succeeded(llama3)) << diagnostics.text();
  EXPECT_EQ(llama3->parameters, 8030261248u);
  // The split of meta-llama/Meta-Llama-3-8B on the Hub at transformers'
  // 5GB: four files, the last with the final norm and lm_head.
  ASSERT_EQ(llama3->shards.size(), 4u);
  EXPECT_EQ(llama3->shards[3].fileName, "model-00004-of-00004.safetensors");
  EXPECT_EQ(llama3->shards[3].tensors.size(), 5u);
}

TEST_F(SyntheticCheckpointTest, ShardsFollowHuggingFaceHubsSplit) {
  std::string config = scratch.write("config.json", R"({
    "architectures": ["LlamaForCausalLM"], "hidden_size": 8,
    "intermediate_size": 16, "num_attention_heads": 2,
    "num_key_value_heads": 1, "num_hidden_layers": 1, "vocab_size": 64,
    "max_position_embeddings": 32, "rms_norm_eps": 1e-5,
    "tie_word_embeddings": true})");
  // f16: embed 1024 bytes, q 128, k 64, v 64, o 128, gate/up/down 256,
  // norms 16. A tensor over the limit gets a shard of its own at once.
  auto checkpoint = plan(config, 300);
  ASSERT_TRUE(mlir::succeeded(checkpoint)) << diagnostics.text();
  std::vector<std::vector<std::string>> shards;
  for (const SyntheticShard &shard : checkpoint->shards) {
    shards.emplace_back();
    for (size_t index : shard.tensors)
      shards.back().push_back(checkpoint->tensors[index].spec.name);
  }
  using Names = std::vector<std::string>;
  ASSERT_EQ(shards.size(), 7u);
  EXPECT_EQ(shards[0], Names{"model.embed_tokens.weight"});
  // Sorted by name inside a file, as safetensors lays them out.
  EXPECT_EQ(shards[1], (Names{"model.layers.0.self_attn.k_proj.weight",
                              "model.layers.0.self_attn.q_proj.weight",
                              "model.layers.0.self_attn.v_proj.weight"}));
  EXPECT_EQ(shards[2], Names{"model.layers.0.self_attn.o_proj.weight"});
  EXPECT_EQ(shards[3], Names{"model.layers.0.mlp.gate_proj.weight"});
  EXPECT_EQ(shards[4], Names{"model.layers.0.mlp.up_proj.weight"});
  EXPECT_EQ(shards[5], (Names{"model.layers.0.input_layernorm.weight",
                              "model.layers.0.mlp.down_proj.weight",
                              "model.layers.0.post_attention_layernorm.weight"}));
  // Tied: no lm_head after the final norm.
  EXPECT_EQ(shards[6], Names{"model.norm.weight"});
  EXPECT_EQ(checkpoint->shards[0].fileName, "model-00001-of-00007.safetensors");
}

TEST_F(SyntheticCheckpointTest, WrittenCheckpointImportsWithTheGeneratedValues) {
  std::string config = scratch.write("config.json", R"({
    "architectures": ["Qwen2ForCausalLM"], "hidden_size": 16,
    "intermediate_size": 24, "num_attention_heads": 2,
    "num_key_value_heads": 1, "num_hidden_layers": 3, "vocab_size": 40,
    "max_position_embeddings": 64, "rms_norm_eps": 1e-6})");
  SyntheticCheckpointOptions options;
  options.config = config;
  options.dtype = DType::BF16;
  options.layers = 2;
  options.maxShardBytes = 2000;
  auto checkpoint = planSyntheticCheckpoint(context, options);
  ASSERT_TRUE(mlir::succeeded(checkpoint)) << diagnostics.text();
  EXPECT_GT(checkpoint->shards.size(), 1u);
  std::string dir = scratch.file("out");
  ASSERT_TRUE(mlir::succeeded(
      writeSyntheticCheckpoint(context, *checkpoint, dir, nullptr)))
      << diagnostics.text();

  auto model = importHuggingFace(context, dir);
  ASSERT_TRUE(mlir::succeeded(model)) << diagnostics.text();
  // Qwen2 projections q, k, v carry biases; two layers, not three.
  EXPECT_TRUE(model->weights.contains("model.layers.1.self_attn.q_proj.bias"));
  EXPECT_FALSE(model->weights.contains("model.layers.2.self_attn.q_proj.weight"));
  for (const SyntheticTensor &tensor : checkpoint->tensors) {
    std::optional<WeightRef> ref = model->weights.lookup(tensor.spec.name);
    ASSERT_TRUE(ref.has_value()) << tensor.spec.name;
    EXPECT_EQ(ref->dtype, DType::BF16);
    std::vector<uint8_t> expected =
        generate(tensor.streamKey, {tensor.mean, tensor.stddev}, DType::BF16, 0,
                 tensor.byteSize / 2);
    ASSERT_EQ(ref->byteSize, expected.size()) << tensor.spec.name;
    EXPECT_EQ(0, std::memcmp(ref->data, expected.data(), expected.size()))
        << tensor.spec.name;
  }
}

TEST_F(SyntheticCheckpointTest, ConfigErrorsNameTheConfig) {
  EXPECT_TRUE(mlir::failed(plan("llama9")));
  EXPECT_TRUE(diagnostics.contains(
      "unknown config 'llama9' (presets: llama2-7b, llama3-8b; or the path of "
      "a config.json)"))
      << diagnostics.text();
  std::string config = scratch.write("config.json", R"({
    "architectures": ["LlamaForCausalLM"], "hidden_size": 8,
    "num_attention_heads": 2, "num_hidden_layers": 1, "vocab_size": 64,
    "max_position_embeddings": 32, "rms_norm_eps": 1e-5})");
  EXPECT_TRUE(mlir::failed(plan(config)));
  EXPECT_TRUE(diagnostics.contains("missing required config field "
                                   "'intermediate_size'"))
      << diagnostics.text();
  EXPECT_TRUE(diagnostics.contains(config)) << diagnostics.text();
}

TEST(ShardSizeTest, ReadsTransformersNotation) {
  EXPECT_EQ(llvm::cantFail(parseShardSize("5GB")), 5000000000u);
  EXPECT_EQ(llvm::cantFail(parseShardSize("2GiB")), 2ull << 30);
  EXPECT_EQ(llvm::cantFail(parseShardSize("500 mb")), 500000000u);
  EXPECT_EQ(llvm::cantFail(parseShardSize("4096")), 4096u);
  llvm::Expected<uint64_t> bad = parseShardSize("5TB");
  ASSERT_FALSE(bool(bad));
  EXPECT_EQ(llvm::toString(bad.takeError()),
            "shard size '5TB' is not a positive byte count (e.g. 5000000000, "
            "5GB, 2GiB)");
}

} // namespace
