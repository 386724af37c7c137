//===- EngineTest.cpp - Scheduling, KV paging and sampling of the Engine --===//

#include "TinyEngine.h"

#include "qtc/rt/Backend.h"
#include "qtc/rt/Engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

using namespace qtc::rt;
using namespace qtc::rt::test;
using ::testing::HasSubstr;

namespace {

std::unique_ptr<Engine> makeCachingEngine(const TinyModel &m, int numKvBlocks = 0) {
  EngineOptions options;
  options.prefixCaching = true;
  options.numKvBlocks = numKvBlocks;
  return makeEngine(m, options);
}

double maxRelativeError(const std::vector<float> &actual, const std::vector<float> &expected) {
  double worst = 0;
  for (size_t i = 0; i < actual.size(); ++i)
    worst = std::max(worst, std::fabs(double(actual[i]) - expected[i]) /
                                (1.0 + std::fabs(double(expected[i]))));
  return worst;
}

} // namespace

TEST(Engine, ScoreMatchesPlainReferenceModel) {
  for (LinearFormat format :
       {LinearFormat::kF16, LinearFormat::kInt4Symmetric, LinearFormat::kInt4Asymmetric}) {
    LlamaArtifactOptions options;
    options.linears = format;
    TinyModel m = makeModel(options);
    auto engine = makeEngine(m);
    ASSERT_TRUE(engine);
    EXPECT_EQ(engine->backendName(), "host");
    std::mt19937 rng(5);
    std::vector<int32_t> ids = randomIds(rng, 40, m.shape.vocab);
    ScoreOptions scoreOptions;
    scoreOptions.keepLogits = true;
    auto scored = engine->score(ids, scoreOptions);
    ASSERT_TRUE(scored) << scored.status().toString();
    std::vector<float> reference = referenceLlamaLogits(m.shape, m.stored, ids);
    ASSERT_EQ(scored->logits.size(), reference.size());
    EXPECT_LT(maxRelativeError(scored->logits, reference), 2e-4);
    ASSERT_EQ(scored->argmax.size(), ids.size());
    ASSERT_EQ(scored->logProbs.size(), ids.size() - 1);
    for (size_t i = 0; i + 1 < ids.size(); ++i) {
      const float *row = reference.data() + i * m.shape.vocab;
      double maxLogit = *std::max_element(row, row + m.shape.vocab), sum = 0;
      for (int v = 0; v < m.shape.vocab; ++v)
        sum += std::exp(row[v] - maxLogit);
      EXPECT_NEAR(scored->logProbs[i], row[ids[i + 1]] - maxLogit - std::log(sum), 1e-3);
    }
  }
}

// An fp8 (e4m3) KV cache: the host backend stores k and v rounded as the GPU
// kernels store them; the plain reference model rounds them the same way.
// Against the f16-cache reference the logits move (3 mantissa bits instead
// of 10; this random tiny model's logits are sensitive, the trained model's
// perplexity moves by the amount bench/results/recipes-kjv-llama-6m.json
// records).
TEST(Engine, Fp8KvCacheMatchesReferenceWithE4M3Rounding) {
  LlamaArtifactOptions options;
  options.kvDtype = fb::KvDType::F8E4M3;
  TinyModel m = makeModel(options);
  auto engine = makeEngine(m);
  ASSERT_TRUE(engine);
  std::mt19937 rng(6);
  std::vector<int32_t> ids = randomIds(rng, 40, m.shape.vocab);
  ScoreOptions scoreOptions;
  scoreOptions.keepLogits = true;
  auto scored = engine->score(ids, scoreOptions);
  ASSERT_TRUE(scored) << scored.status().toString();
  std::vector<float> fp8 = referenceLlamaLogits(m.shape, m.stored, ids, fb::KvDType::F8E4M3);
  std::vector<float> f16 = referenceLlamaLogits(m.shape, m.stored, ids, fb::KvDType::F16);
  EXPECT_LT(maxRelativeError(scored->logits, fp8), 2e-4);
  const double drift = maxRelativeError(scored->logits, f16);
  EXPECT_GT(drift, 1e-4); // the cache really holds fewer bits
  EXPECT_LT(drift, 0.5);
  // Half the KV bytes of an f16 cache for the same budget: twice the blocks.
  EngineOptions budget;
  budget.kvMemoryBytes = 1 << 20;
  auto fp8Engine = makeEngine(m, budget);
  TinyModel f16Model = makeModel();
  auto f16Engine = makeEngine(f16Model, budget);
  ASSERT_TRUE(fp8Engine && f16Engine);
  EXPECT_EQ(fp8Engine->numKvBlocks(), 2 * f16Engine->numKvBlocks());
}

TEST(Engine, ChunkedPrefillEqualsSinglePrefill) {
  TinyModel m = makeModel();
  EngineOptions small;
  small.maxTokensPerCall = 7;
  auto chunked = makeEngine(m, small);
  auto whole = makeEngine(m);
  ASSERT_TRUE(chunked && whole);
  std::mt19937 rng(8);
  std::vector<int32_t> ids = randomIds(rng, 50, m.shape.vocab);
  ScoreOptions keep;
  keep.keepLogits = true;
  auto a = chunked->score(ids, keep);
  auto b = whole->score(ids, keep);
  ASSERT_TRUE(a && b);
  // Every row is computed the same way whatever else is in its call.
  EXPECT_EQ(a->logits, b->logits);
}

// Backend level: a prefill followed by one-token decode calls reads the KV
// cache it wrote and gives the logits of one full prefill, bit for bit.
TEST(Engine, PrefillThenDecodeEqualsFullPrefill) {
  TinyModel m = makeModel();
  auto artifact = m.builder.load();
  ASSERT_TRUE(artifact);
  auto backend = createHostBackend();
  BackendOptions options;
  options.numKvBlocks = 16;
  options.maxTokensPerCall = 64;
  ASSERT_TRUE(backend->prepare(**artifact, options).isOk());

  std::mt19937 rng(12);
  const int total = 37, prompt = 20;
  std::vector<int32_t> ids = randomIds(rng, total, m.shape.vocab);
  auto call = [&](const std::vector<int32_t> &blocks, int start, int count, bool decode) {
    std::vector<int32_t> tokens(ids.begin() + start, ids.begin() + start + count);
    std::vector<int32_t> positions(count), seqOf(count, 0), rows(count);
    std::iota(positions.begin(), positions.end(), start);
    std::iota(rows.begin(), rows.end(), 0);
    std::vector<int32_t> lens = {start + count};
    BatchView batch;
    batch.numTokens = count;
    batch.numSeqs = 1;
    batch.tokenIds = tokens.data();
    batch.positions = positions.data();
    batch.tokenSeq = seqOf.data();
    batch.seqLens = lens.data();
    batch.blockTables = blocks.data();
    batch.maxBlocksPerSeq = static_cast<int>(blocks.size());
    batch.logitRows = rows.data();
    batch.numLogitRows = count;
    batch.decodeOnly = decode;
    std::vector<float> logits;
    Status status = backend->forward(batch, logits);
    EXPECT_TRUE(status.isOk()) << status.toString();
    return logits;
  };
  const std::vector<int32_t> fullBlocks = {0, 1, 2}, stepBlocks = {9, 4, 12};
  std::vector<float> full = call(fullBlocks, 0, total, false);
  std::vector<float> stepped = call(stepBlocks, 0, prompt, false);
  for (int pos = prompt; pos < total; ++pos) {
    std::vector<float> row = call(stepBlocks, pos, 1, true);
    stepped.insert(stepped.end(), row.begin(), row.end());
  }
  EXPECT_EQ(stepped, full);
}

TEST(Engine, BatchedGenerateEqualsPerSequenceGenerate) {
  TinyModel m = makeModel();
  auto engine = makeEngine(m);
  ASSERT_TRUE(engine);
  std::mt19937 rng(21);
  std::vector<std::vector<int32_t>> prompts = {randomIds(rng, 3, m.shape.vocab),
                                               randomIds(rng, 17, m.shape.vocab),
                                               randomIds(rng, 1, m.shape.vocab),
                                               randomIds(rng, 33, m.shape.vocab)};
  GenerateOptions options;
  options.maxNewTokens = 20;
  options.stopAtEos = false;
  auto batched = engine->generate(prompts, options);
  ASSERT_TRUE(batched) << batched.status().toString();
  ASSERT_EQ(batched->tokens.size(), prompts.size());
  EXPECT_EQ(batched->generatedTokens, 80);
  EXPECT_EQ(batched->promptTokens, 54);
  for (size_t p = 0; p < prompts.size(); ++p) {
    auto alone = engine->generate({prompts[p]}, options);
    ASSERT_TRUE(alone);
    EXPECT_EQ(alone->tokens[0], batched->tokens[p]) << "prompt " << p;
    EXPECT_EQ(batched->tokens[p].size(), 20u);
  }
  EXPECT_EQ(engine->numFreeKvBlocks(), engine->numKvBlocks());
}

TEST(Engine, GreedyTokensAreTheArgmaxOfAFullPrefill) {
  TinyModel m = makeModel();
  auto engine = makeEngine(m);
  ASSERT_TRUE(engine);
  std::mt19937 rng(4);
  std::vector<int32_t> prompt = randomIds(rng, 9, m.shape.vocab);
  GenerateOptions options;
  options.maxNewTokens = 25;
  options.stopAtEos = false;
  auto generated = engine->generate({prompt}, options);
  ASSERT_TRUE(generated);
  std::vector<int32_t> all = prompt;
  all.insert(all.end(), generated->tokens[0].begin(), generated->tokens[0].end());
  auto scored = engine->score(all);
  ASSERT_TRUE(scored);
  for (int i = 0; i < options.maxNewTokens; ++i)
    EXPECT_EQ(scored->argmax[prompt.size() - 1 + i], generated->tokens[0][i]) << "token " << i;
}

TEST(Engine, LongBatchesSplitIntoCallsGiveTheSameTokens) {
  TinyModel m = makeModel();
  EngineOptions tiny;
  tiny.maxTokensPerCall = 5; // prompts split, decode batches of 5 of 12 sequences
  auto small = makeEngine(m, tiny);
  auto large = makeEngine(m);
  ASSERT_TRUE(small && large);
  std::mt19937 rng(30);
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 12; ++i)
    prompts.push_back(randomIds(rng, 1 + static_cast<int>(rng() % 11), m.shape.vocab));
  GenerateOptions options;
  options.maxNewTokens = 6;
  options.stopAtEos = false;
  auto a = small->generate(prompts, options);
  auto b = large->generate(prompts, options);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->tokens, b->tokens);
}

TEST(Engine, SamplingIsSeededAndRespectsTopK) {
  TinyModel m = makeModel();
  auto engine = makeEngine(m);
  ASSERT_TRUE(engine);
  std::vector<int32_t> prompt = {5, 9, 14};
  GenerateOptions options;
  options.maxNewTokens = 40;
  options.stopAtEos = false;
  options.sampling.greedy = false;
  options.sampling.temperature = 1.5f;
  options.sampling.seed = 77;
  auto first = engine->generate({prompt, prompt}, options);
  auto again = engine->generate({prompt, prompt}, options);
  ASSERT_TRUE(first && again);
  EXPECT_EQ(first->tokens, again->tokens);
  // The two sequences draw from different streams.
  EXPECT_NE(first->tokens[0], first->tokens[1]);

  // top-k 1 is greedy whatever the temperature.
  options.sampling.topK = 1;
  auto topOne = engine->generate({prompt}, options);
  GenerateOptions greedy;
  greedy.maxNewTokens = 40;
  greedy.stopAtEos = false;
  auto argmax = engine->generate({prompt}, greedy);
  ASSERT_TRUE(topOne && argmax);
  EXPECT_EQ(topOne->tokens, argmax->tokens);

  options.sampling.temperature = 0;
  EXPECT_THAT(engine->generate({prompt}, options).status().message(),
              HasSubstr("temperature must be positive"));
}

TEST(Engine, StopsAtEos) {
  std::vector<int32_t> prompt = {7, 3, 11, 2}, free;
  // The same model with its third greedy token as eos.
  TinyModel m = modelStoppingAt(prompt, 2, 10, free);
  auto stopping = makeEngine(m);
  ASSERT_TRUE(stopping);
  GenerateOptions options;
  options.maxNewTokens = 10;
  auto stopped = stopping->generate({prompt}, options);
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->tokens[0], upToEos(free, free[2]));
}

TEST(Engine, PerplexityMatchesReference) {
  TinyModel m = makeModel();
  EngineOptions options;
  options.maxTokensPerCall = 100; // windows packed and split across calls
  auto engine = makeEngine(m, options);
  ASSERT_TRUE(engine);
  std::mt19937 rng(40);
  std::vector<int32_t> tokens = randomIds(rng, 160, m.shape.vocab);
  PerplexityOptions ppl;
  ppl.window = 64;
  ppl.maxTokens = 150; // windows of 64, 64 and 22
  auto result = engine->perplexity(tokens, ppl);
  ASSERT_TRUE(result) << result.status().toString();
  double nll = 0;
  int64_t predicted = 0;
  for (int begin = 0; begin < 150; begin += 64) {
    std::vector<int32_t> window(tokens.begin() + begin,
                                tokens.begin() + std::min(150, begin + 64));
    std::vector<float> logits = referenceLlamaLogits(m.shape, m.stored, window);
    for (size_t i = 0; i + 1 < window.size(); ++i) {
      const float *row = logits.data() + i * m.shape.vocab;
      double maxLogit = *std::max_element(row, row + m.shape.vocab), sum = 0;
      for (int v = 0; v < m.shape.vocab; ++v)
        sum += std::exp(row[v] - maxLogit);
      nll -= row[window[i + 1]] - maxLogit - std::log(sum);
      ++predicted;
    }
  }
  EXPECT_EQ(result->predictedTokens, predicted);
  EXPECT_EQ(result->processedTokens, 150);
  EXPECT_EQ(result->windows, 3);
  EXPECT_NEAR(result->perplexity, std::exp(nll / predicted), 1e-4 * result->perplexity);
  EXPECT_EQ(engine->numFreeKvBlocks(), engine->numKvBlocks());
}

// Parallel sampling: a prompt prefilled once, its samples forked from it.
// Sample j of prompt p draws from stream p * n + j, so it must produce what a
// separately prefilled copy of the prompt at that index produces; the fork
// only saves the prefill and the shared blocks.
TEST(Engine, SamplesOfAPromptShareItsPrefill) {
  TinyModel m = makeModel();
  EngineOptions small;
  small.numKvBlocks = 16;
  auto engine = makeEngine(m, small);
  ASSERT_TRUE(engine);
  std::mt19937 rng(5);
  // 37 tokens: two full blocks shared, the third copied on first write.
  std::vector<int32_t> first = randomIds(rng, 37, m.shape.vocab);
  std::vector<int32_t> second = randomIds(rng, 4, m.shape.vocab);
  GenerateOptions options;
  options.maxNewTokens = 12;
  options.stopAtEos = false;
  options.sampling.greedy = false;
  options.sampling.temperature = 1.3f;
  options.sampling.seed = 11;
  options.samplesPerPrompt = 3;
  auto forked = engine->generate({first, second}, options);
  ASSERT_TRUE(forked) << forked.status().toString();
  ASSERT_EQ(forked->tokens.size(), 6u);
  EXPECT_EQ(forked->promptTokens, 41);
  EXPECT_EQ(forked->generatedTokens, 72);
  EXPECT_EQ(engine->numFreeKvBlocks(), 16);

  GenerateOptions copies = options;
  copies.samplesPerPrompt = 1;
  auto separate = engine->generate({first, first, first, second, second, second}, copies);
  ASSERT_TRUE(separate) << separate.status().toString();
  EXPECT_EQ(forked->tokens, separate->tokens);
  // The streams differ, so the samples do (12 tokens at temperature 1.3).
  EXPECT_NE(forked->tokens[0], forked->tokens[1]);

  // Greedy samples are all the greedy continuation.
  GenerateOptions greedy;
  greedy.maxNewTokens = 12;
  greedy.stopAtEos = false;
  greedy.samplesPerPrompt = 2;
  auto twice = engine->generate({first}, greedy);
  greedy.samplesPerPrompt = 1;
  auto once = engine->generate({first}, greedy);
  ASSERT_TRUE(twice && once);
  EXPECT_EQ(twice->tokens[0], once->tokens[0]);
  EXPECT_EQ(twice->tokens[1], once->tokens[0]);
}

// The KV check counts shared blocks once: 3 samples of a 37-token prompt with
// 12 new tokens need 3 blocks each, of which 2 are the prompt's shared ones:
// 3 + 2 * 1 = 5 blocks, where three separate copies would need 9.
TEST(Engine, SamplesNeedOnlyTheirOwnBlocks) {
  TinyModel m = makeModel();
  EngineOptions options;
  options.numKvBlocks = 5;
  auto engine = makeEngine(m, options);
  ASSERT_TRUE(engine);
  std::vector<int32_t> prompt(37, 7);
  GenerateOptions generate;
  generate.maxNewTokens = 12;
  generate.stopAtEos = false;
  generate.samplesPerPrompt = 3;
  auto fits = engine->generate({prompt}, generate);
  ASSERT_TRUE(fits) << fits.status().toString();
  EXPECT_EQ(fits->tokens.size(), 3u);
  EXPECT_EQ(engine->numFreeKvBlocks(), 5);
  generate.samplesPerPrompt = 4;
  auto full = engine->generate({prompt}, generate);
  ASSERT_FALSE(full);
  EXPECT_THAT(full.status().message(),
              HasSubstr("generating for 1 prompts x 4 samples needs 6 blocks, but 5 of 5 are free"));
  EXPECT_EQ(engine->numFreeKvBlocks(), 5);
  generate.samplesPerPrompt = 0;
  EXPECT_THAT(engine->generate({prompt}, generate).status().message(),
              HasSubstr("samplesPerPrompt must be at least 1, got 0"));
}

// Prefix caching: a later prompt that starts like an earlier one reuses its
// full KV blocks and prefills only the rest, with the same tokens as an
// engine without the cache.
TEST(Engine, PrefixCacheSkipsThePrefillOfKnownBlocks) {
  TinyModel m = makeModel();
  auto engine = makeCachingEngine(m);
  auto plain = makeEngine(m);
  ASSERT_TRUE(engine && plain);
  std::mt19937 rng(9);
  std::vector<int32_t> system = randomIds(rng, 40, m.shape.vocab); // 2 full blocks + 8
  std::vector<int32_t> first = system, second = system;
  for (int32_t id : randomIds(rng, 5, m.shape.vocab))
    first.push_back(id);
  for (int32_t id : randomIds(rng, 7, m.shape.vocab))
    second.push_back(id);
  GenerateOptions options;
  options.maxNewTokens = 10;
  options.stopAtEos = false;

  auto a = engine->generate({first}, options);
  ASSERT_TRUE(a) << a.status().toString();
  EXPECT_EQ(a->cachedPromptTokens, 0);
  EXPECT_EQ(engine->numPrefixCachedBlocks(), 2); // 45 tokens: 2 full blocks
  auto b = engine->generate({second}, options);
  ASSERT_TRUE(b) << b.status().toString();
  EXPECT_EQ(b->cachedPromptTokens, 32);
  for (const auto &[prompt, got] : {std::pair{first, a->tokens[0]}, {second, b->tokens[0]}}) {
    auto expected = plain->generate({prompt}, options);
    ASSERT_TRUE(expected);
    EXPECT_EQ(got, expected->tokens[0]);
  }

  // A prompt that is exactly cached blocks still prefills its last token
  // (its logits give the first new one): 32 tokens -> 16 from the cache.
  std::vector<int32_t> exact(system.begin(), system.begin() + 32);
  auto c = engine->generate({exact}, options);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cachedPromptTokens, 16);
  auto expected = plain->generate({exact}, options);
  EXPECT_EQ(c->tokens[0], expected->tokens[0]);

  // Samples fork the sequence built on cached blocks.
  GenerateOptions sampled = options;
  sampled.samplesPerPrompt = 2;
  sampled.sampling.greedy = false;
  sampled.sampling.seed = 4;
  auto d = engine->generate({second}, sampled);
  auto e = plain->generate({second}, sampled);
  ASSERT_TRUE(d && e);
  EXPECT_EQ(d->cachedPromptTokens, 32);
  EXPECT_EQ(d->tokens, e->tokens);

  const int cachedBlocks = engine->numPrefixCachedBlocks();
  EXPECT_EQ(engine->numFreeKvBlocks(), engine->numKvBlocks() - cachedBlocks);
  engine->clearPrefixCache();
  EXPECT_EQ(engine->numFreeKvBlocks(), engine->numKvBlocks());
}

// Prompts of one call that share a system prompt: the first is prefilled,
// the others reuse its full blocks (the call is split before each of them).
TEST(Engine, PrefixCacheSharesWithinACall) {
  TinyModel m = makeModel();
  auto cached = makeCachingEngine(m);
  auto plain = makeEngine(m);
  ASSERT_TRUE(cached && plain);
  std::mt19937 rng(17);
  std::vector<int32_t> system = randomIds(rng, 40, m.shape.vocab);
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 3; ++i) {
    prompts.push_back(system);
    for (int32_t id : randomIds(rng, 3 + i, m.shape.vocab))
      prompts.back().push_back(id);
  }
  prompts.push_back(randomIds(rng, 20, m.shape.vocab)); // unrelated
  GenerateOptions options;
  options.maxNewTokens = 6;
  options.stopAtEos = false;
  auto got = cached->generate(prompts, options);
  auto expected = plain->generate(prompts, options);
  ASSERT_TRUE(got && expected) << got.status().toString();
  EXPECT_EQ(got->tokens, expected->tokens);
  EXPECT_EQ(got->cachedPromptTokens, 2 * 32);
}

// Cached blocks give way to requests: least recently used first, and a
// request that does not fit even then fails as without the cache.
TEST(Engine, PrefixCacheEvictsForNewRequests) {
  TinyModel m = makeModel();
  auto engine = makeCachingEngine(m, 6);
  ASSERT_TRUE(engine);
  std::mt19937 rng(13);
  GenerateOptions generate;
  generate.maxNewTokens = 4;
  generate.stopAtEos = false;
  std::vector<int32_t> first = randomIds(rng, 50, m.shape.vocab);  // 3 full blocks cached
  std::vector<int32_t> second = randomIds(rng, 60, m.shape.vocab); // needs 4 blocks
  ASSERT_TRUE(engine->generate({first}, generate));
  EXPECT_EQ(engine->numPrefixCachedBlocks(), 3);
  EXPECT_EQ(engine->numFreeKvBlocks(), 3);
  auto b = engine->generate({second}, generate);
  ASSERT_TRUE(b) << b.status().toString();
  // `second` needed 4 of the 3 free blocks: one of `first`'s went, the end
  // of its chain; `second`'s 3 full blocks joined.
  EXPECT_EQ(engine->numPrefixCachedBlocks(), 5);
  auto again = engine->generate({first}, generate);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->cachedPromptTokens, 32);
  // Scoring and perplexity make room the same way.
  EXPECT_GT(engine->numPrefixCachedBlocks(), 0);
  EXPECT_TRUE(engine->score(randomIds(rng, 96, m.shape.vocab))) << "6 blocks";
  ASSERT_TRUE(engine->generate({first}, generate));
  PerplexityOptions ppl;
  ppl.window = 96;
  EXPECT_TRUE(engine->perplexity(randomIds(rng, 96, m.shape.vocab), ppl));
  auto tooLong = engine->generate({randomIds(rng, 100, m.shape.vocab)}, generate);
  ASSERT_FALSE(tooLong);
  EXPECT_THAT(tooLong.status().message(), HasSubstr("needs 7 blocks, but 6 of 6 are free"));
  EXPECT_EQ(engine->numPrefixCachedBlocks(), 0);
}

// Random traffic: prompts built from a few shared prefixes, several per call,
// some with samples, through a small pool (so eviction happens); every call
// must give what an engine without the cache gives, and clearing the cache
// must return every block.
TEST(Engine, PrefixCacheUnderRandomTraffic) {
  TinyModel m = makeModel();
  auto cached = makeCachingEngine(m, 24);
  auto plain = makeEngine(m);
  ASSERT_TRUE(cached && plain);
  std::mt19937 rng(2024);
  std::vector<std::vector<int32_t>> prefixes;
  for (int length : {16, 20, 33, 48})
    prefixes.push_back(randomIds(rng, length, m.shape.vocab));
  int64_t reused = 0;
  for (int call = 0; call < 30; ++call) {
    std::vector<std::vector<int32_t>> prompts(1 + rng() % 3);
    for (auto &prompt : prompts) {
      prompt = prefixes[rng() % prefixes.size()];
      prompt.resize(1 + rng() % prompt.size()); // any cut of the prefix
      for (int32_t id : randomIds(rng, static_cast<int>(rng() % 6), m.shape.vocab))
        prompt.push_back(id);
    }
    GenerateOptions options;
    options.maxNewTokens = 1 + static_cast<int>(rng() % 5);
    options.stopAtEos = false;
    options.samplesPerPrompt = 1 + static_cast<int>(rng() % 2);
    options.sampling.greedy = options.samplesPerPrompt == 1;
    options.sampling.seed = call;
    auto got = cached->generate(prompts, options);
    auto expected = plain->generate(prompts, options);
    ASSERT_TRUE(got) << "call " << call << ": " << got.status().toString();
    ASSERT_TRUE(expected);
    EXPECT_EQ(got->tokens, expected->tokens) << "call " << call;
    reused += got->cachedPromptTokens;
    EXPECT_EQ(cached->numFreeKvBlocks() + cached->numPrefixCachedBlocks(), cached->numKvBlocks())
        << "call " << call;
  }
  EXPECT_GT(reused, 0);
  cached->clearPrefixCache();
  EXPECT_EQ(cached->numFreeKvBlocks(), cached->numKvBlocks());
}

TEST(Engine, KvExhaustionFailsCleanlyAndLeavesEngineUsable) {
  TinyModel m = makeModel();
  EngineOptions options;
  options.numKvBlocks = 4; // 64 tokens
  auto engine = makeEngine(m, options);
  ASSERT_TRUE(engine);
  std::vector<int32_t> prompt(60, 5);
  GenerateOptions generate;
  generate.maxNewTokens = 10;
  auto full = engine->generate({prompt}, generate);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(full.status().message(), HasSubstr("needs 5 blocks, but 4 of 4 are free"));
  EXPECT_EQ(engine->numFreeKvBlocks(), 4);
  generate.maxNewTokens = 5;
  EXPECT_TRUE(engine->generate({prompt}, generate));
  auto twoLong = engine->generate({prompt, prompt}, generate);
  EXPECT_EQ(twoLong.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(engine->numFreeKvBlocks(), 4);
  PerplexityOptions ppl;
  ppl.window = 100;
  EXPECT_THAT(engine->perplexity(std::vector<int32_t>(200, 3), ppl).status().message(),
              HasSubstr("a window of 100 tokens needs 7 blocks, but 4 are free"));
}

TEST(Engine, RejectsBadRequests) {
  TinyModel m = makeModel();
  auto engine = makeEngine(m);
  ASSERT_TRUE(engine);
  GenerateOptions options;
  EXPECT_THAT(engine->generate({{1, 2, 500}}, options).status().message(),
              HasSubstr("prompt 0: token 2 has id 500 outside the vocabulary of 96"));
  EXPECT_THAT(engine->generate({{}}, options).status().message(), HasSubstr("prompt 0 is empty"));
  EXPECT_THAT(engine->generate({}, options).status().message(), HasSubstr("no prompts"));
  options.maxNewTokens = 200;
  EXPECT_THAT(engine->generate({{1, 2}}, options).status().message(),
              HasSubstr("exceeds the model's 128 positions"));
  EXPECT_THAT(engine->score(std::vector<int32_t>(129, 1)).status().message(),
              HasSubstr("exceeds the model's 128 positions"));
  PerplexityOptions ppl;
  ppl.window = 1;
  EXPECT_THAT(engine->perplexity({1, 2, 3}, ppl).status().message(),
              HasSubstr("window 1 must be in [2, 128]"));
  EXPECT_EQ(engine->encode("text").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine->numFreeKvBlocks(), engine->numKvBlocks());
}

TEST(Engine, BackendChoice) {
  TinyModel m = makeModel();
  EngineOptions cuda;
  cuda.backend = BackendKind::kCuda;
  auto artifact = m.builder.load();
  ASSERT_TRUE(artifact);
  // This tiny artifact has no kernels: the CUDA backend refuses it on any
  // machine, and where it is not built, it is unavailable.
  auto engine = Engine::create(std::move(*artifact), cuda);
  ASSERT_FALSE(engine);
  EXPECT_THAT(engine.status().message(), HasSubstr("cuda backend"));

  artifact = m.builder.load();
  ASSERT_TRUE(artifact);
  auto automatic = Engine::create(std::move(*artifact), EngineOptions{});
  ASSERT_TRUE(automatic) << automatic.status().toString();
  EXPECT_EQ((*automatic)->backendName(), "host");
  EXPECT_THAT((*automatic)->backendNote(), HasSubstr("cuda backend not used"));

  EXPECT_EQ(*parseBackendKind("cuda"), BackendKind::kCuda);
  EXPECT_THAT(parseBackendKind("tpu").status().message(), HasSubstr("unknown backend 'tpu'"));
}

TEST(Engine, KvPoolSizing) {
  TinyModel m = makeModel();
  // 2 layers * K,V * 2 kv heads * 16 slots * 8 dims * 2 bytes = 2048 bytes a block.
  EngineOptions budget;
  budget.kvMemoryBytes = 10 * 2048 + 100;
  auto engine = makeEngine(m, budget);
  ASSERT_TRUE(engine);
  EXPECT_EQ(engine->numKvBlocks(), 10);
  auto defaults = makeEngine(m);
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->numKvBlocks(), 8 * 128 / 16);
  EngineOptions tooSmall;
  tooSmall.kvMemoryBytes = 100;
  tooSmall.backend = BackendKind::kHost;
  auto artifact = m.builder.load();
  ASSERT_TRUE(artifact);
  EXPECT_THAT(Engine::create(std::move(*artifact), tooSmall).status().message(),
              HasSubstr("holds no block (one takes 2048 bytes)"));
}
