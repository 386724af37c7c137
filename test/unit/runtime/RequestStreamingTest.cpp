//===- RequestStreamingTest.cpp - Stop conditions, callbacks, logprobs ----===//
//
// Requests end at a stop token, at a stop string found across token
// boundaries (the string itself never emitted), or when their per-token
// callback cancels them; logprobs are the model's.
//
//===----------------------------------------------------------------------===//

#include "TinyEngine.h"

#include "scheduler/OutputText.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

using namespace qtc::rt;
using namespace qtc::rt::test;
using ::testing::HasSubstr;

namespace {

TEST(OutputText, StopStringAcrossTokensIsFoundAndNotEmitted) {
  OutputText text({"lo w"});
  bool stopped = false;
  std::string emitted;
  // Pieces arrive as tokens decode: "Hel", "lo", " wor".
  emitted += text.advance("Hel", false, stopped);
  EXPECT_FALSE(stopped);
  EXPECT_EQ(emitted, ""); // could begin "lo w"
  emitted += text.advance("Hello", false, stopped);
  EXPECT_FALSE(stopped);
  EXPECT_EQ(emitted, "He");
  emitted += text.advance("Hello wor", false, stopped);
  EXPECT_TRUE(stopped);
  EXPECT_EQ(emitted, "Hel");
}

TEST(OutputText, HeldBackTextComesOutWhenNoStopStringCanStartInIt) {
  OutputText text({"END", "xy"});
  bool stopped = false;
  std::string emitted = text.advance("abcdef", false, stopped);
  EXPECT_EQ(emitted, "abcd");
  emitted += text.advance("abcdefgh", true, stopped); // finishing: nothing held
  EXPECT_FALSE(stopped);
  EXPECT_EQ(emitted, "abcdefgh");
}

TEST(OutputText, NeverCutsAUtf8Character) {
  OutputText text({"zz"});
  bool stopped = false;
  // "aé" is 'a', 0xC3, 0xA9: holding back one byte must not split the é.
  EXPECT_EQ(text.advance("a\xC3\xA9", false, stopped), "a");
  EXPECT_EQ(text.advance("a\xC3\xA9!", false, stopped), "\xC3\xA9");
}

// Byte-fallback pieces of one character decode to U+FFFD until the last
// byte arrives; what was emitted must stay a prefix of the final text.
TEST(OutputText, HoldsBackAReplacementCharacterUntilItsBytesArrive) {
  OutputText text({});
  bool stopped = false;
  std::string emitted = text.advance("a\xEF\xBF\xBD", false, stopped);
  EXPECT_EQ(emitted, "a");
  emitted += text.advance("a\xEF\xBF\xBD\xEF\xBF\xBD", false, stopped);
  EXPECT_EQ(emitted, "a");
  emitted += text.advance("a\xE2\x82\xAC", false, stopped); // the euro sign, complete
  EXPECT_EQ(emitted, "a\xE2\x82\xAC");
  // Finishing gives what is there, replacement characters included.
  emitted += text.advance("a\xE2\x82\xAC\xEF\xBF\xBD", true, stopped);
  EXPECT_EQ(emitted, "a\xE2\x82\xAC\xEF\xBF\xBD");
}

TEST(OutputText, WithoutStopStringsEverythingIsEmitted) {
  OutputText text({});
  bool stopped = false;
  EXPECT_EQ(text.advance("one", false, stopped), "one");
  EXPECT_EQ(text.advance("one two", false, stopped), " two");
  EXPECT_FALSE(stopped);
}

std::map<RequestId, std::vector<RequestOutput>> runAll(Engine &engine) {
  std::map<RequestId, std::vector<RequestOutput>> outputs;
  while (engine.hasUnfinishedRequests()) {
    auto step = engine.step();
    EXPECT_TRUE(step) << step.status().toString();
    if (!step)
      break;
    for (RequestOutput &out : *step)
      outputs[out.id].push_back(std::move(out));
  }
  return outputs;
}

std::vector<int32_t> tokensOf(const std::vector<RequestOutput> &outs) {
  std::vector<int32_t> tokens;
  for (const RequestOutput &o : outs)
    tokens.insert(tokens.end(), o.newTokens.begin(), o.newTokens.end());
  return tokens;
}

RequestOptions greedy(int n) {
  RequestOptions r;
  r.maxNewTokens = n;
  r.stopAtEos = false;
  return r;
}

const std::vector<int32_t> kPrompt = {1, 5, 9, 2};

TEST(RequestStreaming, StopTokenEndsTheRequestWithTheTokenKept) {
  TinyModel m = makeModel();
  auto engine = makeEngine(m);
  ASSERT_TRUE(engine);
  const RequestId free = engine->addRequest(kPrompt, greedy(10)).value();
  const std::vector<int32_t> all = tokensOf(runAll(*engine)[free]);
  ASSERT_EQ(all.size(), 10u);
  const size_t at = 3;
  const size_t first = std::find(all.begin(), all.end(), all[at]) - all.begin();

  RequestOptions r = greedy(10);
  r.stopTokenIds = {all[at]};
  const RequestId id = engine->addRequest(kPrompt, r).value();
  auto outs = runAll(*engine)[id];
  EXPECT_EQ(tokensOf(outs), std::vector<int32_t>(all.begin(), all.begin() + first + 1));
  EXPECT_EQ(outs.back().finish, FinishReason::kStop);
  EXPECT_STREQ(finishReasonName(FinishReason::kStop), "stop");
}

TEST(RequestStreaming, CallbackSeesEveryTokenAndCancels) {
  TinyModel m = makeModel();
  auto engine = makeEngine(m);
  ASSERT_TRUE(engine);
  const int freeBlocks = engine->numFreeKvBlocks();
  std::vector<int32_t> seen;
  RequestOptions cancelled = greedy(12);
  cancelled.onToken = [&](const RequestOutput &out) {
    seen.insert(seen.end(), out.newTokens.begin(), out.newTokens.end());
    return seen.size() < 3; // cancel at the third token
  };
  const RequestId a = engine->addRequest(kPrompt, cancelled).value();
  const RequestId b = engine->addRequest({1, 4, 4}, greedy(12)).value();
  auto outs = runAll(*engine);
  EXPECT_EQ(seen, tokensOf(outs[a]));
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_EQ(outs[a].back().finish, FinishReason::kAborted);
  EXPECT_EQ(tokensOf(outs[b]).size(), 12u) << "the other request goes on";
  EXPECT_EQ(outs[b].back().finish, FinishReason::kLength);
  EXPECT_EQ(engine->numFreeKvBlocks(), freeBlocks) << "the cancelled request's KV is freed";
}

TEST(RequestStreaming, LogprobsAreTheModelsLogSoftmax) {
  TinyModel m = makeModel();
  auto engine = makeEngine(m);
  ASSERT_TRUE(engine);
  RequestOptions r = greedy(6);
  r.logprobs = 5;
  const RequestId id = engine->addRequest(kPrompt, r).value();
  auto outs = runAll(*engine)[id];
  ASSERT_EQ(outs.size(), 6u);
  std::vector<int32_t> context = kPrompt;
  for (const RequestOutput &out : outs) {
    ASSERT_EQ(out.topLogprobs.size(), 5u);
    // Greedy: the chosen token is the most likely one.
    EXPECT_EQ(out.topLogprobs[0].id, out.newTokens[0]);
    EXPECT_FLOAT_EQ(out.topLogprobs[0].logprob, out.logprob);
    double mass = 0;
    for (size_t i = 0; i < out.topLogprobs.size(); ++i) {
      if (i) {
        EXPECT_LE(out.topLogprobs[i].logprob, out.topLogprobs[i - 1].logprob);
      }
      mass += std::exp(out.topLogprobs[i].logprob);
    }
    EXPECT_LE(mass, 1.0 + 1e-5);
    // The same figure score() gives for that token after the context.
    std::vector<int32_t> ids = context;
    ids.push_back(out.newTokens[0]);
    auto scored = engine->score(ids);
    ASSERT_TRUE(scored) << scored.status().toString();
    EXPECT_NEAR(scored->logProbs.back(), out.logprob, 1e-4);
    context.push_back(out.newTokens[0]);
  }
  // The tokens are those of a request without logprobs.
  const RequestId plain = engine->addRequest(kPrompt, greedy(6)).value();
  EXPECT_EQ(tokensOf(runAll(*engine)[plain]), tokensOf(outs));
}

TEST(RequestStreaming, BadStopConditionsAreRefused) {
  TinyModel m = makeModel();
  auto engine = makeEngine(m);
  ASSERT_TRUE(engine);
  RequestOptions r = greedy(4);
  r.stopStrings = {""};
  auto empty = engine->addRequest(kPrompt, r);
  ASSERT_FALSE(empty);
  EXPECT_THAT(empty.status().message(), HasSubstr("stop string is empty"));
  r.stopStrings = {"x"};
  auto noTokenizer = engine->addRequest(kPrompt, r);
  ASSERT_FALSE(noTokenizer) << "the test artifact carries no tokenizer";
  r.stopStrings.clear();
  r.stopTokenIds = {-1};
  EXPECT_FALSE(engine->addRequest(kPrompt, r));
}

} // namespace
