//===- Sampler.cpp - Picks the next token from logits ---------------------===//

#include "scheduler/Sampler.h"

#include "qtc/rt/GreedyArgmax.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

namespace qtc::rt {
namespace {

uint64_t splitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

} // namespace

double logProbability(const float *logits, int vocab, int32_t id) {
  double maxLogit = logits[0];
  for (int i = 1; i < vocab; ++i)
    maxLogit = std::max(maxLogit, static_cast<double>(logits[i]));
  double sum = 0;
  for (int i = 0; i < vocab; ++i)
    sum += std::exp(static_cast<double>(logits[i]) - maxLogit);
  return static_cast<double>(logits[id]) - maxLogit - std::log(sum);
}

double samplingUniform(uint64_t seed, uint64_t stream, uint64_t index) {
  const uint64_t bits = splitMix64(splitMix64(splitMix64(seed) ^ stream) ^ index);
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

Sampler::Sampler(const SamplingOptions &options, uint64_t stream)
    : options_(options), stream_(stream) {}

void Sampler::applyPenalties(const float *logits, int vocab, const std::vector<int32_t> &prompt,
                             const std::vector<int32_t> &output) {
  penalized_.assign(logits, logits + vocab);
  if (!options_.hasPenalties())
    return;
  std::unordered_map<int32_t, int> outputCounts;
  for (int32_t id : output)
    ++outputCounts[id];
  if (options_.repetitionPenalty != 1.0f) {
    auto penalize = [&](int32_t id) {
      float &l = penalized_[id];
      l = l > 0 ? l / options_.repetitionPenalty : l * options_.repetitionPenalty;
    };
    std::vector<bool> seen(vocab, false);
    for (const std::vector<int32_t> *ids : {&prompt, &output})
      for (int32_t id : *ids)
        if (id >= 0 && id < vocab && !seen[id]) {
          seen[id] = true;
          penalize(id);
        }
  }
  for (const auto &[id, count] : outputCounts) {
    if (id < 0 || id >= vocab)
      continue;
    penalized_[id] -= options_.frequencyPenalty * static_cast<float>(count) +
                      options_.presencePenalty;
  }
}

void Sampler::candidates(int vocab) {
  const float *logits = penalized_.data();
  order_.resize(vocab);
  std::iota(order_.begin(), order_.end(), 0);
  auto moreLikely = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  // min-p, top-k and top-p each keep a prefix of the tokens by likelihood,
  // so only the top-k prefix needs sorting.
  int keep = options_.topK > 0 ? std::min(options_.topK, vocab) : vocab;
  std::partial_sort(order_.begin(), order_.begin() + keep, order_.end(), moreLikely);
  const double maxLogit = logits[order_[0]];
  weights_.resize(keep);
  for (int i = 0; i < keep; ++i)
    weights_[i] = std::exp((logits[order_[i]] - maxLogit) / options_.temperature);
  // min-p: weights_[0], the most likely token's, is 1.
  if (options_.minP > 0)
    while (keep > 1 && weights_[keep - 1] < options_.minP)
      --keep;
  if (options_.topP < 1.0f) {
    const double kept = std::accumulate(weights_.begin(), weights_.begin() + keep, 0.0);
    // The fewest most likely tokens whose share of what is kept reaches topP.
    double cumulative = 0;
    int n = 0;
    while (n < keep && (n == 0 || cumulative < options_.topP * kept))
      cumulative += weights_[n++];
    keep = n;
  }
  order_.resize(keep);
  weights_.resize(keep);
}

int32_t Sampler::next(const float *logits, int vocab, const std::vector<int32_t> &prompt,
                      const std::vector<int32_t> &output) {
  if (options_.argmaxOnly())
    return greedyArgmax(logits, vocab);
  applyPenalties(logits, vocab, prompt, output);
  if (options_.greedy)
    return greedyArgmax(penalized_.data(), vocab);
  candidates(vocab);
  const double total = std::accumulate(weights_.begin(), weights_.end(), 0.0);
  const double u = samplingUniform(options_.seed, stream_, output.size()) * total;
  double cumulative = 0;
  for (size_t i = 0; i < weights_.size(); ++i) {
    cumulative += weights_[i];
    if (u < cumulative)
      return order_[i];
  }
  return order_.back();
}

std::vector<double> Sampler::distribution(const float *logits, int vocab,
                                          const std::vector<int32_t> &prompt,
                                          const std::vector<int32_t> &output) {
  std::vector<double> p(vocab, 0.0);
  applyPenalties(logits, vocab, prompt, output);
  if (options_.greedy) {
    p[greedyArgmax(penalized_.data(), vocab)] = 1.0;
    return p;
  }
  candidates(vocab);
  const double total = std::accumulate(weights_.begin(), weights_.end(), 0.0);
  for (size_t i = 0; i < order_.size(); ++i)
    p[order_[i]] = weights_[i] / total;
  return p;
}

} // namespace qtc::rt
