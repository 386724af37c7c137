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
inline std::unique_ptr<Engine> makeEngine(const TinyModel &m, EngineOptions options = {}) {
  options.backend = BackendKind::kHost;
  auto artifact = m.builder.load();
  EXPECT_TRUE(artifact) << artifact.status().toString();
  if (!artifact)
    return nullptr;
  auto engine = Engine::create(std::move(*artifact), options);
  EXPECT_TRUE(engine) << engine.status().toString();
  return engine ? std::move(*engine) : nullptr;
}

inline std::vector<int32_t> randomIds(std::mt19937 &rng, int count, int vocab) {
  std::vector<int32_t> ids(count);
  for (int32_t &id : ids)
    id = static_cast<int32_t>(rng() % vocab);
  return ids;
}

} // namespace qtc::rt::test

#endif // QTC_RT_TEST_TINYENGINE_H
