//===- JitTest.cpp - Compile in process and run with the Engine -----------===//

#include "qtc/Pipeline/Jit.h"

#include <gtest/gtest.h>

#if defined(__SANITIZE_ADDRESS__)
#define QTC_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QTC_TEST_UNDER_ASAN 1
#endif
#endif
#ifndef QTC_TEST_UNDER_ASAN
#define QTC_TEST_UNDER_ASAN 0
#endif

namespace {

// The bundled model's greedy continuation of "In the beginning" (ids from the
// fp32 PyTorch reference, ../shared/models/kjv-llama-6m/reference.json), up to
// its first near tie.
const std::vector<int32_t> kPrompt = {1, 1016, 261, 2267};
const std::vector<int32_t> kGreedyPrefix = {271, 261, 639};

// The bundled model compiled in process (fp16, no GPU kernels) for the host
// backend.
std::unique_ptr<qtc::rt::Engine> compileForHost() {
  qtc::JitOptions options;
  options.recipe = "fp16";
  options.targets = {};
  options.engine.backend = qtc::rt::BackendKind::kHost;
  auto engine = qtc::jitCompile(QTC_BUNDLED_MODEL_DIR, options);
  EXPECT_TRUE(engine.isOk()) << engine.status().toString();
  return engine.isOk() ? std::move(*engine) : nullptr;
}

void expectGreedyPrefix(qtc::rt::Engine &engine, const std::vector<int32_t> &prompt) {
  qtc::rt::GenerateOptions gen;
  gen.maxNewTokens = static_cast<int>(kGreedyPrefix.size());
  auto out = engine.generate({prompt}, gen);
  ASSERT_TRUE(out.isOk()) << out.status().toString();
  EXPECT_EQ(out->tokens[0], kGreedyPrefix);
}

TEST(JitTest, CompilesAndGeneratesOnTheHost) {
  auto engine = compileForHost();
  ASSERT_TRUE(engine);
  expectGreedyPrefix(*engine, kPrompt);
}

// The JIT engine tokenizes in a process that also holds the ONNX importer's
// protobuf (3.21: this binary links libonnx); SentencePiece brings its own
// (3.14). Loaded plainly, the first tokenizer call aborted ("compiled against
// version 3.14.0 ...").
TEST(JitTest, TokenizesBesideTheOnnxImportersProtobuf) {
#if QTC_TEST_UNDER_ASAN
  GTEST_SKIP() << "AddressSanitizer refuses RTLD_DEEPBIND, which keeps the two protobufs apart";
#endif
  auto engine = compileForHost();
  ASSERT_TRUE(engine);
  auto ids = engine->encode("In the beginning");
  ASSERT_TRUE(ids.isOk()) << ids.status().toString();
  EXPECT_EQ(*ids, kPrompt);
  expectGreedyPrefix(*engine, *ids);
  auto text = engine->decode(kGreedyPrefix);
  ASSERT_TRUE(text.isOk()) << text.status().toString();
  EXPECT_FALSE(text->empty());
}

TEST(JitTest, CompileErrorsComeBackAsStatus) {
  qtc::JitOptions options;
  options.recipe = "w3a99";
  options.targets = {};
  auto engine = qtc::jitCompile(QTC_BUNDLED_MODEL_DIR, options);
  ASSERT_FALSE(engine.isOk());
  EXPECT_EQ(engine.status().code(), qtc::rt::StatusCode::kInvalidArgument);
  EXPECT_NE(engine.status().message().find("unknown recipe 'w3a99'"),
            std::string::npos)
      << engine.status().message();

  auto missing = qtc::jitCompile("/nonexistent/model", qtc::JitOptions{});
  ASSERT_FALSE(missing.isOk());
  EXPECT_NE(missing.status().message().find("/nonexistent/model"),
            std::string::npos)
      << missing.status().message();
}

} // namespace
