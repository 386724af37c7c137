//===- JitTest.cpp - Compile in process and run with the Engine -----------===//

#include "qtc/Pipeline/Jit.h"

#include <gtest/gtest.h>

namespace {

// The bundled model's greedy continuation of "In the beginning" (ids from the
// fp32 PyTorch reference, ../shared/models/kjv-llama-6m/reference.json), up to
// its first near tie.
const std::vector<int32_t> kPrompt = {1, 1016, 261, 2267};
const std::vector<int32_t> kGreedyPrefix = {271, 261, 639};

TEST(JitTest, CompilesAndGeneratesOnTheHost) {
  qtc::JitOptions options;
  options.recipe = "fp16";
  options.targets = {};
  options.engine.backend = qtc::rt::BackendKind::kHost;
  auto engine = qtc::jitCompile(QTC_BUNDLED_MODEL_DIR, options);
  ASSERT_TRUE(engine.isOk()) << engine.status().toString();

  qtc::rt::GenerateOptions gen;
  gen.maxNewTokens = static_cast<int>(kGreedyPrefix.size());
  auto out = (*engine)->generate({kPrompt}, gen);
  ASSERT_TRUE(out.isOk()) << out.status().toString();
  EXPECT_EQ(out->tokens[0], kGreedyPrefix);

  // No tokenizer in a JIT engine (see Jit.h): encode says so.
  auto ids = (*engine)->encode("In the beginning");
  EXPECT_FALSE(ids.isOk());
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
