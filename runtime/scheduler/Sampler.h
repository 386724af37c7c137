//===- Sampler.h - Picks the next token from logits -----------------------===//
//
// Greedy (qtc/rt/GreedyArgmax.h: lowest id on ties) or temperature + top-k sampling from a
// per-sequence std::mt19937_64, turned into uniforms by hand so a seed gives
// the same tokens with every standard library.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_SCHEDULER_SAMPLER_H
#define QTC_RT_SCHEDULER_SAMPLER_H

#include "qtc/rt/Engine.h"

#include <cstdint>
#include <random>
#include <vector>

namespace qtc::rt {

// log softmax(logits)[id], computed in double.
double logProbability(const float *logits, int vocab, int32_t id);

class Sampler {
public:
  // `stream` separates the sequences of one call.
  Sampler(const SamplingOptions &options, uint64_t stream);
  int32_t next(const float *logits, int vocab);

private:
  SamplingOptions options_;
  std::mt19937_64 rng_;
  std::vector<int32_t> order_;
};

} // namespace qtc::rt

#endif // QTC_RT_SCHEDULER_SAMPLER_H
