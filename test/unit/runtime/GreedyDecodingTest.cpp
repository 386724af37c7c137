//===- GreedyDecodingTest.cpp - Greedy tokens picked inside the backend ---===//
//
// Greedy generation asks the backend for token ids (Backend::forwardGreedy)
// instead of logits. These check, on the host backend, that the ids are the
// argmax of the logits forward() returns, by the lowest-id tie rule, and
// that greedy generation gives the tokens of the logits path (top-1
// sampling, which takes the logits and picks on the Engine's side).
//
//===----------------------------------------------------------------------===//

#include "LlamaArtifact.h"
#include "TestArtifactBuilder.h"
#include "TinyEngine.h"

#include "qtc/rt/Backend.h"
#include "qtc/rt/Engine.h"
#include "qtc/rt/GreedyArgmax.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>

using namespace qtc::rt;
using namespace qtc::rt::test;
using ::testing::HasSubstr;

namespace {

// Greedy generation, and the same through the logits path: top-1 sampling
// brings the logits back and picks the most likely (lowest id on ties).
void expectGreedyEqualsLogitsPath(Engine &engine, const std::vector<std::vector<int32_t>> &prompts,
                                  int maxNewTokens) {
  GenerateOptions greedy;
  greedy.maxNewTokens = maxNewTokens;
  greedy.stopAtEos = false;
  GenerateOptions topOne = greedy;
  topOne.sampling.greedy = false;
  topOne.sampling.topK = 1;
  topOne.sampling.temperature = 0.7f;
  auto fromIds = engine.generate(prompts, greedy);
  auto fromLogits = engine.generate(prompts, topOne);
  ASSERT_TRUE(fromIds) << fromIds.status().toString();
  ASSERT_TRUE(fromLogits) << fromLogits.status().toString();
  ASSERT_EQ(fromIds->tokens.size(), prompts.size());
  for (size_t p = 0; p < prompts.size(); ++p) {
    EXPECT_EQ(fromIds->tokens[p].size(), static_cast<size_t>(maxNewTokens)) << "prompt " << p;
    EXPECT_EQ(fromIds->tokens[p], fromLogits->tokens[p]) << "prompt " << p;
  }
  EXPECT_EQ(engine.numFreeKvBlocks(), engine.numKvBlocks());
}

// One sequence's call at positions [start, start + ids.size()), every row
// a logit row, over the blocks `blocks`.
struct Call {
  std::vector<int32_t> ids, positions, seqOf, lens, rows, blocks;
  BatchView view;
  Call(const std::vector<int32_t> &tokens, int start, std::vector<int32_t> blockTable,
       bool decode)
      : ids(tokens), positions(tokens.size()), seqOf(tokens.size(), 0),
        lens{start + static_cast<int>(tokens.size())}, rows(tokens.size()),
        blocks(std::move(blockTable)) {
    std::iota(positions.begin(), positions.end(), start);
    std::iota(rows.begin(), rows.end(), 0);
    view.numTokens = static_cast<int>(ids.size());
    view.numSeqs = 1;
    view.tokenIds = ids.data();
    view.positions = positions.data();
    view.tokenSeq = seqOf.data();
    view.seqLens = lens.data();
    view.blockTables = blocks.data();
    view.maxBlocksPerSeq = static_cast<int>(blocks.size());
    view.logitRows = rows.data();
    view.numLogitRows = static_cast<int>(rows.size());
    view.decodeOnly = decode;
  }
  Call(const Call &) = delete; // `view` points into this object
};

} // namespace

TEST(GreedyDecoding, BackendIdsAreTheArgmaxOfItsLogits) {
  TestArtifactBuilder builder;
  LlamaShape shape;
  addLlama(builder, shape, randomLlamaWeights(shape, 17), {});
  auto artifact = builder.load();
  ASSERT_TRUE(artifact) << artifact.status().toString();
  // Two backends fed the same calls: one returns logits, one ids.
  auto logitsBackend = createHostBackend(), idsBackend = createHostBackend();
  BackendOptions options;
  options.numKvBlocks = 8;
  options.maxTokensPerCall = 64;
  ASSERT_TRUE(logitsBackend->prepare(**artifact, options).isOk());
  ASSERT_TRUE(idsBackend->prepare(**artifact, options).isOk());

  std::mt19937 rng(9);
  std::vector<int32_t> tokens = randomIds(rng, 30, shape.vocab);
  const std::vector<int32_t> blocks = {5, 1};
  auto check = [&](Call call) {
    std::vector<float> logits;
    std::vector<int32_t> ids;
    Status a = logitsBackend->forward(call.view, logits);
    Status b = idsBackend->forwardGreedy(call.view, ids);
    ASSERT_TRUE(a.isOk()) << a.toString();
    ASSERT_TRUE(b.isOk()) << b.toString();
    ASSERT_EQ(ids.size(), call.rows.size());
    for (size_t r = 0; r < ids.size(); ++r)
      EXPECT_EQ(ids[r], greedyArgmax(logits.data() + r * shape.vocab, shape.vocab)) << r;
  };
  // Prefill of 24 tokens, every row, then decode steps reading the cache.
  check(Call({tokens.begin(), tokens.begin() + 24}, 0, blocks, false));
  for (int pos = 24; pos < 30; ++pos)
    check(Call({tokens[pos]}, pos, blocks, true));

  // No logit rows: no ids.
  Call none({tokens[0]}, 0, blocks, false);
  none.view.numLogitRows = 0;
  std::vector<int32_t> ids = {42};
  ASSERT_TRUE(idsBackend->forwardGreedy(none.view, ids).isOk());
  EXPECT_TRUE(ids.empty());

  // The same validation as forward().
  Call bad({tokens[0]}, 0, blocks, false);
  bad.blocks[0] = 8;
  EXPECT_THAT(idsBackend->forwardGreedy(bad.view, ids).message(),
              HasSubstr("maps its block 0 to physical block 8 of 8"));
  EXPECT_EQ(createHostBackend()->forwardGreedy(none.view, ids).code(),
            StatusCode::kFailedPrecondition);
}

TEST(GreedyDecoding, GenerationEqualsTheLogitsPathOnRandomArtifacts) {
  for (LinearFormat format :
       {LinearFormat::kF16, LinearFormat::kInt4Symmetric, LinearFormat::kInt4Asymmetric}) {
    SCOPED_TRACE(static_cast<int>(format));
    TestArtifactBuilder builder;
    LlamaShape shape;
    LlamaArtifactOptions artifactOptions;
    artifactOptions.linears = format;
    addLlama(builder, shape, randomLlamaWeights(shape, 23), artifactOptions);
    EngineOptions small;
    small.maxTokensPerCall = 6; // prompts split across calls, decode in batches
    auto engine = makeEngine(builder, small);
    ASSERT_TRUE(engine);
    std::mt19937 rng(31);
    std::vector<std::vector<int32_t>> prompts;
    for (int length : {1, 4, 13, 9, 2, 20, 7})
      prompts.push_back(randomIds(rng, length, shape.vocab));
    expectGreedyEqualsLogitsPath(*engine, prompts, 12);
  }
}

TEST(GreedyDecoding, TiesGoToTheLowestId) {
  // Tokens 48..95 of the lm_head repeat 0..47, so every logit of the upper
  // half equals one of the lower half, bit for bit (each output accumulates
  // in the same order).
  LlamaShape shape;
  LlamaWeights weights = randomLlamaWeights(shape, 41);
  const int half = shape.vocab / 2;
  std::copy(weights.lmHead.begin(), weights.lmHead.begin() + half * shape.hidden,
            weights.lmHead.begin() + half * shape.hidden);
  TestArtifactBuilder builder;
  addLlama(builder, shape, weights, {});
  auto engine = makeEngine(builder);
  ASSERT_TRUE(engine);
  std::mt19937 rng(2);
  std::vector<std::vector<int32_t>> prompts = {randomIds(rng, 5, shape.vocab),
                                               randomIds(rng, 11, shape.vocab)};
  GenerateOptions greedy;
  greedy.maxNewTokens = 16;
  greedy.stopAtEos = false;
  auto generated = engine->generate(prompts, greedy);
  ASSERT_TRUE(generated) << generated.status().toString();
  for (const auto &tokens : generated->tokens)
    for (int32_t token : tokens)
      EXPECT_LT(token, half);
  expectGreedyEqualsLogitsPath(*engine, prompts, 16);
}
