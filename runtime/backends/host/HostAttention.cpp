//===- HostAttention.cpp - Paged KV cache, RoPE and attention on the host -===//

#include "HostAttention.h"

#include "qtc/rt/Float16.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>

namespace qtc::rt::host {

void HostKvCache::allocate(int numLayers, const AttentionShape &shape, int numBlocks,
                           bool roundToHalf) {
  shape_ = shape;
  numBlocks_ = numBlocks;
  roundToHalf_ = roundToHalf;
  const size_t perLayer = static_cast<size_t>(numBlocks) * shape.numKvHeads * shape.blockSize *
                          shape.headDim;
  keys_.assign(numLayers, std::vector<float>(perLayer, 0.0f));
  values_.assign(numLayers, std::vector<float>(perLayer, 0.0f));
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
  const bool toHalf = cache.roundsToHalf();
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
    for (int g = 0; g < shape.numKvHeads; ++g) {
      float *kDst = cache.keys(layer, block, g) + slot * hd;
      float *vDst = cache.values(layer, block, g) + slot * hd;
      for (int i = 0; i < hd; ++i) {
        kDst[i] = toHalf ? roundToHalf(k[g * hd + i]) : k[g * hd + i];
        vDst[i] = toHalf ? roundToHalf(v[g * hd + i]) : v[g * hd + i];
      }
    }
  }
}

// Eight independent partial sums: vectorizes without -ffast-math.
static inline float dot(const float *a, const float *b, int n) {
  float partial[8] = {};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j)
      partial[j] += a[i + j] * b[i + j];
  float sum = ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
              ((partial[4] + partial[5]) + (partial[6] + partial[7]));
  for (; i < n; ++i)
    sum += a[i] * b[i];
  return sum;
}

static void attendTokens(const BatchView &batch, const AttentionShape &shape, int layer,
                         const float *qkv, const HostKvCache &cache, float *out, int tBegin,
                         int tEnd) {
  const int hd = shape.headDim, bs = shape.blockSize;
  const int group = shape.numHeads / shape.numKvHeads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  std::vector<float> scores;
  for (int t = tBegin; t < tEnd; ++t) {
    const int pos = batch.positions[t];
    const int32_t *blocks =
        batch.blockTables + static_cast<size_t>(batch.tokenSeq[t]) * batch.maxBlocksPerSeq;
    scores.resize(pos + 1);
    for (int h = 0; h < shape.numHeads; ++h) {
      const int g = h / group;
      const float *q = qkv + static_cast<size_t>(t) * shape.qkvWidth() + h * hd;
      float maxScore = -INFINITY;
      for (int p = 0; p <= pos; ++p) {
        const float *k = cache.keys(layer, blocks[p / bs], g) + (p % bs) * hd;
        scores[p] = dot(q, k, hd) * scale;
        maxScore = std::max(maxScore, scores[p]);
      }
      float total = 0.0f;
      for (int p = 0; p <= pos; ++p) {
        scores[p] = std::exp(scores[p] - maxScore);
        total += scores[p];
      }
      float *o = out + static_cast<size_t>(t) * shape.numHeads * hd + h * hd;
      std::fill(o, o + hd, 0.0f);
      for (int p = 0; p <= pos; ++p) {
        const float *v = cache.values(layer, blocks[p / bs], g) + (p % bs) * hd;
        const float w = scores[p];
        for (int i = 0; i < hd; ++i)
          o[i] += w * v[i];
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
  if (maxThreads < 2 || work < 4.0e6 || batch.numTokens < 2) {
    attendTokens(batch, shape, layer, qkv, cache, out, 0, batch.numTokens);
    return;
  }
  double half = 0, target = work / (2.0 * shape.numHeads * shape.headDim);
  int split = 0;
  while (split < batch.numTokens - 1 && half < target)
    half += batch.positions[split++] + 1;
  std::thread helper(
      [&, split] { attendTokens(batch, shape, layer, qkv, cache, out, 0, split); });
  attendTokens(batch, shape, layer, qkv, cache, out, split, batch.numTokens);
  helper.join();
}

} // namespace qtc::rt::host
