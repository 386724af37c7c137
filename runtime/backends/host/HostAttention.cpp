//===- HostAttention.cpp - Paged KV cache, RoPE and attention on the host -===//

#include "HostAttention.h"

#include "HostVectorize.h"

#include "qtc/rt/Float16.h"
#include "qtc/rt/Float8.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>

namespace qtc::rt::host {

void HostKvCache::allocate(int numLayers, const AttentionShape &shape, int numBlocks,
                           fb::KvDType dtype) {
  shape_ = shape;
  numBlocks_ = numBlocks;
  dtype_ = dtype;
  const size_t perLayer = static_cast<size_t>(numBlocks) * shape.numKvHeads * shape.blockSize *
                          shape.headDim;
  keys_.assign(numLayers, std::vector<float>(perLayer, 0.0f));
  values_.assign(numLayers, std::vector<float>(perLayer, 0.0f));
  errors_.assign(numLayers, ErrorSums());
}

float HostKvCache::round(float value) const {
  switch (dtype_) {
  case fb::KvDType::F16:
    return roundToHalf(value);
  case fb::KvDType::F8E4M3:
    return roundToE4M3(value);
  case fb::KvDType::F32:
    return value;
  }
  return value;
}

void HostKvCache::store(int layer, int block, int kvHead, int slot, const float *k,
                        const float *v) {
  const int hd = shape_.headDim;
  ErrorSums &sums = errors_[layer];
  float *dst[2] = {keys(layer, block, kvHead) + slot * hd, values(layer, block, kvHead) + slot * hd};
  const float *src[2] = {k, v};
  for (int which = 0; which < 2; ++which)
    for (int i = 0; i < hd; ++i) {
      const float stored = round(src[which][i]);
      const double error = static_cast<double>(stored) - src[which][i];
      dst[which][i] = stored;
      sums.signal[which] += static_cast<double>(src[which][i]) * src[which][i];
      sums.noise[which] += error * error;
      sums.maxError[which] = std::max(sums.maxError[which], static_cast<float>(std::fabs(error)));
    }
  sums.count += hd;
}

std::vector<KvLayerNumerics> HostKvCache::numerics() const {
  auto sqnrDb = [](double signal, double noise) {
    return noise > 0 ? 10.0 * std::log10(signal / noise) : INFINITY;
  };
  std::vector<KvLayerNumerics> out;
  for (const ErrorSums &sums : errors_) {
    KvLayerNumerics n;
    n.keySqnrDb = sqnrDb(sums.signal[0], sums.noise[0]);
    n.valueSqnrDb = sqnrDb(sums.signal[1], sums.noise[1]);
    n.keyMaxAbsError = sums.maxError[0];
    n.valueMaxAbsError = sums.maxError[1];
    n.values = sums.count;
    out.push_back(n);
  }
  return out;
}

void HostKvCache::copyBlock(int src, int dst) {
  const size_t blockElems =
      static_cast<size_t>(shape_.numKvHeads) * shape_.blockSize * shape_.headDim;
  for (auto *store : {&keys_, &values_})
    for (std::vector<float> &layer : *store)
      std::memcpy(layer.data() + dst * blockElems, layer.data() + src * blockElems,
                  blockElems * sizeof(float));
}

static void rotateHalf(float *x, const float *cos, const float *sin, int half) {
  for (int i = 0; i < half; ++i) {
    const float x1 = x[i], x2 = x[i + half];
    x[i] = x1 * cos[i] - x2 * sin[i];
    x[i + half] = x2 * cos[i] + x1 * sin[i];
  }
}

void ropeKvAppend(const BatchView &batch, const AttentionShape &shape, const RopeTable &rope,
                  int layer, float *qkv, HostKvCache &cache) {
  const int hd = shape.headDim, half = hd / 2;
  for (int t = 0; t < batch.numTokens; ++t) {
    float *row = qkv + static_cast<size_t>(t) * shape.qkvWidth();
    const int pos = batch.positions[t];
    const float *cos = rope.cos(pos), *sin = rope.sin(pos);
    for (int h = 0; h < shape.numHeads + shape.numKvHeads; ++h)
      rotateHalf(row + h * hd, cos, sin, half);

    const int seq = batch.tokenSeq[t];
    const int block = batch.blockTables[static_cast<size_t>(seq) * batch.maxBlocksPerSeq +
                                        pos / shape.blockSize];
    const int slot = pos % shape.blockSize;
    const float *k = row + shape.numHeads * hd;
    const float *v = k + shape.numKvHeads * hd;
    for (int g = 0; g < shape.numKvHeads; ++g)
      cache.store(layer, block, g, slot, k + g * hd, v + g * hd);
  }
}

// Eight independent partial sums, then the tail.
QTC_HOST_INLINE float dot(const float *a, const float *b, int n) {
  Float8 partial = {};
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    Float8 va, vb;
    load8(va, a + i);
    load8(vb, b + i);
    partial += va * vb;
  }
  float sum = sum8(partial);
  for (; i < n; ++i)
    sum += a[i] * b[i];
  return sum;
}

// out[0, 8*Vectors) = sum_p weights[p] * v[p][column, column + 8*Vectors).
template <int Vectors>
QTC_HOST_INLINE void weightedSum(const HostKvCache &cache, int layer, int kvHead,
                                 const int32_t *blocks, int length, int headDim,
                                 const float *weights, int column, float *out) {
  const int bs = cache.blockSize();
  Float8 acc[Vectors] = {};
  for (int b = 0, p = 0; p < length; ++b) {
    const float *v = cache.values(layer, blocks[b], kvHead) + column;
    for (int slot = 0; slot < bs && p < length; ++slot, ++p) {
      const float w = weights[p];
      for (int j = 0; j < Vectors; ++j) {
        Float8 vj;
        load8(vj, v + slot * headDim + 8 * j);
        acc[j] += w * vj;
      }
    }
  }
  for (int j = 0; j < Vectors; ++j)
    store8(out + 8 * j, acc[j]);
}

// `scores` holds the longest context of the tokens. No C++ library objects
// live in this function: clang does not emit their inline members for target
// clones.
QTC_HOST_TARGET_CLONES
static void attendTokens(const BatchView &batch, const AttentionShape &shape, int layer,
                         const float *qkv, const HostKvCache &cache, float *out, int tBegin,
                         int tEnd, float *scores) {
  const int hd = shape.headDim, bs = shape.blockSize;
  const int group = shape.numHeads / shape.numKvHeads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for (int t = tBegin; t < tEnd; ++t) {
    const int length = batch.positions[t] + 1; // attends to positions 0..pos
    const int numBlocks = (length + bs - 1) / bs;
    const int32_t *blocks =
        batch.blockTables + static_cast<size_t>(batch.tokenSeq[t]) * batch.maxBlocksPerSeq;
    for (int h = 0; h < shape.numHeads; ++h) {
      const int g = h / group;
      const float *q = qkv + static_cast<size_t>(t) * shape.qkvWidth() + h * hd;
      // Walk the sequence's blocks in order; position p = b * bs + slot.
      float maxScore = -INFINITY;
      for (int b = 0, p = 0; b < numBlocks; ++b) {
        const float *k = cache.keys(layer, blocks[b], g);
        for (int slot = 0; slot < bs && p < length; ++slot, ++p) {
          scores[p] = dot(q, k + slot * hd, hd) * scale;
          maxScore = scores[p] > maxScore ? scores[p] : maxScore;
        }
      }
      float total = 0.0f;
      for (int p = 0; p < length; ++p) {
        scores[p] = std::exp(scores[p] - maxScore);
        total += scores[p];
      }
      float *o = out + static_cast<size_t>(t) * shape.numHeads * hd + h * hd;
      // o = sum_p scores[p] v[p], 64 columns at a time held in registers.
      int c = 0;
      for (; c + 64 <= hd; c += 64)
        weightedSum<8>(cache, layer, g, blocks, length, hd, scores, c, o + c);
      for (; c + 8 <= hd; c += 8)
        weightedSum<1>(cache, layer, g, blocks, length, hd, scores, c, o + c);
      for (; c < hd; ++c) {
        float sum = 0.0f;
        for (int p = 0; p < length; ++p)
          sum += scores[p] * cache.values(layer, blocks[p / bs], g)[(p % bs) * hd + c];
        o[c] = sum;
      }
      const float inv = 1.0f / total;
      for (int i = 0; i < hd; ++i)
        o[i] *= inv;
    }
  }
}

void attention(const BatchView &batch, const AttentionShape &shape, int layer,
               const float *qkv, const HostKvCache &cache, float *out, int maxThreads) {
  // Work grows with the context; split the tokens in two halves of roughly
  // equal total context when there is enough of it.
  double work = 0;
  for (int t = 0; t < batch.numTokens; ++t)
    work += batch.positions[t] + 1;
  work *= static_cast<double>(shape.numHeads) * shape.headDim;
  int longest = 0;
  for (int t = 0; t < batch.numTokens; ++t)
    longest = std::max(longest, batch.positions[t] + 1);
  if (maxThreads < 2 || work < 4.0e6 || batch.numTokens < 2) {
    std::vector<float> scores(longest);
    attendTokens(batch, shape, layer, qkv, cache, out, 0, batch.numTokens, scores.data());
    return;
  }
  double half = 0, target = work / (2.0 * shape.numHeads * shape.headDim);
  int split = 0;
  while (split < batch.numTokens - 1 && half < target)
    half += batch.positions[split++] + 1;
  std::vector<float> scores(2 * static_cast<size_t>(longest));
  std::thread helper([&, split] {
    attendTokens(batch, shape, layer, qkv, cache, out, 0, split, scores.data());
  });
  attendTokens(batch, shape, layer, qkv, cache, out, split, batch.numTokens,
               scores.data() + longest);
  helper.join();
}

} // namespace qtc::rt::host
