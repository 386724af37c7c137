//===- CApiStreamingTest.cpp - Stop conditions, callbacks, logprobs in C --===//
//
// qtc_request_options through the C API: a stop string found across token
// boundaries (never emitted), a stop token (kept in the tokens, its text not
// emitted), cancellation from the per-token callback beside a running
// request, and logprobs equal to the C++ API's. The artifact is a random
// tiny Llama with the bundled model's tokenizer, so text is real
// SentencePiece text.
//
//===----------------------------------------------------------------------===//

#include "LlamaArtifact.h"
#include "TestArtifactBuilder.h"

#include "qtc/rt/Engine.h"
#include "qtc/rt/qtc_runtime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>

using namespace qtc::rt;
using namespace qtc::rt::test;
using ::testing::HasSubstr;

namespace {

const std::string kTokenizer = std::string(QTC_TEST_MODELS_DIR) + "/kjv-llama-6m/tokenizer.model";

// What the C API gave one request over its steps.
struct Collected {
  std::vector<int32_t> tokens;
  std::string text;
  std::vector<qtc_finish_reason> finishes; // per output
  std::vector<float> logprobs;
  std::vector<std::vector<qtc_token_logprob>> top;
  qtc_finish_reason finish() const { return finishes.empty() ? QTC_FINISH_NONE : finishes.back(); }
};

class CApiStreamingTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::ifstream in(kTokenizer, std::ios::binary);
    ASSERT_TRUE(in) << "cannot read " << kTokenizer;
    TestArtifactBuilder builder;
    LlamaShape shape;
    shape.vocab = 4096; // the tokenizer's
    addLlama(builder, shape, randomLlamaWeights(shape, 11), {});
    builder.artifact().tokenizer_model.assign(std::istreambuf_iterator<char>(in),
                                              std::istreambuf_iterator<char>());
    path_ = ::testing::TempDir() + "capi_streaming_" +
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
    ASSERT_EQ(qtc_request_options_create(&request_), QTC_OK);
    ASSERT_EQ(qtc_request_options_set_stop_at_eos(request_, 0), QTC_OK);
    ASSERT_EQ(qtc_request_options_set_detokenize(request_, 1), QTC_OK);
    prompt_ = *cpp_->encode("In the beginning God");
  }
  void TearDown() override {
    qtc_request_options_destroy(request_);
    qtc_engine_destroy(engine_);
    std::remove(path_.c_str());
  }

  qtc_request_id add(const qtc_request_options *options) {
    qtc_request_id id = -1;
    EXPECT_EQ(qtc_add_request_with_options(engine_, prompt_.data(),
                                           static_cast<int>(prompt_.size()), options, &id),
              QTC_OK)
        << qtc_last_error();
    return id;
  }

  // Steps until no request is left, collecting each output (and checking
  // that qtc_step_output agrees with qtc_step's array).
  std::map<qtc_request_id, Collected> runAll() {
    std::map<qtc_request_id, Collected> all;
    std::vector<qtc_request_output> outputs(qtc_engine_max_running(engine_));
    for (int steps = 0; qtc_engine_unfinished_requests(engine_) > 0 && steps < 200; ++steps) {
      int count = 0;
      EXPECT_EQ(qtc_step(engine_, outputs.data(), static_cast<int>(outputs.size()), &count),
                QTC_OK)
          << qtc_last_error();
      for (int i = 0; i < count; ++i) {
        const qtc_token_output *out = qtc_step_output(engine_, i);
        EXPECT_NE(out, nullptr);
        if (!out)
          continue;
        EXPECT_EQ(out->struct_size, sizeof(qtc_token_output));
        EXPECT_EQ(out->id, outputs[i].id);
        EXPECT_EQ(out->token, outputs[i].token);
        EXPECT_EQ(out->finish, outputs[i].finish);
        EXPECT_EQ(out->text_length, std::strlen(out->text));
        Collected &c = all[out->id];
        if (out->token >= 0)
          c.tokens.push_back(out->token);
        c.text.append(out->text, out->text_length);
        c.finishes.push_back(out->finish);
        c.logprobs.push_back(out->logprob);
        c.top.emplace_back(out->top_logprobs, out->top_logprobs + out->num_top_logprobs);
      }
      EXPECT_EQ(qtc_step_output(engine_, count), nullptr);
    }
    return all;
  }

  std::string decode(const std::vector<int32_t> &ids) { return *cpp_->decode(ids); }

  // 24 tokens of the prompt's sampled continuation, unconstrained.
  std::vector<int32_t> freeTokens() {
    qtc_request_options *options = nullptr;
    EXPECT_EQ(qtc_request_options_create(&options), QTC_OK);
    qtc_request_options_set_max_new_tokens(options, 24);
    qtc_request_options_set_stop_at_eos(options, 0);
    qtc_request_options_set_sampling(options, &sampling_);
    const qtc_request_id id = add(options);
    qtc_request_options_destroy(options);
    return runAll()[id].tokens;
  }

  std::string path_;
  qtc_engine *engine_ = nullptr;
  qtc_request_options *request_ = nullptr;
  std::unique_ptr<Engine> cpp_;
  std::vector<int32_t> prompt_;
  qtc_sampling sampling_ = [] {
    qtc_sampling s;
    qtc_sampling_init(&s);
    s.greedy = 0;
    s.temperature = 1.0f;
    s.seed = 4;
    return s;
  }();
};

} // namespace

TEST_F(CApiStreamingTest, StopStringAcrossTokensEndsTheRequestAndIsNotEmitted) {
  const std::vector<int32_t> all = freeTokens();
  ASSERT_EQ(all.size(), 24u);
  const std::string whole = decode(all);
  // A stop string of 2 bytes before and 2 after a token boundary (past the
  // first few tokens), where the text of the tokens so far is a prefix of
  // the whole text.
  std::string stop;
  size_t at = std::string::npos, boundary = 0;
  for (size_t k = 4; k + 2 < all.size() && at == std::string::npos; ++k) {
    const std::string head = decode(std::vector<int32_t>(all.begin(), all.begin() + k));
    if (head.size() < 2 || whole.compare(0, head.size(), head) != 0 ||
        whole.size() < head.size() + 2)
      continue;
    const std::string candidate = whole.substr(head.size() - 2, 4);
    bool ascii = true;
    for (char ch : candidate)
      ascii &= static_cast<unsigned char>(ch) < 0x80;
    if (!ascii || whole.find(candidate) != head.size() - 2)
      continue;
    stop = candidate;
    at = head.size() - 2;
    boundary = k;
  }
  ASSERT_NE(at, std::string::npos) << "no stop string spanning tokens in '" << whole << "'";
  // The stop string is complete after the first token whose text reaches its end.
  size_t last = boundary;
  while (decode(std::vector<int32_t>(all.begin(), all.begin() + last)).size() < at + stop.size())
    ++last;

  const char *stops[] = {"never in this text \x01", stop.c_str()};
  ASSERT_EQ(qtc_request_options_set_stop_strings(request_, stops, 2), QTC_OK);
  ASSERT_EQ(qtc_request_options_set_max_new_tokens(request_, 24), QTC_OK);
  ASSERT_EQ(qtc_request_options_set_sampling(request_, &sampling_), QTC_OK);
  const qtc_request_id id = add(request_);
  const Collected got = runAll()[id];
  EXPECT_EQ(got.finish(), QTC_FINISH_STOP);
  EXPECT_EQ(got.text, whole.substr(0, at)) << "stop string '" << stop << "' in '" << whole << "'";
  EXPECT_EQ(got.tokens, std::vector<int32_t>(all.begin(), all.begin() + last));
  EXPECT_LT(last, all.size());
}

TEST_F(CApiStreamingTest, StopTokenIsKeptInTheTokensButNotInTheText) {
  const std::vector<int32_t> all = freeTokens();
  ASSERT_EQ(all.size(), 24u);
  const int32_t stopId = all[5];
  const size_t first = std::find(all.begin(), all.end(), stopId) - all.begin();
  ASSERT_EQ(qtc_request_options_set_stop_token_ids(request_, &stopId, 1), QTC_OK);
  ASSERT_EQ(qtc_request_options_set_max_new_tokens(request_, 24), QTC_OK);
  ASSERT_EQ(qtc_request_options_set_sampling(request_, &sampling_), QTC_OK);
  const qtc_request_id id = add(request_);
  const Collected got = runAll()[id];
  EXPECT_EQ(got.finish(), QTC_FINISH_STOP);
  EXPECT_EQ(got.tokens, std::vector<int32_t>(all.begin(), all.begin() + first + 1));
  EXPECT_EQ(got.text, decode(std::vector<int32_t>(all.begin(), all.begin() + first)));
  // Ids outside the vocabulary are refused when the request is added.
  const int32_t bad = 4096;
  ASSERT_EQ(qtc_request_options_set_stop_token_ids(request_, &bad, 1), QTC_OK);
  qtc_request_id ignored = -1;
  EXPECT_EQ(qtc_add_request_with_options(engine_, prompt_.data(), static_cast<int>(prompt_.size()),
                                         request_, &ignored),
            QTC_INVALID_ARGUMENT);
  EXPECT_THAT(qtc_last_error(), HasSubstr("stopTokenIds"));
}

namespace {

struct CallbackState {
  std::vector<int32_t> seen;
  std::string text;
  int cancelAt = 0;
};

int cancelAtCount(const qtc_token_output *out, void *userData) {
  auto *state = static_cast<CallbackState *>(userData);
  state->seen.push_back(out->token);
  state->text.append(out->text, out->text_length);
  return static_cast<int>(state->seen.size()) < state->cancelAt;
}

} // namespace

TEST_F(CApiStreamingTest, CallbackCancelsItsRequestBesideARunningOne) {
  const int totalBlocks = qtc_engine_kv_blocks(engine_);
  EXPECT_GT(totalBlocks, 0);
  EXPECT_EQ(qtc_engine_free_kv_blocks(engine_), totalBlocks);
  CallbackState state;
  state.cancelAt = 3;
  ASSERT_EQ(qtc_request_options_set_max_new_tokens(request_, 12), QTC_OK);
  ASSERT_EQ(qtc_request_options_set_callback(request_, cancelAtCount, &state), QTC_OK);
  const qtc_request_id cancelled = add(request_);
  // The other request: greedy, 12 tokens, no callback.
  ASSERT_EQ(qtc_request_options_set_callback(request_, nullptr, nullptr), QTC_OK);
  const qtc_request_id other = add(request_);
  auto all = runAll();
  EXPECT_EQ(state.seen, all[cancelled].tokens);
  EXPECT_EQ(state.seen.size(), 3u);
  EXPECT_EQ(state.text, all[cancelled].text) << "the callback sees the step's text";
  EXPECT_EQ(all[cancelled].finish(), QTC_FINISH_ABORTED);
  EXPECT_EQ(all[cancelled].finishes,
            (std::vector<qtc_finish_reason>{QTC_FINISH_NONE, QTC_FINISH_NONE, QTC_FINISH_ABORTED}));
  EXPECT_EQ(all[other].finish(), QTC_FINISH_LENGTH) << "the other request goes on";
  GenerateOptions generate;
  generate.maxNewTokens = 12;
  generate.stopAtEos = false;
  auto alone = cpp_->generate({prompt_}, generate);
  ASSERT_TRUE(alone);
  EXPECT_EQ(all[other].tokens, alone->tokens[0]);
  EXPECT_EQ(std::vector<int32_t>(alone->tokens[0].begin(), alone->tokens[0].begin() + 3),
            state.seen);
  EXPECT_EQ(qtc_engine_free_kv_blocks(engine_), totalBlocks) << "the cancelled request's KV is freed";
}

TEST_F(CApiStreamingTest, LogprobsEqualTheCppApis) {
  qtc_sampling sampling = sampling_;
  sampling.temperature = 0.9f;
  sampling.top_p = 0.95f;
  sampling.repetition_penalty = 1.2f;
  sampling.seed = 17;
  ASSERT_EQ(qtc_request_options_set_max_new_tokens(request_, 10), QTC_OK);
  ASSERT_EQ(qtc_request_options_set_sampling(request_, &sampling), QTC_OK);
  ASSERT_EQ(qtc_request_options_set_logprobs(request_, 4), QTC_OK);
  const qtc_request_id id = add(request_);
  const Collected got = runAll()[id];

  RequestOptions options;
  options.maxNewTokens = 10;
  options.stopAtEos = false;
  options.logprobs = 4;
  options.detokenize = true;
  options.sampling.greedy = false;
  options.sampling.temperature = 0.9f;
  options.sampling.topP = 0.95f;
  options.sampling.repetitionPenalty = 1.2f;
  options.sampling.seed = 17;
  const RequestId cppId = cpp_->addRequest(prompt_, options).value();
  std::vector<RequestOutput> expected;
  while (cpp_->hasUnfinishedRequests()) {
    auto step = cpp_->step();
    ASSERT_TRUE(step) << step.status().toString();
    for (RequestOutput &out : *step)
      if (out.id == cppId)
        expected.push_back(std::move(out));
  }
  ASSERT_EQ(got.tokens.size(), expected.size());
  std::string text;
  for (size_t t = 0; t < expected.size(); ++t) {
    EXPECT_EQ(got.tokens[t], expected[t].newTokens.at(0));
    EXPECT_EQ(got.logprobs[t], expected[t].logprob) << "token " << t;
    ASSERT_EQ(got.top[t].size(), 4u);
    ASSERT_EQ(expected[t].topLogprobs.size(), 4u);
    for (int k = 0; k < 4; ++k) {
      EXPECT_EQ(got.top[t][k].id, expected[t].topLogprobs[k].id);
      EXPECT_EQ(got.top[t][k].logprob, expected[t].topLogprobs[k].logprob);
    }
    EXPECT_LE(got.logprobs[t], 0.0f);
    text += expected[t].newText;
  }
  EXPECT_EQ(got.text, text);
  EXPECT_EQ(got.finish(), QTC_FINISH_LENGTH);

  // Without logprobs, none come.
  ASSERT_EQ(qtc_request_options_set_logprobs(request_, -1), QTC_OK);
  const qtc_request_id plain = add(request_);
  const Collected none = runAll()[plain];
  EXPECT_EQ(none.tokens, got.tokens);
  for (const auto &top : none.top)
    EXPECT_TRUE(top.empty());
}

TEST_F(CApiStreamingTest, BadOptionsAreRefusedWithMessages) {
  const char *empty[] = {"ok", ""};
  EXPECT_EQ(qtc_request_options_set_stop_strings(request_, empty, 2), QTC_INVALID_ARGUMENT);
  EXPECT_THAT(qtc_last_error(), HasSubstr("string 1 is null or empty"));
  EXPECT_EQ(qtc_request_options_set_stop_strings(request_, nullptr, 1), QTC_INVALID_ARGUMENT);
  EXPECT_EQ(qtc_request_options_set_stop_token_ids(request_, nullptr, -1), QTC_INVALID_ARGUMENT);
  EXPECT_EQ(qtc_request_options_set_logprobs(request_, -2), QTC_INVALID_ARGUMENT);
  EXPECT_EQ(qtc_request_options_set_max_new_tokens(request_, 0), QTC_INVALID_ARGUMENT);
  EXPECT_EQ(qtc_request_options_set_max_new_tokens(nullptr, 4), QTC_INVALID_ARGUMENT);
  EXPECT_EQ(qtc_request_options_create(nullptr), QTC_INVALID_ARGUMENT);
  EXPECT_EQ(qtc_step_output(engine_, 0), nullptr) << "no step ran";
  EXPECT_EQ(qtc_step_output(nullptr, 0), nullptr);

  qtc_request_id id = -1;
  ASSERT_EQ(qtc_request_options_set_logprobs(request_, 4097), QTC_OK);
  EXPECT_EQ(qtc_add_request_with_options(engine_, prompt_.data(), static_cast<int>(prompt_.size()),
                                         request_, &id),
            QTC_INVALID_ARGUMENT);
  EXPECT_THAT(qtc_last_error(), HasSubstr("exceeds the vocabulary"));
  EXPECT_EQ(qtc_add_request_with_options(engine_, nullptr, 3, request_, &id),
            QTC_INVALID_ARGUMENT);
  // NULL options: the defaults (32 greedy tokens).
  ASSERT_EQ(qtc_add_request_with_options(engine_, prompt_.data(), static_cast<int>(prompt_.size()),
                                         nullptr, &id),
            QTC_OK)
      << qtc_last_error();
  const Collected got = runAll()[id];
  EXPECT_TRUE(got.text.empty()) << "no text unless asked for";
  EXPECT_TRUE(got.finish() == QTC_FINISH_LENGTH ? got.tokens.size() == 32u
                                                : got.finish() == QTC_FINISH_EOS);
}

// An artifact without a tokenizer refuses stop strings when the request is added.
TEST(CApiStreaming, StopStringsNeedATokenizer) {
  TestArtifactBuilder builder;
  addLlama(builder, LlamaShape{}, randomLlamaWeights(LlamaShape{}, 5), {});
  const std::string path = ::testing::TempDir() + "capi_streaming_no_tokenizer.qtc";
  ASSERT_TRUE(builder.writeTo(path));
  qtc_engine_options options;
  qtc_engine_options_init(&options);
  options.backend = QTC_BACKEND_HOST;
  qtc_engine *engine = nullptr;
  ASSERT_EQ(qtc_engine_create(path.c_str(), &options, &engine), QTC_OK) << qtc_last_error();
  qtc_request_options *request = nullptr;
  ASSERT_EQ(qtc_request_options_create(&request), QTC_OK);
  const char *stops[] = {"x"};
  ASSERT_EQ(qtc_request_options_set_stop_strings(request, stops, 1), QTC_OK);
  const int32_t prompt[] = {1, 5, 9};
  qtc_request_id id = -1;
  EXPECT_EQ(qtc_add_request_with_options(engine, prompt, 3, request, &id), QTC_FAILED_PRECONDITION);
  EXPECT_THAT(qtc_last_error(), HasSubstr("need a tokenizer"));
  EXPECT_EQ(qtc_engine_unfinished_requests(engine), 0);
  qtc_request_options_destroy(request);
  qtc_engine_destroy(engine);
  std::remove(path.c_str());
}
