//===- Sampler.cpp - Picks the next token from logits ---------------------===//

#include "scheduler/Sampler.h"

#include "qtc/rt/GreedyArgmax.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace qtc::rt {

double logProbability(const float *logits, int vocab, int32_t id) {
  double maxLogit = logits[0];
  for (int i = 1; i < vocab; ++i)
    maxLogit = std::max(maxLogit, static_cast<double>(logits[i]));
  double sum = 0;
  for (int i = 0; i < vocab; ++i)
    sum += std::exp(static_cast<double>(logits[i]) - maxLogit);
  return static_cast<double>(logits[id]) - maxLogit - std::log(sum);
}

Sampler::Sampler(const SamplingOptions &options, uint64_t stream)
    : options_(options),
      rng_(options.seed ^ (0x9e3779b97f4a7c15ull * (stream + 1))) {}

int32_t Sampler::next(const float *logits, int vocab) {
  if (options_.greedy)
    return greedyArgmax(logits, vocab);
  int k = options_.topK > 0 ? std::min(options_.topK, vocab) : vocab;
  order_.resize(vocab);
  std::iota(order_.begin(), order_.end(), 0);
  auto moreLikely = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  std::partial_sort(order_.begin(), order_.begin() + k, order_.end(), moreLikely);
  const double maxLogit = logits[order_[0]];
  std::vector<double> weights(k);
  double total = 0;
  for (int i = 0; i < k; ++i) {
    weights[i] = std::exp((logits[order_[i]] - maxLogit) / options_.temperature);
    total += weights[i];
  }
  // 53 random bits -> a uniform double in [0, 1).
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * total;
  double cumulative = 0;
  for (int i = 0; i < k; ++i) {
    cumulative += weights[i];
    if (u < cumulative)
      return order_[i];
  }
  return order_[k - 1];
}

} // namespace qtc::rt
