//===- RequestSchedulingTest.cpp - Continuous batching of Engine requests -===//
//
// addRequest/step/abortRequest on the host backend: a request's tokens equal
// generate() on its prompt alone whatever it shared its steps with, admission
// keeps the KV pool's promise (no append ever fails, nothing is preempted),
// and aborts, limits and bad requests behave as Engine.h says.
//
//===----------------------------------------------------------------------===//

#include "TinyEngine.h"

#include "qtc/rt/Engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

using namespace qtc::rt;
using namespace qtc::rt::test;
using ::testing::HasSubstr;

namespace {

struct Collected {
  std::map<RequestId, std::vector<int32_t>> tokens;
  std::map<RequestId, FinishReason> finish;
  std::map<RequestId, int64_t> cached;
  int steps = 0;
};

// Runs one step, checking each output against what came before.
void stepInto(Engine &engine, Collected &c) {
  auto outputs = engine.step();
  ASSERT_TRUE(outputs) << outputs.status().toString();
  ++c.steps;
  for (const RequestOutput &out : *outputs) {
    ASSERT_EQ(c.finish.count(out.id), 0u) << "request " << out.id << " went on after finishing";
    std::vector<int32_t> &tokens = c.tokens[out.id];
    tokens.insert(tokens.end(), out.newTokens.begin(), out.newTokens.end());
    EXPECT_EQ(out.generatedTokens, static_cast<int64_t>(tokens.size()));
    c.cached[out.id] = out.cachedPromptTokens;
    if (out.finished())
      c.finish[out.id] = out.finish;
  }
}

void runToCompletion(Engine &engine, Collected &c, int maxSteps = 10000) {
  while (engine.hasUnfinishedRequests() && c.steps < maxSteps)
    stepInto(engine, c);
  EXPECT_FALSE(engine.hasUnfinishedRequests());
}

std::vector<int32_t> generateAlone(Engine &engine, const std::vector<int32_t> &prompt,
                                   const RequestOptions &request) {
  GenerateOptions options;
  options.maxNewTokens = request.maxNewTokens;
  options.sampling = request.sampling;
  options.stopAtEos = request.stopAtEos;
  auto out = engine.generate({prompt}, options);
  EXPECT_TRUE(out) << out.status().toString();
  return out ? out->tokens[0] : std::vector<int32_t>{};
}

} // namespace

// Requests arriving while others decode, prompts longer than a call (their
// prefill split across steps and packed beside other requests' decode
// tokens), greedy and seeded sampling mixed in one call: every request gets
// the tokens it would get alone.
TEST(RequestScheduling, TokensEqualGenerateAloneUnderStaggeredArrivals) {
  TinyModel m = makeModel();
  EngineOptions engineOptions;
  engineOptions.maxTokensPerCall = 24;
  auto engine = makeEngine(m, engineOptions);
  ASSERT_TRUE(engine);
  std::mt19937 rng(11);
  struct Spec {
    std::vector<int32_t> prompt;
    RequestOptions options;
    RequestId id = -1;
  };
  std::vector<Spec> specs;
  for (int i = 0; i < 9; ++i) {
    Spec s;
    s.prompt = randomIds(rng, 1 + static_cast<int>(rng() % 45), m.shape.vocab);
    s.options.maxNewTokens = 1 + static_cast<int>(rng() % 20);
    s.options.stopAtEos = false;
    if (i % 3 == 1) {
      s.options.sampling.greedy = false;
      s.options.sampling.temperature = 1.3f;
      s.options.sampling.topK = i % 2 ? 0 : 8;
      s.options.sampling.seed = 100 + i;
    }
    specs.push_back(s);
  }
  Collected c;
  // Three arrive at once, then one more every other step.
  size_t next = 0;
  for (; next < 3; ++next) {
    auto id = engine->addRequest(specs[next].prompt, specs[next].options);
    ASSERT_TRUE(id) << id.status().toString();
    specs[next].id = *id;
  }
  while (engine->hasUnfinishedRequests() || next < specs.size()) {
    if (next < specs.size() && c.steps % 2 == 0) {
      auto id = engine->addRequest(specs[next].prompt, specs[next].options);
      ASSERT_TRUE(id);
      specs[next++].id = *id;
    }
    stepInto(*engine, c);
    ASSERT_LT(c.steps, 1000);
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(c.tokens[specs[i].id], generateAlone(*engine, specs[i].prompt, specs[i].options))
        << "request " << i;
    EXPECT_EQ(c.finish[specs[i].id], FinishReason::kLength);
  }
  EXPECT_EQ(engine->numFreeKvBlocks(), engine->numKvBlocks());
}

// A pool that holds only some requests' worst case at once: the others wait
// (first come, first served) and start as earlier ones finish; none fails.
TEST(RequestScheduling, AdmissionWaitsForKvRoomAndNeverPreempts) {
  TinyModel m = makeModel();
  EngineOptions engineOptions;
  engineOptions.numKvBlocks = 6; // 96 token slots
  auto engine = makeEngine(m, engineOptions);
  ASSERT_TRUE(engine);
  std::mt19937 rng(5);
  RequestOptions options;
  options.maxNewTokens = 20;
  options.stopAtEos = false;
  // 21 + 19 = 40 tokens: 3 blocks each, two fit.
  std::vector<std::vector<int32_t>> prompts;
  std::vector<RequestId> ids;
  for (int i = 0; i < 5; ++i) {
    prompts.push_back(randomIds(rng, 21, m.shape.vocab));
    auto id = engine->addRequest(prompts.back(), options);
    ASSERT_TRUE(id);
    ids.push_back(*id);
  }
  Collected c;
  stepInto(*engine, c);
  EXPECT_EQ(engine->numRunningRequests(), 2);
  EXPECT_EQ(engine->numWaitingRequests(), 3);
  int mostRunning = 0;
  while (engine->hasUnfinishedRequests()) {
    stepInto(*engine, c);
    mostRunning = std::max(mostRunning, engine->numRunningRequests());
    ASSERT_LT(c.steps, 1000);
  }
  EXPECT_EQ(mostRunning, 2);
  for (size_t i = 0; i < prompts.size(); ++i)
    EXPECT_EQ(c.tokens[ids[i]], generateAlone(*engine, prompts[i], options)) << "request " << i;
  EXPECT_EQ(engine->numFreeKvBlocks(), 6);

  // One that could never fit is refused when added, naming both sizes.
  options.maxNewTokens = 90;
  auto tooBig = engine->addRequest(randomIds(rng, 10, m.shape.vocab), options);
  ASSERT_FALSE(tooBig);
  EXPECT_EQ(tooBig.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(tooBig.status().message(), HasSubstr("needs 7 KV blocks, more than the pool's 6"));
}

TEST(RequestScheduling, MaxRunningRequestsBoundsTheBatch) {
  TinyModel m = makeModel();
  EngineOptions engineOptions;
  engineOptions.maxRunningRequests = 2;
  auto engine = makeEngine(m, engineOptions);
  ASSERT_TRUE(engine);
  RequestOptions options;
  options.maxNewTokens = 3;
  options.stopAtEos = false;
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(engine->addRequest({1, 2, static_cast<int32_t>(3 + i)}, options));
  Collected c;
  stepInto(*engine, c);
  EXPECT_EQ(engine->numRunningRequests(), 2);
  EXPECT_EQ(engine->numWaitingRequests(), 3);
  runToCompletion(*engine, c);
  EXPECT_EQ(c.finish.size(), 5u);
  for (const auto &[id, tokens] : c.tokens)
    EXPECT_EQ(tokens.size(), 3u) << "request " << id;

  engineOptions.maxRunningRequests = 0;
  auto artifact = m.builder.load();
  ASSERT_TRUE(artifact);
  engineOptions.backend = BackendKind::kHost;
  EXPECT_THAT(Engine::create(std::move(*artifact), engineOptions).status().message(),
              HasSubstr("maxRunningRequests must be at least 1"));
}

TEST(RequestScheduling, AbortFreesTheRequestAndLeavesOthersAlone) {
  TinyModel m = makeModel();
  auto engine = makeEngine(m);
  ASSERT_TRUE(engine);
  std::mt19937 rng(8);
  RequestOptions options;
  options.maxNewTokens = 12;
  options.stopAtEos = false;
  std::vector<int32_t> keep = randomIds(rng, 20, m.shape.vocab);
  auto kept = engine->addRequest(keep, options);
  auto running = engine->addRequest(randomIds(rng, 40, m.shape.vocab), options);
  ASSERT_TRUE(kept && running);
  Collected c;
  for (int i = 0; i < 4; ++i)
    stepInto(*engine, c);
  auto waiting = engine->addRequest(randomIds(rng, 5, m.shape.vocab), options);
  ASSERT_TRUE(waiting);
  const int usedBefore = engine->numKvBlocks() - engine->numFreeKvBlocks();
  ASSERT_TRUE(engine->abortRequest(*running).isOk());
  // The aborted request held 40 + 3 tokens (its 4th is never fed back): 3 blocks.
  EXPECT_EQ(engine->numKvBlocks() - engine->numFreeKvBlocks(), usedBefore - 3);
  ASSERT_TRUE(engine->abortRequest(*waiting).isOk());
  EXPECT_EQ(engine->numWaitingRequests(), 0);
  EXPECT_EQ(engine->abortRequest(*running).code(), StatusCode::kNotFound);
  EXPECT_THAT(engine->abortRequest(12345).message(), HasSubstr("no request 12345"));
  runToCompletion(*engine, c);
  EXPECT_EQ(c.tokens[*kept], generateAlone(*engine, keep, options));
  EXPECT_EQ(c.tokens[*running].size(), 4u); // nothing after the abort
  EXPECT_EQ(c.tokens.count(*waiting), 0u);
  EXPECT_EQ(engine->numFreeKvBlocks(), engine->numKvBlocks());
}

TEST(RequestScheduling, StopsAtEosWithItsReason) {
  std::vector<int32_t> prompt = {7, 3, 11, 2}, free;
  // The same model with its third greedy token as eos.
  TinyModel m = modelStoppingAt(prompt, 2, 10, free);
  auto engine = makeEngine(m);
  ASSERT_TRUE(engine);
  RequestOptions options;
  options.maxNewTokens = 10;
  auto id = engine->addRequest(prompt, options);
  ASSERT_TRUE(id);
  Collected c;
  runToCompletion(*engine, c);
  EXPECT_EQ(c.tokens[*id], upToEos(free, free[2]));
  EXPECT_EQ(c.finish[*id], FinishReason::kEos);
  EXPECT_STREQ(finishReasonName(FinishReason::kEos), "eos");
}

// With prefix caching, a request whose prompt starts like one that finished
// its prefill earlier reuses those blocks, and still gets its own tokens.
TEST(RequestScheduling, PrefixCachedBlocksServeLaterRequests) {
  TinyModel m = makeModel();
  EngineOptions engineOptions;
  engineOptions.prefixCaching = true;
  auto engine = makeEngine(m, engineOptions);
  ASSERT_TRUE(engine);
  std::mt19937 rng(13);
  std::vector<int32_t> shared = randomIds(rng, 40, m.shape.vocab);
  std::vector<int32_t> second = shared;
  second.resize(37); // two full blocks shared
  second.push_back(3);
  RequestOptions options;
  options.maxNewTokens = 8;
  options.stopAtEos = false;
  auto a = engine->addRequest(shared, options);
  ASSERT_TRUE(a);
  Collected c;
  stepInto(*engine, c); // a's prefill
  auto b = engine->addRequest(second, options);
  ASSERT_TRUE(b);
  runToCompletion(*engine, c);
  EXPECT_EQ(c.cached[*a], 0);
  EXPECT_EQ(c.cached[*b], 32);
  auto plain = makeEngine(m);
  ASSERT_TRUE(plain);
  EXPECT_EQ(c.tokens[*a], generateAlone(*plain, shared, options));
  EXPECT_EQ(c.tokens[*b], generateAlone(*plain, second, options));
  EXPECT_EQ(engine->numFreeKvBlocks() + engine->numPrefixCachedBlocks(), engine->numKvBlocks());
}

// generate() between steps uses the pool too; the running requests' room is
// made again (cached blocks it left evicted) before the next step.
TEST(RequestScheduling, GenerateBetweenStepsKeepsRequestsWhole) {
  TinyModel m = makeModel();
  EngineOptions engineOptions;
  engineOptions.prefixCaching = true;
  engineOptions.numKvBlocks = 8;
  auto engine = makeEngine(m, engineOptions);
  ASSERT_TRUE(engine);
  std::mt19937 rng(17);
  RequestOptions options;
  options.maxNewTokens = 30;
  options.stopAtEos = false;
  std::vector<int32_t> prompt = randomIds(rng, 34, m.shape.vocab); // 4 blocks at the end
  auto id = engine->addRequest(prompt, options);
  ASSERT_TRUE(id);
  Collected c;
  stepInto(*engine, c);
  stepInto(*engine, c);
  // The request holds 3 blocks (its prompt's 2 full ones also cached) and
  // may need a 4th; a generate of 80 tokens takes the other 5 and leaves
  // them all in the prefix cache.
  GenerateOptions generate;
  generate.maxNewTokens = 1;
  ASSERT_TRUE(engine->generate({randomIds(rng, 80, m.shape.vocab)}, generate));
  EXPECT_EQ(engine->numPrefixCachedBlocks(), 2 + 5);
  EXPECT_EQ(engine->numFreeKvBlocks(), 0);
  runToCompletion(*engine, c);
  EXPECT_EQ(c.tokens[*id], generateAlone(*engine, prompt, options));
}

TEST(RequestScheduling, RejectsBadRequests) {
  TinyModel m = makeModel();
  auto engine = makeEngine(m);
  ASSERT_TRUE(engine);
  RequestOptions options;
  EXPECT_THAT(engine->addRequest({}, options).status().message(), HasSubstr("is empty"));
  EXPECT_THAT(engine->addRequest({1, m.shape.vocab}, options).status().message(),
              HasSubstr("token 1 has id"));
  options.maxNewTokens = 0;
  EXPECT_THAT(engine->addRequest({1}, options).status().message(),
              HasSubstr("maxNewTokens must be at least 1"));
  options.maxNewTokens = m.shape.maxPositions + 1;
  EXPECT_THAT(engine->addRequest({1, 2}, options).status().message(),
              HasSubstr("exceeds the model's"));
  options.maxNewTokens = 4;
  options.sampling.greedy = false;
  options.sampling.temperature = -1;
  EXPECT_THAT(engine->addRequest({1}, options).status().message(),
              HasSubstr("temperature must be positive"));
  EXPECT_FALSE(engine->hasUnfinishedRequests());
  // Nothing queued: a step runs nothing.
  auto outputs = engine->step();
  ASSERT_TRUE(outputs);
  EXPECT_TRUE(outputs->empty());
}

// kMaxUtilization admits on the prompt alone and preempts the newest
// requests when a step does not fit: in a tight pool (a request arriving
// every step, each needing up to all 6 of its blocks), requests are
// preempted, prefilled again with their generated tokens, and still get
// exactly the tokens they would get alone, greedy or sampled.
TEST(RequestScheduling, MaxUtilizationPreemptsAndRecomputes) {
  TinyModel m = makeModel();
  EngineOptions engineOptions;
  engineOptions.numKvBlocks = 6; // 96 token slots; a request needs up to 6 blocks
  engineOptions.maxTokensPerCall = 32;
  engineOptions.capacityPolicy = EngineOptions::CapacityPolicy::kMaxUtilization;
  auto engine = makeEngine(m, engineOptions);
  ASSERT_TRUE(engine);
  std::mt19937 rng(23);
  std::vector<std::vector<int32_t>> prompts;
  std::vector<RequestOptions> options;
  std::vector<RequestId> ids;
  for (int i = 0; i < 10; ++i) {
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
  int mostRunning = 0;
  for (size_t i = 0; i < prompts.size() || engine->hasUnfinishedRequests();) {
    if (i < prompts.size()) {
      auto id = engine->addRequest(prompts[i], options[i]);
      ASSERT_TRUE(id) << id.status().toString();
      ids.push_back(*id);
      ++i;
    }
    stepInto(*engine, c);
    mostRunning = std::max(mostRunning, engine->numRunningRequests());
    ASSERT_LT(c.steps, 5000);
    // Never more blocks in use than the pool has (the allocator would have
    // failed an append), and all of them back at the end.
    ASSERT_GE(engine->numFreeKvBlocks(), 0);
  }
  EXPECT_GE(engine->numPreemptions(), 2);
  RecordProperty("preemptions", std::to_string(engine->numPreemptions()));
  RecordProperty("most_running", std::to_string(mostRunning));
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(c.tokens[ids[i]], generateAlone(*engine, prompts[i], options[i])) << "request " << i;
    EXPECT_EQ(c.finish[ids[i]], FinishReason::kLength);
  }
  EXPECT_EQ(engine->numFreeKvBlocks(), 6);

  // The same traffic under kGuaranteedNoEvict never preempts, and runs fewer
  // requests at once.
  engineOptions.capacityPolicy = EngineOptions::CapacityPolicy::kGuaranteedNoEvict;
  auto reserving = makeEngine(m, engineOptions);
  ASSERT_TRUE(reserving);
  Collected r;
  int mostReserved = 0;
  for (size_t i = 0; i < prompts.size(); ++i)
    ASSERT_TRUE(reserving->addRequest(prompts[i], options[i]));
  while (reserving->hasUnfinishedRequests()) {
    stepInto(*reserving, r);
    mostReserved = std::max(mostReserved, reserving->numRunningRequests());
    ASSERT_LT(r.steps, 5000);
  }
  EXPECT_EQ(reserving->numPreemptions(), 0);
  EXPECT_LT(mostReserved, mostRunning);
}
