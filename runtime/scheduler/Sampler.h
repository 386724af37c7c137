//===- Sampler.h - Picks the next token from logits -----------------------===//
//
// The one sampling implementation: every backend hands its logits to it
// (greedy without penalties stays on the backend, qtc/rt/GreedyArgmax.h).
// In vLLM's order: repetition, presence and frequency penalties on the
// logits; logits / temperature; min-p; top-k; top-p; a draw. Each draw is
// one uniform from a counter-based generator keyed by (seed, stream, token
// index), so it needs no state and is the same with every standard library
// and whatever batch the sequence runs in.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_SCHEDULER_SAMPLER_H
#define QTC_RT_SCHEDULER_SAMPLER_H

#include "qtc/rt/Engine.h"

#include <cstdint>
#include <vector>

namespace qtc::rt {

// log softmax(logits)[id], computed in double.
double logProbability(const float *logits, int vocab, int32_t id);

// A uniform double in [0, 1) from 53 bits of a hash of (seed, stream, index).
double samplingUniform(uint64_t seed, uint64_t stream, uint64_t index);

class Sampler {
public:
  // `stream` separates the sequences of one call (requests use 0).
  Sampler(const SamplingOptions &options, uint64_t stream);
  // The next token after `prompt` + `output` (the tokens generated so far;
  // its size is the token index of the draw).
  int32_t next(const float *logits, int vocab, const std::vector<int32_t> &prompt,
               const std::vector<int32_t> &output);
  // The probabilities next() draws from, over the whole vocabulary (0 for
  // tokens it cannot pick); for tests and logprobs of the processed
  // distribution. Greedy: 1 at the argmax.
  std::vector<double> distribution(const float *logits, int vocab,
                                   const std::vector<int32_t> &prompt,
                                   const std::vector<int32_t> &output);

private:
  // logits with the penalties applied, into penalized_.
  void applyPenalties(const float *logits, int vocab, const std::vector<int32_t> &prompt,
                      const std::vector<int32_t> &output);
  // Tokens it may pick with their unnormalized weights, most likely first
  // (ties: lower id first), into order_ / weights_.
  void candidates(int vocab);

  SamplingOptions options_;
  uint64_t stream_;
  std::vector<float> penalized_;
  std::vector<int32_t> order_;
  std::vector<double> weights_;
};

} // namespace qtc::rt

#endif // QTC_RT_SCHEDULER_SAMPLER_H
