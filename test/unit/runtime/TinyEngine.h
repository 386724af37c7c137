//===- TinyEngine.h - A random tiny Llama artifact on a host Engine -------===//
//
// The setup the Engine suites share: a tiny Llama-shaped artifact with random
// weights (LlamaArtifact.h), an Engine on the host backend over it, and
// random prompts.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_TEST_TINYENGINE_H
#define QTC_RT_TEST_TINYENGINE_H

#include "LlamaArtifact.h"
#include "TestArtifactBuilder.h"

#include "qtc/rt/Engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

namespace qtc::rt::test {

struct TinyModel {
  LlamaShape shape;
  LlamaWeights stored; // as the artifact holds them
  TestArtifactBuilder builder;
};

inline TinyModel makeModel(const LlamaArtifactOptions &options = {}, uint32_t seed = 3) {
  TinyModel m;
  m.stored = addLlama(m.builder, m.shape, randomLlamaWeights(m.shape, seed), options);
  return m;
}

// An Engine on the host backend; null (with a test failure) if it cannot be made.
inline std::unique_ptr<Engine> makeEngine(const TestArtifactBuilder &builder,
                                          EngineOptions options = {}) {
  options.backend = BackendKind::kHost;
  auto artifact = builder.load();
  EXPECT_TRUE(artifact) << artifact.status().toString();
  if (!artifact)
    return nullptr;
  auto engine = Engine::create(std::move(*artifact), options);
  EXPECT_TRUE(engine) << engine.status().toString();
  return engine ? std::move(*engine) : nullptr;
}

inline std::unique_ptr<Engine> makeEngine(const TinyModel &m, EngineOptions options = {}) {
  return makeEngine(m.builder, options);
}

// The same model, rebuilt with its `index`-th greedy token after `prompt`
// as eos (so generation stops there); `free` receives the tokens generated
// without stopping.
inline TinyModel modelStoppingAt(const std::vector<int32_t> &prompt, int index, int maxNewTokens,
                                 std::vector<int32_t> &free) {
  free.clear();
  TinyModel probe = makeModel();
  if (auto engine = makeEngine(probe)) {
    GenerateOptions options;
    options.maxNewTokens = maxNewTokens;
    options.stopAtEos = false;
    auto out = engine->generate({prompt}, options);
    EXPECT_TRUE(out) << out.status().toString();
    if (out)
      free = out->tokens[0];
  }
  EXPECT_GT(free.size(), static_cast<size_t>(index));
  LlamaArtifactOptions artifactOptions;
  artifactOptions.eosId = free.size() > static_cast<size_t>(index) ? free[index] : 0;
  return makeModel(artifactOptions);
}

// `tokens` up to and including the first `eos`.
inline std::vector<int32_t> upToEos(const std::vector<int32_t> &tokens, int32_t eos) {
  auto at = std::find(tokens.begin(), tokens.end(), eos);
  return std::vector<int32_t>(tokens.begin(), at == tokens.end() ? at : at + 1);
}

inline std::vector<int32_t> randomIds(std::mt19937 &rng, int count, int vocab) {
  std::vector<int32_t> ids(count);
  for (int32_t &id : ids)
    id = static_cast<int32_t>(rng() % vocab);
  return ids;
}

} // namespace qtc::rt::test

#endif // QTC_RT_TEST_TINYENGINE_H
