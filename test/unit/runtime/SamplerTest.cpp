//===- SamplerTest.cpp - The runtime's one sampling implementation --------===//
//
// Sampled tokens follow the distribution the options define (chi-square on
// many draws against probabilities computed here from vLLM's definitions:
// penalties, temperature, min-p, top-k, top-p), tokens outside it are never
// drawn, a request's tokens do not depend on what runs beside it, and bad
// options are refused.
//
//===----------------------------------------------------------------------===//

#include "TinyEngine.h"

#include "scheduler/Sampler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

using namespace qtc::rt;
using namespace qtc::rt::test;
using ::testing::HasSubstr;

namespace {

const std::vector<float> kLogits = {2.0f, 1.5f, -0.5f, 0.7f, 1.9f, -2.0f, 0.1f, 1.0f, -1.0f, 0.4f};
const std::vector<int32_t> kPrompt = {3, 7};
const std::vector<int32_t> kOutput = {0, 4, 4, 8};

// vLLM's processing, written out plainly: the probability of every token.
std::vector<double> expectedProbabilities(const SamplingOptions &o, std::vector<float> logits,
                                          const std::vector<int32_t> &prompt,
                                          const std::vector<int32_t> &output) {
  const int vocab = static_cast<int>(logits.size());
  std::vector<int> counts(vocab, 0);
  for (int32_t id : output)
    ++counts[id];
  for (int id = 0; id < vocab; ++id) {
    bool seen = counts[id] > 0 || std::count(prompt.begin(), prompt.end(), id) > 0;
    if (seen)
      logits[id] = logits[id] > 0 ? logits[id] / o.repetitionPenalty : logits[id] * o.repetitionPenalty;
    logits[id] -= o.frequencyPenalty * counts[id] + (counts[id] > 0 ? o.presencePenalty : 0.0f);
  }
  std::vector<double> p(vocab);
  const double maxLogit = *std::max_element(logits.begin(), logits.end());
  for (int id = 0; id < vocab; ++id)
    p[id] = std::exp((logits[id] - maxLogit) / o.temperature);
  const double pmax = *std::max_element(p.begin(), p.end());
  std::vector<int> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p[a] > p[b]; });
  std::vector<bool> kept(vocab, true);
  for (int r = 0; r < vocab; ++r) {
    const int id = order[r];
    if (o.minP > 0 && p[id] < o.minP * pmax && r > 0)
      kept[id] = false;
    if (o.topK > 0 && r >= o.topK)
      kept[id] = false;
  }
  if (o.topP < 1) {
    double total = 0;
    for (int id = 0; id < vocab; ++id)
      total += kept[id] ? p[id] : 0;
    double before = 0; // mass of the more likely kept tokens
    for (int r = 0; r < vocab; ++r) {
      const int id = order[r];
      if (!kept[id])
        continue;
      if (r > 0 && before >= o.topP * total)
        kept[id] = false;
      before += p[id];
    }
  }
  double total = 0;
  for (int id = 0; id < vocab; ++id)
    total += kept[id] ? p[id] : 0;
  for (int id = 0; id < vocab; ++id)
    p[id] = kept[id] ? p[id] / total : 0;
  return p;
}

// Upper chi-square quantile at tail probability 1e-4 (Wilson-Hilferty).
double chiSquareCritical(int df) {
  const double z = 3.719, a = 2.0 / (9.0 * df);
  return df * std::pow(1 - a + z * std::sqrt(a), 3);
}

// Draws `n` tokens, each from its own stream, and checks them against the
// expected distribution: no draw outside it, and a chi-square below the
// 1e-4 critical value.
void expectDrawsFollow(const SamplingOptions &options) {
  const std::vector<double> want = expectedProbabilities(options, kLogits, kPrompt, kOutput);
  const int vocab = static_cast<int>(kLogits.size());
  {
    Sampler sampler(options, 0);
    const std::vector<double> got = sampler.distribution(kLogits.data(), vocab, kPrompt, kOutput);
    for (int id = 0; id < vocab; ++id)
      EXPECT_NEAR(got[id], want[id], 1e-9) << "token " << id;
  }
  const int n = 40000;
  std::vector<int> counts(vocab, 0);
  for (int i = 0; i < n; ++i) {
    Sampler sampler(options, static_cast<uint64_t>(i));
    const int32_t id = sampler.next(kLogits.data(), vocab, kPrompt, kOutput);
    ASSERT_GE(id, 0);
    ASSERT_LT(id, vocab);
    ++counts[id];
  }
  double chi = 0;
  int support = 0;
  for (int id = 0; id < vocab; ++id) {
    if (want[id] == 0) {
      EXPECT_EQ(counts[id], 0) << "token " << id << " is outside the distribution";
      continue;
    }
    ++support;
    const double e = want[id] * n;
    chi += (counts[id] - e) * (counts[id] - e) / e;
  }
  ASSERT_GE(support, 2) << "the case must leave a choice to test";
  EXPECT_LT(chi, chiSquareCritical(support - 1)) << "over " << support << " tokens";
}

SamplingOptions sampled(float temperature) {
  SamplingOptions o;
  o.greedy = false;
  o.temperature = temperature;
  o.seed = 11;
  return o;
}

TEST(Sampler, TemperatureDrawsFollowTheSoftmax) {
  expectDrawsFollow(sampled(1.0f));
  expectDrawsFollow(sampled(0.6f));
}

TEST(Sampler, TopKDrawsFollowTheRenormalizedSoftmax) {
  SamplingOptions o = sampled(0.9f);
  o.topK = 4;
  expectDrawsFollow(o);
}

TEST(Sampler, TopPKeepsTheFewestTokensHoldingP) {
  SamplingOptions o = sampled(1.0f);
  o.topP = 0.7f;
  expectDrawsFollow(o);
  o.topK = 3;
  expectDrawsFollow(o);
}

TEST(Sampler, MinPDropsTokensFarLessLikelyThanTheMostLikely) {
  SamplingOptions o = sampled(1.0f);
  o.minP = 0.3f;
  expectDrawsFollow(o);
}

TEST(Sampler, PenaltiesFollowVllmsDefinitions) {
  SamplingOptions o = sampled(1.0f);
  o.repetitionPenalty = 1.8f;
  expectDrawsFollow(o);
  o.repetitionPenalty = 1.0f;
  o.presencePenalty = 0.8f;
  expectDrawsFollow(o);
  o.presencePenalty = 0.0f;
  o.frequencyPenalty = 0.5f;
  expectDrawsFollow(o);
  o.repetitionPenalty = 1.3f;
  o.presencePenalty = 0.2f;
  o.topP = 0.9f;
  o.minP = 0.05f;
  expectDrawsFollow(o);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  SamplingOptions o; // greedy: the argmax of the penalized logits
  o.repetitionPenalty = 2.0f;
  Sampler sampler(o, 0);
  // 0 -> 1.0, 4 -> 0.95, 3 (prompt) -> 0.35, 7 (prompt) -> 0.5: unseen 1 (1.5) wins.
  EXPECT_EQ(sampler.next(kLogits.data(), 10, kPrompt, kOutput), 1);
  std::vector<double> p = sampler.distribution(kLogits.data(), 10, kPrompt, kOutput);
  EXPECT_EQ(p[1], 1.0);
  // Negative logits are multiplied: token 8 (-1.0, in the output) goes to -2.0.
  const std::vector<float> negative = {-1.0f, -1.5f};
  EXPECT_EQ(sampler.next(negative.data(), 2, {}, {0}), 1);
}

TEST(Sampler, EachDrawDependsOnlyOnSeedStreamAndIndex) {
  SamplingOptions o = sampled(1.0f);
  Sampler a(o, 0), b(o, 0);
  std::vector<int32_t> first, second;
  for (int t = 0; t < 64; ++t) {
    first.push_back(a.next(kLogits.data(), 10, {}, std::vector<int32_t>(t, 9)));
    // b draws other things in between: it holds no state.
    (void)b.next(kLogits.data(), 10, {}, std::vector<int32_t>(t + 1000, 9));
    second.push_back(b.next(kLogits.data(), 10, {}, std::vector<int32_t>(t, 9)));
  }
  EXPECT_EQ(first, second);
  EXPECT_GT(std::set<int32_t>(first.begin(), first.end()).size(), 2u);
  EXPECT_NE(samplingUniform(1, 0, 5), samplingUniform(2, 0, 5));
  EXPECT_NE(samplingUniform(1, 0, 5), samplingUniform(1, 1, 5));
  EXPECT_NE(samplingUniform(1, 0, 5), samplingUniform(1, 0, 6));
}

RequestOptions sampledRequest(uint64_t seed) {
  RequestOptions r;
  r.maxNewTokens = 12;
  r.stopAtEos = false;
  r.sampling = sampled(1.2f);
  r.sampling.topP = 0.95f;
  r.sampling.repetitionPenalty = 1.1f;
  r.sampling.seed = seed;
  return r;
}

std::map<RequestId, std::vector<int32_t>> runAll(Engine &engine) {
  std::map<RequestId, std::vector<int32_t>> tokens;
  while (engine.hasUnfinishedRequests()) {
    auto outputs = engine.step();
    EXPECT_TRUE(outputs) << outputs.status().toString();
    if (!outputs)
      break;
    for (const RequestOutput &out : *outputs)
      tokens[out.id].insert(tokens[out.id].end(), out.newTokens.begin(), out.newTokens.end());
  }
  return tokens;
}

TEST(Sampler, RequestTokensDoNotDependOnTheBatchAroundThem) {
  TinyModel m = makeModel();
  auto engine = makeEngine(m);
  ASSERT_TRUE(engine);
  const std::vector<int32_t> prompt = {1, 5, 9, 2};
  auto alone = engine->addRequest(prompt, sampledRequest(42));
  ASSERT_TRUE(alone);
  auto aloneTokens = runAll(*engine)[*alone];
  ASSERT_EQ(aloneTokens.size(), 12u);

  // The same request among others that arrive before it, with other seeds
  // and other prompts, at other positions of the batch.
  engine->addRequest({1, 3}, sampledRequest(1)).value();
  engine->addRequest({1, 7, 7, 7, 7, 7}, sampledRequest(2)).value();
  auto crowded = engine->addRequest(prompt, sampledRequest(42));
  ASSERT_TRUE(crowded);
  engine->addRequest({1, 4, 4}, sampledRequest(3)).value();
  auto crowdedTokens = runAll(*engine)[*crowded];
  EXPECT_EQ(crowdedTokens, aloneTokens);

  // Another seed draws other tokens.
  auto other = engine->addRequest(prompt, sampledRequest(43));
  ASSERT_TRUE(other);
  EXPECT_NE(runAll(*engine)[*other], aloneTokens);
}

TEST(Sampler, BadOptionsAreRefused) {
  TinyModel m = makeModel();
  auto engine = makeEngine(m);
  ASSERT_TRUE(engine);
  auto refused = [&](auto set, const char *message) {
    RequestOptions r = sampledRequest(0);
    set(r.sampling);
    auto id = engine->addRequest({1, 2}, r);
    ASSERT_FALSE(id);
    EXPECT_THAT(id.status().message(), HasSubstr(message));
  };
  refused([](SamplingOptions &s) { s.topP = 0; }, "topP");
  refused([](SamplingOptions &s) { s.topP = 1.5f; }, "topP");
  refused([](SamplingOptions &s) { s.minP = -0.1f; }, "minP");
  refused([](SamplingOptions &s) { s.repetitionPenalty = 0; }, "repetitionPenalty");
  refused([](SamplingOptions &s) { s.presencePenalty = NAN; }, "presence");
}

} // namespace
