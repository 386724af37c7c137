//===- CApiTest.cpp - The C API against the C++ Engine --------------------===//

#include "LlamaArtifact.h"
#include "TestArtifactBuilder.h"

#include "qtc/rt/Engine.h"
#include "qtc/rt/qtc_runtime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

using namespace qtc::rt;
using namespace qtc::rt::test;
using ::testing::HasSubstr;

namespace {

class CApiTest : public ::testing::Test {
protected:
  void SetUp() override {
    LlamaShape shape;
    TestArtifactBuilder builder;
    addLlama(builder, shape, randomLlamaWeights(shape, 5), {});
    path_ = ::testing::TempDir() + "capi_test_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".qtc";
    ASSERT_TRUE(builder.writeTo(path_));
    qtc_engine_options options;
    qtc_engine_options_init(&options);
    options.backend = QTC_BACKEND_HOST;
    ASSERT_EQ(qtc_engine_create(path_.c_str(), &options, &engine_), QTC_OK) << qtc_last_error();
    EngineOptions cppOptions;
    cppOptions.backend = BackendKind::kHost;
    auto cpp = Engine::create(path_, cppOptions);
    ASSERT_TRUE(cpp) << cpp.status().toString();
    cpp_ = std::move(*cpp);
  }
  void TearDown() override {
    qtc_engine_destroy(engine_);
    std::remove(path_.c_str());
  }

  std::string path_;
  qtc_engine *engine_ = nullptr;
  std::unique_ptr<Engine> cpp_;
};

} // namespace

TEST_F(CApiTest, DescribesEngine) {
  EXPECT_STREQ(qtc_engine_backend_name(engine_), "host");
  EXPECT_EQ(qtc_engine_vocab_size(engine_), 96);
}

TEST_F(CApiTest, GenerateMatchesCppEngine) {
  const std::vector<int32_t> a = {1, 17, 33, 4}, b = {1, 60};
  const int32_t *prompts[] = {a.data(), b.data()};
  const int32_t lengths[] = {4, 2};
  qtc_sampling sampling;
  qtc_sampling_init(&sampling);
  EXPECT_EQ(sampling.greedy, 1);
  const int maxNew = 12;
  std::vector<int32_t> tokens(2 * maxNew, -1);
  int32_t counts[2] = {0, 0};
  ASSERT_EQ(qtc_generate(engine_, prompts, lengths, 2, maxNew, &sampling, /*stop_at_eos=*/0,
                         tokens.data(), counts),
            QTC_OK)
      << qtc_last_error();
  EXPECT_STREQ(qtc_last_error(), "");
  GenerateOptions options;
  options.maxNewTokens = maxNew;
  options.stopAtEos = false;
  auto expected = cpp_->generate({a, b}, options);
  ASSERT_TRUE(expected);
  for (int p = 0; p < 2; ++p) {
    ASSERT_EQ(counts[p], maxNew);
    EXPECT_EQ(std::vector<int32_t>(tokens.begin() + p * maxNew, tokens.begin() + (p + 1) * maxNew),
              expected->tokens[p]);
  }
}

// Samples per prompt and prefix caching through the C API give what the
// C++ Engine gives.
TEST_F(CApiTest, SamplesAndPrefixCachingMatchCppEngine) {
  std::vector<int32_t> a(40);
  for (int i = 0; i < 40; ++i)
    a[i] = 1 + (i * 7) % 90;
  const int32_t *prompts[] = {a.data()};
  const int32_t lengths[] = {40};
  qtc_sampling sampling;
  qtc_sampling_init(&sampling);
  sampling.greedy = 0;
  sampling.temperature = 1.2f;
  sampling.seed = 3;
  const int maxNew = 8, samples = 3;
  std::vector<int32_t> tokens(samples * maxNew, -1);
  int32_t counts[samples] = {};
  ASSERT_EQ(qtc_engine_set_prefix_caching(engine_, 1), QTC_OK) << qtc_last_error();
  for (int call = 0; call < 2; ++call) {
    ASSERT_EQ(qtc_generate_samples(engine_, prompts, lengths, 1, samples, maxNew, &sampling,
                                   /*stop_at_eos=*/0, tokens.data(), counts),
              QTC_OK)
        << qtc_last_error();
    GenerateOptions options;
    options.maxNewTokens = maxNew;
    options.stopAtEos = false;
    options.samplesPerPrompt = samples;
    options.sampling.greedy = false;
    options.sampling.temperature = 1.2f;
    options.sampling.seed = 3;
    auto expected = cpp_->generate({a}, options);
    ASSERT_TRUE(expected);
    for (int j = 0; j < samples; ++j) {
      ASSERT_EQ(counts[j], maxNew);
      EXPECT_EQ(std::vector<int32_t>(tokens.begin() + j * maxNew, tokens.begin() + (j + 1) * maxNew),
                expected->tokens[j])
          << "call " << call << " sample " << j;
    }
  }
  EXPECT_EQ(qtc_engine_prefix_cached_blocks(engine_), 2); // 40 tokens: 2 full blocks
  ASSERT_EQ(qtc_engine_set_prefix_caching(engine_, 0), QTC_OK);
  EXPECT_EQ(qtc_engine_prefix_cached_blocks(engine_), 0);
  EXPECT_EQ(qtc_engine_set_prefix_caching(nullptr, 1), QTC_INVALID_ARGUMENT);
}

TEST_F(CApiTest, PerplexityAndScoreMatchCppEngine) {
  std::vector<int32_t> tokens;
  for (int i = 0; i < 90; ++i)
    tokens.push_back((i * 37 + 11) % 96);
  double ppl = 0;
  ASSERT_EQ(qtc_perplexity(engine_, tokens.data(), 90, 32, 0, &ppl), QTC_OK) << qtc_last_error();
  PerplexityOptions options;
  options.window = 32;
  auto expected = cpp_->perplexity(tokens, options);
  ASSERT_TRUE(expected);
  EXPECT_DOUBLE_EQ(ppl, expected->perplexity);
  EXPECT_GT(ppl, 1.0);

  std::vector<int32_t> argmax(20);
  std::vector<float> logprobs(19);
  ASSERT_EQ(qtc_score(engine_, tokens.data(), 20, argmax.data(), logprobs.data()), QTC_OK);
  auto scored = cpp_->score(std::vector<int32_t>(tokens.begin(), tokens.begin() + 20));
  ASSERT_TRUE(scored);
  EXPECT_EQ(argmax, scored->argmax);
  EXPECT_EQ(logprobs, scored->logProbs);
}

TEST_F(CApiTest, ErrorsAreCodesWithMessages) {
  qtc_engine *missing = nullptr;
  EXPECT_EQ(qtc_engine_create("/nonexistent/model.qtc", nullptr, &missing), QTC_NOT_FOUND);
  EXPECT_EQ(missing, nullptr);
  EXPECT_THAT(qtc_last_error(), HasSubstr("cannot open '/nonexistent/model.qtc'"));

  int32_t id = 500;
  const int32_t *prompts[] = {&id};
  const int32_t lengths[] = {1};
  int32_t out[4], counts[1];
  EXPECT_EQ(qtc_generate(engine_, prompts, lengths, 1, 4, nullptr, 1, out, counts),
            QTC_INVALID_ARGUMENT);
  EXPECT_THAT(qtc_last_error(), HasSubstr("id 500 outside the vocabulary of 96"));

  int count = 0;
  EXPECT_EQ(qtc_encode(engine_, "hello", nullptr, 0, &count), QTC_FAILED_PRECONDITION);
  EXPECT_THAT(qtc_last_error(), HasSubstr("carries no tokenizer"));
  EXPECT_EQ(qtc_generate(nullptr, prompts, lengths, 1, 4, nullptr, 1, out, counts),
            QTC_INVALID_ARGUMENT);
}

TEST_F(CApiTest, RequestsMatchCppEngine) {
  const std::vector<int32_t> a = {1, 17, 33, 4, 9, 12}, b = {1, 60};
  qtc_sampling sampling;
  qtc_sampling_init(&sampling);
  sampling.greedy = 0;
  sampling.temperature = 1.2f;
  sampling.seed = 9;
  ASSERT_EQ(qtc_engine_set_max_running(engine_, 4), QTC_OK);
  EXPECT_EQ(qtc_engine_max_running(engine_), 4);
  qtc_request_id first = -1, second = -1;
  ASSERT_EQ(qtc_add_request(engine_, a.data(), 6, 7, nullptr, 0, &first), QTC_OK)
      << qtc_last_error();
  ASSERT_EQ(qtc_add_request(engine_, b.data(), 2, 5, &sampling, 0, &second), QTC_OK);
  EXPECT_EQ(qtc_engine_unfinished_requests(engine_), 2);

  std::map<qtc_request_id, std::vector<int32_t>> tokens;
  std::map<qtc_request_id, qtc_finish_reason> finish;
  qtc_request_output outputs[4];
  int count = 0;
  EXPECT_EQ(qtc_step(engine_, outputs, 3, &count), QTC_INVALID_ARGUMENT);
  EXPECT_THAT(qtc_last_error(), HasSubstr("room for 3 outputs, but up to 4 requests"));
  for (int steps = 0; qtc_engine_unfinished_requests(engine_) > 0 && steps < 100; ++steps) {
    ASSERT_EQ(qtc_step(engine_, outputs, 4, &count), QTC_OK) << qtc_last_error();
    for (int i = 0; i < count; ++i) {
      tokens[outputs[i].id].push_back(outputs[i].token);
      EXPECT_EQ(outputs[i].generated_tokens, static_cast<int64_t>(tokens[outputs[i].id].size()));
      if (outputs[i].finish != QTC_FINISH_NONE)
        finish[outputs[i].id] = outputs[i].finish;
    }
  }
  EXPECT_EQ(finish[first], QTC_FINISH_LENGTH);
  EXPECT_EQ(finish[second], QTC_FINISH_LENGTH);

  GenerateOptions options;
  options.stopAtEos = false;
  options.maxNewTokens = 7;
  auto greedy = cpp_->generate({a}, options);
  options.maxNewTokens = 5;
  options.sampling.greedy = false;
  options.sampling.temperature = 1.2f;
  options.sampling.seed = 9;
  auto sampled = cpp_->generate({b}, options);
  ASSERT_TRUE(greedy && sampled);
  EXPECT_EQ(tokens[first], greedy->tokens[0]);
  EXPECT_EQ(tokens[second], sampled->tokens[0]);

  // Aborting: a queued request is gone, an unknown one is an error.
  qtc_request_id third = -1;
  ASSERT_EQ(qtc_add_request(engine_, a.data(), 6, 3, nullptr, 1, &third), QTC_OK);
  EXPECT_EQ(qtc_abort_request(engine_, third), QTC_OK);
  EXPECT_EQ(qtc_engine_unfinished_requests(engine_), 0);
  EXPECT_EQ(qtc_abort_request(engine_, third), QTC_NOT_FOUND);
  EXPECT_THAT(qtc_last_error(), HasSubstr("no request"));
  EXPECT_EQ(qtc_engine_set_max_running(engine_, 0), QTC_INVALID_ARGUMENT);
  EXPECT_EQ(qtc_add_request(engine_, a.data(), 6, 0, nullptr, 1, &third), QTC_INVALID_ARGUMENT);
  EXPECT_THAT(qtc_last_error(), HasSubstr("maxNewTokens must be at least 1"));
}

// Preemption through the C API: in a pool of 4 blocks, two requests of 20
// prompt tokens (2 blocks each) are both admitted, but at 20 + 19 tokens
// (3 blocks each) they no longer fit together: one is preempted, and both
// still give the C++ engine's tokens.
TEST_F(CApiTest, PreemptionKeepsTokens) {
  qtc_engine_options options;
  qtc_engine_options_init(&options);
  options.backend = QTC_BACKEND_HOST;
  options.num_kv_blocks = 4;
  qtc_engine *small = nullptr;
  ASSERT_EQ(qtc_engine_create(path_.c_str(), &options, &small), QTC_OK) << qtc_last_error();
  ASSERT_EQ(qtc_engine_set_preemption(small, 1), QTC_OK);
  std::vector<int32_t> a(20), b(20);
  for (int i = 0; i < 20; ++i) {
    a[i] = 1 + (7 * i) % 90;
    b[i] = 1 + (11 * i + 3) % 90;
  }
  qtc_request_id ids[2];
  ASSERT_EQ(qtc_add_request(small, a.data(), 20, 20, nullptr, 0, &ids[0]), QTC_OK);
  ASSERT_EQ(qtc_add_request(small, b.data(), 20, 20, nullptr, 0, &ids[1]), QTC_OK);
  std::map<qtc_request_id, std::vector<int32_t>> tokens;
  std::vector<qtc_request_output> outputs(qtc_engine_max_running(small));
  int count = 0;
  for (int steps = 0; qtc_engine_unfinished_requests(small) > 0 && steps < 200; ++steps) {
    ASSERT_EQ(qtc_step(small, outputs.data(), static_cast<int>(outputs.size()), &count), QTC_OK)
        << qtc_last_error();
    for (int i = 0; i < count; ++i)
      tokens[outputs[i].id].push_back(outputs[i].token);
  }
  EXPECT_GE(qtc_engine_preemptions(small), 1);
  GenerateOptions generate;
  generate.maxNewTokens = 20;
  generate.stopAtEos = false;
  auto alone = cpp_->generate({a, b}, generate);
  ASSERT_TRUE(alone);
  EXPECT_EQ(tokens[ids[0]], alone->tokens[0]);
  EXPECT_EQ(tokens[ids[1]], alone->tokens[1]);
  qtc_engine_destroy(small);
}
