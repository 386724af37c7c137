//===- RecipeTest.cpp - Named and JSON recipes ----------------------------===//

#include "RecipeResolution.h"

using namespace qtc;

namespace {

class RecipeTest : public RecipeResolution {};

TEST_F(RecipeTest, NamedRecipes) {
  mlir::FailureOr<Recipe> fp16 = resolve("fp16");
  ASSERT_TRUE(mlir::succeeded(fp16));
  EXPECT_EQ(fp16->linear.format, WeightFormat::F16);

  mlir::FailureOr<Recipe> w4 = resolve("w4a16");
  ASSERT_TRUE(mlir::succeeded(w4));
  EXPECT_EQ(w4->linear.format, WeightFormat::Int4);
  EXPECT_EQ(w4->linear.groupSize, 128);
  EXPECT_TRUE(w4->linear.symmetric);
  EXPECT_FALSE(w4->quantizeLmHead);

  mlir::FailureOr<Recipe> awq = resolve("w4a16-awq");
  ASSERT_TRUE(mlir::succeeded(awq));
  EXPECT_EQ(awq->linear.method, WeightMethod::Awq);
  EXPECT_FALSE(awq->linear.symmetric); // zero points, as the AWQ reference

  mlir::FailureOr<Recipe> w8 = resolve("w8a16");
  ASSERT_TRUE(mlir::succeeded(w8));
  EXPECT_EQ(w8->linear.format, WeightFormat::Int8);
  EXPECT_EQ(w8->linear.groupSize, 0); // one scale per output row
  EXPECT_EQ(w8->linear.method, WeightMethod::Gptq);
  EXPECT_EQ(resolve("w8a16-rtn")->linear.method, WeightMethod::Rtn);

  mlir::FailureOr<Recipe> w8a8 = resolve("w8a8");
  ASSERT_TRUE(mlir::succeeded(w8a8));
  EXPECT_EQ(w8a8->activations.format, ActivationFormat::Int8);
  EXPECT_TRUE(w8a8->activations.smooth);
  EXPECT_TRUE(w8a8->needsCalibration());
  std::string why;
  EXPECT_EQ(w8a8->minimumSm(&why), 80);
  EXPECT_EQ(why, "int8 activations");

  mlir::FailureOr<Recipe> fp8 = resolve("fp8");
  ASSERT_TRUE(mlir::succeeded(fp8));
  EXPECT_EQ(fp8->linear.format, WeightFormat::Fp8E4M3);
  EXPECT_EQ(fp8->activations.format, ActivationFormat::Fp8E4M3);
  EXPECT_FALSE(fp8->needsCalibration());
  EXPECT_EQ(fp8->minimumSm(), 89);

  mlir::FailureOr<Recipe> w3 = resolve("w3a16");
  ASSERT_TRUE(mlir::succeeded(w3));
  EXPECT_EQ(w3->linear.format, WeightFormat::Int3);
  EXPECT_FALSE(w3->linear.symmetric);
  EXPECT_EQ(weightFormatOption(w3->linear.format), "int3");

  mlir::FailureOr<Recipe> asym = resolve("w4a16-asym");
  ASSERT_TRUE(mlir::succeeded(asym));
  EXPECT_FALSE(asym->linear.symmetric);
}

TEST_F(RecipeTest, UnknownNameListsTheKnownOnes) {
  EXPECT_TRUE(mlir::failed(resolve("w3a99")));
  EXPECT_NE(error.find("unknown recipe 'w3a99'"), std::string::npos) << error;
  EXPECT_NE(error.find("fp16, w4a16, w4a16-asym"), std::string::npos) << error;
}

TEST_F(RecipeTest, JsonRecipe) {
  mlir::FailureOr<Recipe> r = resolveJson(
      R"({"name": "mine", "weights": {"format": "int4", "group_size": 64,
           "symmetric": false}, "lm_head": "weights"})");
  ASSERT_TRUE(mlir::succeeded(r)) << error;
  EXPECT_EQ(r->name, "mine");
  EXPECT_EQ(r->linear.groupSize, 64);
  EXPECT_FALSE(r->linear.symmetric);
  EXPECT_TRUE(r->quantizeLmHead);

  // int8 defaults to one scale per row; groups are allowed; fp8 has no group.
  r = resolveJson(R"({"weights": {"format": "int8", "bits": 8}})");
  ASSERT_TRUE(mlir::succeeded(r)) << error;
  EXPECT_EQ(r->linear.groupSize, 0);
  r = resolveJson(R"({"weights": {"format": "int8", "group_size": 96}})");
  ASSERT_TRUE(mlir::succeeded(r)) << error;
  EXPECT_EQ(r->linear.groupSize, 96);
  r = resolveJson(R"({"weights": {"format": "fp8"}})");
  ASSERT_TRUE(mlir::succeeded(r)) << error;
  EXPECT_EQ(r->linear.format, WeightFormat::Fp8E4M3);
}

TEST_F(RecipeTest, JsonErrorsNameTheProblem) {
  struct Case {
    const char *json, *message;
  } cases[] = {
      {"{", "is not valid JSON"},
      {"[1]", "must be a JSON object"},
      {R"({"weights": {"format": "int4"}, "bits": 3})", "unknown key 'bits'"},
      {R"({"weights": {"format": "int5"}})", "unsupported weights.format 'int5'"},
      {R"({"weights": {"format": "int4", "bits": 5}})", "weights.bits must be 3, 4 or 8"},
      {R"({"weights": {"format": "int4", "bits": 8}})",
       "weights.bits 8 contradicts weights.format 'int4'"},
      {R"({"weights": {"format": "int4", "group_size": -1}})", "group_size must be"},
      {R"({"weights": {"format": "int4", "group_size": 7}})", "even for 3- and 4-bit"},
      {R"({"weights": {"format": "fp8", "group_size": 128}})",
       "fp8 weights have one scale per output row"},
      {R"({"weights": {"format": "fp8", "method": "gptq"}})",
       "weights.method must be \"rtn\" for fp8"},
      {R"({"weights": {"format": "int8", "symmetric": false}})",
       "weights.symmetric must be true for int8"},
      {R"({"weights": {"format": "int4"}, "activations": {"format": "int8"}})",
       "activations.format int8 needs weights.format int8 with group_size 0"},
      {R"({"weights": {"format": "int8", "group_size": 128}, "activations": {"format": "int8"}})",
       "got int8 in groups of 128"},
      {R"({"weights": {"format": "int8"}, "activations": {"format": "fp8"}})",
       "activations.format fp8 needs weights.format fp8, got int8"},
      {R"({"weights": {"format": "int8"}, "activations": {"format": "int4"}})",
       "activations.format must be"},
      {R"({"weights": {"format": "int8"}, "activations": {"format": "fp16", "smoothquant": {}}})",
       "activations.smoothquant needs quantized activations"},
      {R"({"weights": {"format": "int8"}, "activations": {"format": "int8", "smoothquant": {"alpha": 2}}})",
       "activations.smoothquant.alpha must be a number in [0, 1]"},
      {R"({"weights": {"format": "int8"}, "lm_head": "weights", "activations": {"format": "int8"}})",
       "lm_head \"weights\" with quantized activations is not supported"},
      {R"({"weights": {"format": "int4", "symmetric": "yes"}})", "symmetric must be a boolean"},
      {R"({"weights": {}})", "'weights.format' is required"},
      {R"({"lm_head": "int4"})", "lm_head must be"},
  };
  for (const Case &c : cases) {
    error.clear();
    EXPECT_TRUE(mlir::failed(resolveJson(c.json))) << c.json;
    EXPECT_NE(error.find(c.message), std::string::npos)
        << c.json << " -> " << error;
  }
}

// The KV presets: int8 per token, symmetric; int4 and int2 with KIVI's
// defaults (keys per channel within blocks of 32, asymmetric, the window);
// their w4a16- forms keep the weights of w4a16.
TEST_F(RecipeTest, KvCachePresets) {
  mlir::FailureOr<Recipe> int8 = resolve("fp16-kvint8");
  ASSERT_TRUE(mlir::succeeded(int8)) << error;
  EXPECT_EQ(int8->kvCache.format, KvCacheFormat::Int8);
  EXPECT_FALSE(int8->kvCache.keysPerChannel);
  EXPECT_TRUE(int8->kvCache.keySymmetric && int8->kvCache.valueSymmetric);
  EXPECT_EQ(int8->kvCache.blockSize, 16);
  EXPECT_EQ(int8->kvCache.residualWindow, 0);
  for (const char *name : {"fp16-kvint4", "w4a16-kvint4", "fp16-kvint2", "w4a16-kvint2"}) {
    mlir::FailureOr<Recipe> r = resolve(name);
    ASSERT_TRUE(mlir::succeeded(r)) << name << ": " << error;
    EXPECT_TRUE(r->kvCache.keysPerChannel) << name;
    EXPECT_FALSE(r->kvCache.keySymmetric || r->kvCache.valueSymmetric) << name;
    EXPECT_EQ(r->kvCache.blockSize, 32) << name;
    EXPECT_EQ(r->kvCache.residualWindow, 32) << name;
    EXPECT_EQ(r->linear.format,
              llvm::StringRef(name).starts_with("w4") ? WeightFormat::Int4 : WeightFormat::F16);
  }
  EXPECT_EQ(resolve("fp16-kvint2")->kvCache.format, KvCacheFormat::Int2);
  EXPECT_EQ(resolve("fp16-kvfp8")->kvCache.fp8Scales, "one");
  EXPECT_TRUE(mlir::failed(resolve("w8a8-kvint4")));
}

// A kv_cache object: format defaults, then the fields given; calibrated fp8
// scales make the recipe calibrate.
TEST_F(RecipeTest, JsonKvCache) {
  mlir::FailureOr<Recipe> r = resolveJson(
      R"({"kv_cache": {"format": "int4", "key_granularity": "per_token", "block_size": 16,
          "residual_window": 0, "sink_tokens": 4, "value_symmetric": true}})");
  ASSERT_TRUE(mlir::succeeded(r)) << error;
  EXPECT_EQ(r->kvCache.format, KvCacheFormat::Int4);
  EXPECT_FALSE(r->kvCache.keysPerChannel);
  EXPECT_EQ(r->kvCache.blockSize, 16);
  EXPECT_EQ(r->kvCache.residualWindow, 0);
  EXPECT_EQ(r->kvCache.sinkTokens, 4);
  EXPECT_TRUE(r->kvCache.valueSymmetric);
  EXPECT_FALSE(r->kvCache.keySymmetric);
  // The window follows a changed block size.
  mlir::FailureOr<Recipe> w = resolveJson(R"({"kv_cache": {"format": "int2", "block_size": 16}})");
  ASSERT_TRUE(mlir::succeeded(w)) << error;
  EXPECT_EQ(w->kvCache.residualWindow, 16);
  mlir::FailureOr<Recipe> fp8 = resolveJson(R"({"kv_cache": {"format": "fp8", "scales": "head"}})");
  ASSERT_TRUE(mlir::succeeded(fp8)) << error;
  EXPECT_TRUE(fp8->kvCache.calibrated());
  EXPECT_TRUE(fp8->needsCalibration());
  EXPECT_EQ(fp8->minimumSm(), 0); // host only: no kernels to need a GPU
  mlir::FailureOr<Recipe> named = resolveJson(R"({"kv_cache": "int8"})");
  ASSERT_TRUE(mlir::succeeded(named)) << error;
  EXPECT_EQ(named->kvCache.format, KvCacheFormat::Int8);
}

TEST_F(RecipeTest, JsonKvCacheErrorsNameTheField) {
  struct Case {
    const char *json, *message;
  } cases[] = {
      {R"({"kv_cache": "int3"})", "unsupported kv_cache format 'int3'"},
      {R"({"kv_cache": 8})", "kv_cache must be a format name or an object"},
      {R"({"kv_cache": {"bits": 4}})", "unknown key 'kv_cache.bits'"},
      {R"({"kv_cache": {"block_size": 16}})", "'kv_cache.format' is required"},
      {R"({"kv_cache": {"format": "int4", "residual_window": 8}})",
       "kv_cache.residual_window 8 must be 0 or kv_cache.block_size (32)"},
      {R"({"kv_cache": {"format": "int4", "block_size": 8, "sink_tokens": 9}})",
       "kv_cache.sink_tokens 9 exceeds kv_cache.block_size (8)"},
      {R"({"kv_cache": {"format": "fp8", "key_granularity": "per_channel"}})",
       "kv_cache.key_granularity applies to integer caches, not fp8"},
      {R"({"kv_cache": {"format": "fp8", "residual_window": 16}})",
       "kv_cache.residual_window applies to integer caches, not fp8"},
      {R"({"kv_cache": {"format": "int8", "scales": "head"}})",
       "kv_cache.scales applies to fp8 caches, not int8"},
      {R"({"kv_cache": {"format": "fp16", "block_size": 32}})",
       "kv_cache.block_size applies to integer caches, not fp16"},
      {R"({"kv_cache": {"format": "fp8", "block_size": 32}})",
       "kv_cache.block_size applies to integer caches, not fp8"},
      {R"({"kv_cache": {"format": "fp8", "scales": "tensor"}})",
       "kv_cache.scales must be \"one\", \"layer\" or \"head\""},
      {R"({"kv_cache": {"format": "int4", "key_granularity": "per_group"}})",
       "kv_cache.key_granularity must be \"per_token\" or \"per_channel\""},
      {R"({"kv_cache": {"format": "int4", "block_size": 0}})",
       "kv_cache.block_size must be an integer in [1, 4096]"},
      {R"({"kv_cache": {"format": "int4", "key_symmetric": 1}})",
       "kv_cache.key_symmetric must be a boolean"},
  };
  for (const Case &c : cases) {
    error.clear();
    EXPECT_TRUE(mlir::failed(resolveJson(c.json))) << c.json;
    EXPECT_NE(error.find(c.message), std::string::npos) << c.json << " -> " << error;
  }
}

TEST_F(RecipeTest, MissingFile) {
  EXPECT_TRUE(mlir::failed(resolve("/nonexistent/recipe.json")));
  EXPECT_NE(error.find("cannot read recipe"), std::string::npos) << error;
}

} // namespace
