//===- QuantizedKvEngineTest.cpp - Serving with quantized KV caches -------===//
//
// For every quantized cache scheme (fp8 with calibrated per-head scales,
// int8 per token, int4 and int2 with KIVI's per-channel keys, window and
// sinks, per-token keys), a request gets exactly the tokens it gets alone
// when its blocks come from the prefix cache, when its samples fork one
// prefill (shared blocks, copy-on-write of the partly filled one), when it is
// preempted and recomputed, when a neighbour is aborted, and whatever its
// prompt is chunked into; every block comes back at the end.
//
//===----------------------------------------------------------------------===//

#include "TinyEngine.h"

#include "qtc/rt/Engine.h"

#include <gtest/gtest.h>

#include <map>

using namespace qtc::rt;
using namespace qtc::rt::test;

namespace {

struct Scheme {
  const char *name;
  LlamaArtifactOptions options;
};

LlamaArtifactOptions integer(fb::KvDType dtype, bool perChannel, int blockSize, int window,
                             int sinks, bool symmetric = false) {
  LlamaArtifactOptions o;
  o.kvDtype = dtype;
  o.keyGranularity = perChannel ? fb::KvGranularity::PerChannel : fb::KvGranularity::PerToken;
  o.keySymmetric = o.valueSymmetric = symmetric;
  o.kvBlockSize = blockSize;
  o.residualWindow = window;
  o.sinkTokens = sinks;
  return o;
}

std::vector<Scheme> schemes() {
  LlamaArtifactOptions fp8;
  fp8.kvDtype = fb::KvDType::F8E4M3;
  fp8.kvKeyScales = {0.004f, 0.006f, 0.005f, 0.003f}; // 2 layers x 2 kv heads
  fp8.kvValueScales = {0.002f, 0.003f, 0.004f, 0.005f};
  return {
      {"Fp8HeadScales", fp8},
      {"Int8PerToken", integer(fb::KvDType::Int8, false, 16, 0, 0, /*symmetric=*/true)},
      {"Int4Kivi", integer(fb::KvDType::Int4, true, 16, 16, 0)},
      {"Int4KiviBlock32", integer(fb::KvDType::Int4, true, 32, 32, 0)},
      {"Int4PerChannelNoWindowSinks", integer(fb::KvDType::Int4, true, 16, 0, 4)},
      {"Int4PerTokenKeys", integer(fb::KvDType::Int4, false, 16, 0, 0)},
      {"Int2KiviSinks", integer(fb::KvDType::Int2, true, 16, 16, 2)},
      {"Int2PerTokenNoWindow", integer(fb::KvDType::Int2, false, 8, 0, 0)},
  };
}

class QuantizedKvEngineTest : public ::testing::TestWithParam<Scheme> {
protected:
  TinyModel model() const { return makeModel(GetParam().options); }
  int blockSize() const { return GetParam().options.kvBlockSize; }
};

struct Collected {
  std::map<RequestId, std::vector<int32_t>> tokens;
  int steps = 0;
};

void stepInto(Engine &engine, Collected &c) {
  auto outputs = engine.step();
  ASSERT_TRUE(outputs) << outputs.status().toString();
  ++c.steps;
  for (const RequestOutput &out : *outputs) {
    std::vector<int32_t> &tokens = c.tokens[out.id];
    tokens.insert(tokens.end(), out.newTokens.begin(), out.newTokens.end());
  }
}

std::vector<int32_t> generateAlone(const TinyModel &m, const std::vector<int32_t> &prompt,
                                   const RequestOptions &request) {
  auto engine = makeEngine(m);
  if (!engine)
    return {};
  GenerateOptions options;
  options.maxNewTokens = request.maxNewTokens;
  options.sampling = request.sampling;
  options.stopAtEos = request.stopAtEos;
  auto out = engine->generate({prompt}, options);
  EXPECT_TRUE(out) << out.status().toString();
  return out ? out->tokens[0] : std::vector<int32_t>{};
}

// The scheme is in effect: its keys and values are stored with an error an
// f16 cache does not have.
TEST_P(QuantizedKvEngineTest, StoresInItsFormat) {
  TinyModel m = model();
  auto engine = makeEngine(m);
  ASSERT_TRUE(engine);
  std::mt19937 rng(1);
  ASSERT_TRUE(engine->score(randomIds(rng, 40, m.shape.vocab)));
  std::vector<KvLayerNumerics> kv = engine->kvNumerics();
  ASSERT_EQ(kv.size(), 2u);
  for (const KvLayerNumerics &n : kv) {
    EXPECT_LT(n.keySqnrDb, 60.0);
    EXPECT_GT(n.keySqnrDb, 3.0);
    EXPECT_LT(n.valueSqnrDb, 60.0);
  }
}

// Prompts cut from shared prefixes at any length, several per call, some with
// two samples (forks), through a small pool: the cached engine gives what a
// plain one gives.
TEST_P(QuantizedKvEngineTest, PrefixCachingAndForksGiveThePlainTokens) {
  TinyModel m = model();
  EngineOptions caching;
  caching.prefixCaching = true;
  caching.numKvBlocks = 24 * 16 / blockSize();
  auto cached = makeEngine(m, caching);
  auto plain = makeEngine(m);
  ASSERT_TRUE(cached && plain);
  std::mt19937 rng(99);
  std::vector<std::vector<int32_t>> prefixes;
  for (int length : {16, 21, 33, 48})
    prefixes.push_back(randomIds(rng, length, m.shape.vocab));
  int64_t reused = 0;
  for (int call = 0; call < 16; ++call) {
    std::vector<std::vector<int32_t>> prompts(1 + rng() % 3);
    for (auto &prompt : prompts) {
      prompt = prefixes[rng() % prefixes.size()];
      prompt.resize(1 + rng() % prompt.size());
      for (int32_t id : randomIds(rng, static_cast<int>(rng() % 6), m.shape.vocab))
        prompt.push_back(id);
    }
    GenerateOptions options;
    options.maxNewTokens = 1 + static_cast<int>(rng() % 6);
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
  }
  EXPECT_GT(reused, 0);
  cached->clearPrefixCache();
  EXPECT_EQ(cached->numFreeKvBlocks(), cached->numKvBlocks());
}

// Samples forked from one prefill of a prompt that ends inside a block (its
// last block shared, then copied on first write) equal separately prefilled
// copies of the prompt.
TEST_P(QuantizedKvEngineTest, ForkedSamplesEqualSeparatePrefills) {
  TinyModel m = model();
  auto engine = makeEngine(m);
  ASSERT_TRUE(engine);
  std::mt19937 rng(5);
  std::vector<int32_t> prompt = randomIds(rng, 2 * blockSize() + 5, m.shape.vocab);
  GenerateOptions options;
  options.maxNewTokens = blockSize() + 3; // past the shared block's end
  options.stopAtEos = false;
  options.sampling.greedy = false;
  options.sampling.temperature = 1.3f;
  options.sampling.seed = 11;
  options.samplesPerPrompt = 3;
  auto forked = engine->generate({prompt}, options);
  ASSERT_TRUE(forked) << forked.status().toString();
  options.samplesPerPrompt = 1;
  auto separate = engine->generate({prompt, prompt, prompt}, options);
  ASSERT_TRUE(separate) << separate.status().toString();
  EXPECT_EQ(forked->tokens, separate->tokens);
  EXPECT_NE(forked->tokens[0], forked->tokens[1]);
  EXPECT_EQ(engine->numFreeKvBlocks(), engine->numKvBlocks());
}

// Recompute preemption in a tight pool: preempted requests are prefilled
// again (their blocks quantized anew) and still get their tokens alone.
TEST_P(QuantizedKvEngineTest, PreemptedRequestsGetTheirTokensAlone) {
  TinyModel m = model();
  EngineOptions tight;
  tight.numKvBlocks = 96 / blockSize();
  tight.maxTokensPerCall = 32;
  tight.capacityPolicy = EngineOptions::CapacityPolicy::kMaxUtilization;
  auto engine = makeEngine(m, tight);
  ASSERT_TRUE(engine);
  std::mt19937 rng(23);
  std::vector<std::vector<int32_t>> prompts;
  std::vector<RequestOptions> options;
  std::vector<RequestId> ids;
  for (int i = 0; i < 8; ++i) {
    prompts.push_back(randomIds(rng, 4 + static_cast<int>(rng() % 30), m.shape.vocab));
    RequestOptions o;
    o.maxNewTokens = 10 + static_cast<int>(rng() % 40);
    o.stopAtEos = false;
    if (i % 2) {
      o.sampling.greedy = false;
      o.sampling.temperature = 1.1f;
      o.sampling.seed = 50 + i;
    }
    options.push_back(o);
  }
  Collected c;
  for (size_t i = 0; i < prompts.size() || engine->hasUnfinishedRequests();) {
    if (i < prompts.size()) {
      auto id = engine->addRequest(prompts[i], options[i]);
      ASSERT_TRUE(id) << id.status().toString();
      ids.push_back(*id);
      ++i;
    }
    stepInto(*engine, c);
    ASSERT_LT(c.steps, 5000);
  }
  EXPECT_GE(engine->numPreemptions(), 1);
  for (size_t i = 0; i < prompts.size(); ++i)
    EXPECT_EQ(c.tokens[ids[i]], generateAlone(m, prompts[i], options[i])) << "request " << i;
  EXPECT_EQ(engine->numFreeKvBlocks(), engine->numKvBlocks());
}

// Aborting a request mid-decode (its partly filled block freed and reused)
// leaves the others' tokens as they are alone.
TEST_P(QuantizedKvEngineTest, AbortLeavesTheOthersTokens) {
  TinyModel m = model();
  EngineOptions small;
  small.numKvBlocks = 160 / blockSize();
  auto engine = makeEngine(m, small);
  ASSERT_TRUE(engine);
  std::mt19937 rng(8);
  RequestOptions options;
  options.maxNewTokens = 20;
  options.stopAtEos = false;
  std::vector<int32_t> keep = randomIds(rng, 20, m.shape.vocab);
  std::vector<int32_t> later = randomIds(rng, 9, m.shape.vocab);
  auto kept = engine->addRequest(keep, options);
  auto aborted = engine->addRequest(randomIds(rng, 40, m.shape.vocab), options);
  ASSERT_TRUE(kept && aborted);
  Collected c;
  for (int i = 0; i < 5; ++i)
    stepInto(*engine, c);
  ASSERT_TRUE(engine->abortRequest(*aborted).isOk());
  auto joined = engine->addRequest(later, options); // reuses the freed blocks
  ASSERT_TRUE(joined);
  while (engine->hasUnfinishedRequests() && c.steps < 1000)
    stepInto(*engine, c);
  EXPECT_EQ(c.tokens[*kept], generateAlone(m, keep, options));
  EXPECT_EQ(c.tokens[*joined], generateAlone(m, later, options));
  EXPECT_EQ(engine->numFreeKvBlocks(), engine->numKvBlocks());
}

// A prompt prefilled in chunks of any size scores as one prefill does: what
// a query reads never depends on the tokens after it.
TEST_P(QuantizedKvEngineTest, ChunkedPrefillScoresAsOnePrefill) {
  TinyModel m = model();
  std::mt19937 rng(3);
  std::vector<int32_t> ids = randomIds(rng, 3 * blockSize() + 7, m.shape.vocab);
  auto whole = makeEngine(m);
  ASSERT_TRUE(whole);
  auto expected = whole->score(ids);
  ASSERT_TRUE(expected) << expected.status().toString();
  for (int chunk : {1, 5, blockSize(), blockSize() + 3}) {
    EngineOptions chunked;
    chunked.maxTokensPerCall = chunk;
    auto engine = makeEngine(m, chunked);
    ASSERT_TRUE(engine);
    auto got = engine->score(ids);
    ASSERT_TRUE(got) << got.status().toString();
    EXPECT_EQ(got->logProbs, expected->logProbs) << "chunks of " << chunk;
    EXPECT_EQ(got->argmax, expected->argmax) << "chunks of " << chunk;
  }
}

INSTANTIATE_TEST_SUITE_P(Schemes, QuantizedKvEngineTest, ::testing::ValuesIn(schemes()),
                         [](const ::testing::TestParamInfo<Scheme> &info) {
                           return std::string(info.param.name);
                         });

} // namespace
