//===- HostAttention.cpp - Paged KV cache, RoPE and attention on the host -===//

#include "HostAttention.h"

#include "HostVectorize.h"

#include "qtc/rt/Float16.h"
#include "qtc/rt/Float8.h"
#include "qtc/rt/KvMemory.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>

namespace qtc::rt::host {

void HostKvCache::allocate(int numLayers, const AttentionShape &shape, int numBlocks,
                           const fb::KvCacheSpec &kv) {
  shape_ = shape;
  numBlocks_ = numBlocks;
  dtype_ = kv.dtype();
  integer_ = kvIsInteger(dtype_);
  keysPerChannel_ = integer_ && kv.key_granularity() == fb::KvGranularity::PerChannel;
  residualWindow_ = integer_ ? kv.residual_window() : 0;
  sinkTokens_ = integer_ ? kv.sink_tokens() : 0;
  keyLayout_ = integer_ ? kvPageLayout(kv, /*keys=*/true) : KvPageLayout();
  valueLayout_ = integer_ ? kvPageLayout(kv, /*keys=*/false) : KvPageLayout();
  auto scales = [](const flatbuffers::Vector<float> *v) {
    return v ? std::vector<float>(v->begin(), v->end()) : std::vector<float>();
  };
  keyScales_ = scales(kv.key_scales());
  valueScales_ = scales(kv.value_scales());
  const size_t perLayer = static_cast<size_t>(numBlocks) * shape.numKvHeads * shape.blockSize *
                          shape.headDim;
  keys_.assign(numLayers, std::vector<float>(perLayer, 0.0f));
  values_.assign(numLayers, std::vector<float>(perLayer, 0.0f));
  tailKeys_.assign(integer_ ? numLayers : 0, std::vector<float>(perLayer, 0.0f));
  tailValues_.assign(integer_ ? numLayers : 0, std::vector<float>(perLayer, 0.0f));
  ErrorSums empty;
  empty.absMax[0].assign(shape.numKvHeads, 0.0f);
  empty.absMax[1].assign(shape.numKvHeads, 0.0f);
  errors_.assign(numLayers, empty);
  page_.assign(std::max(keyLayout_.pageBytes, valueLayout_.pageBytes), 0);
}

float HostKvCache::roundScaled(float x, const std::vector<float> &scales, int layer,
                               int kvHead) const {
  switch (dtype_) {
  case fb::KvDType::F16:
    return roundToHalf(x);
  case fb::KvDType::F8E4M3: {
    if (scales.empty())
      return roundToE4M3(x);
    const size_t perLayer = static_cast<size_t>(errors_.size());
    const float s = scales.size() == perLayer
                        ? scales[layer]
                        : scales[static_cast<size_t>(layer) * shape_.numKvHeads + kvHead];
    return roundToE4M3(x / s) * s;
  }
  default:
    return x;
  }
}

void HostKvCache::record(int layer, int which, float source, float stored) {
  ErrorSums &sums = errors_[layer];
  const double error = static_cast<double>(stored) - source;
  sums.signal[which] += static_cast<double>(source) * source;
  sums.noise[which] += error * error;
  sums.maxError[which] = std::max(sums.maxError[which], static_cast<float>(std::fabs(error)));
}

void HostKvCache::store(int layer, int block, int kvHead, int pos, const float *k,
                        const float *v) {
  const int hd = shape_.headDim, slot = pos % shape_.blockSize;
  ErrorSums &sums = errors_[layer];
  for (int i = 0; i < hd; ++i) {
    sums.absMax[0][kvHead] = std::max(sums.absMax[0][kvHead], std::fabs(k[i]));
    sums.absMax[1][kvHead] = std::max(sums.absMax[1][kvHead], std::fabs(v[i]));
  }
  sums.count += hd;
  if (integer_)
    return storeInteger(layer, block, kvHead, pos, k, v);
  float *dst[2] = {keys(layer, block, kvHead) + slot * hd, values(layer, block, kvHead) + slot * hd};
  const float *src[2] = {k, v};
  const std::vector<float> *scales[2] = {&keyScales_, &valueScales_};
  for (int which = 0; which < 2; ++which)
    for (int i = 0; i < hd; ++i) {
      const float stored = roundScaled(src[which][i], *scales[which], layer, kvHead);
      dst[which][i] = stored;
      record(layer, which, src[which][i], stored);
    }
}

// Per-token pages are written as each token arrives (from its f32 values);
// per-channel keys when the block's last slot is written, from the f16 tail.
// Sink positions keep their f16 value.
void HostKvCache::storeInteger(int layer, int block, int kvHead, int pos, const float *k,
                               const float *v) {
  const int hd = shape_.headDim, bs = shape_.blockSize, slot = pos % bs;
  const int sinks = sinksAt(pos);
  float *tail[2] = {at(tailKeys_, layer, block, kvHead), at(tailValues_, layer, block, kvHead)};
  float *mirror[2] = {keys(layer, block, kvHead), values(layer, block, kvHead)};
  const float *src[2] = {k, v};
  const KvPageLayout *layouts[2] = {&keyLayout_, &valueLayout_};
  uint8_t *page = page_.data();
  for (int which = 0; which < 2; ++which) {
    float *t = tail[which] + slot * hd, *m = mirror[which] + slot * hd;
    for (int i = 0; i < hd; ++i)
      t[i] = roundToHalf(src[which][i]);
    if (slot < sinks) {
      for (int i = 0; i < hd; ++i) {
        m[i] = t[i];
        record(layer, which, src[which][i], m[i]);
      }
      continue;
    }
    const KvPageLayout &l = *layouts[which];
    if (which == 0 && keysPerChannel_) {
      if (slot != bs - 1)
        continue;
      kvPageEncodeChannels(page, l, tail[0], sinks, bs);
      kvPageDecodeSlots(page, l, sinks, bs, sinks, mirror[0] + sinks * hd);
      for (int i = sinks * hd; i < bs * hd; ++i)
        record(layer, 0, tail[0][i], mirror[0][i]);
      continue;
    }
    kvPageEncodeToken(page, l, slot, src[which]);
    kvPageDecodeSlots(page, l, slot, slot + 1, 0, m);
    for (int i = 0; i < hd; ++i)
      record(layer, which, src[which][i], m[i]);
  }
}

const float *HostKvCache::ownBlockKeys(int layer, int block, int kvHead, int pos,
                                       uint8_t *scratchPage, float *scratch) const {
  if (!integer_)
    return keys(layer, block, kvHead);
  const float *tail = at(tailKeys_, layer, block, kvHead);
  const int bs = shape_.blockSize, slots = pos % bs + 1;
  if (residualWindow_ > 0)
    return tail;
  if (!keysPerChannel_ || slots == bs)
    return keys(layer, block, kvHead);
  // Quantized over the tokens up to pos, as the block would be if it ended
  // there: what this query reads does not depend on later tokens.
  const int hd = shape_.headDim, sinks = std::min(sinksAt(pos), slots);
  std::memset(scratchPage, 0, keyLayout_.pageBytes);
  kvPageEncodeChannels(scratchPage, keyLayout_, tail, sinks, slots);
  std::memcpy(scratch, tail, sizeof(float) * sinks * hd);
  kvPageDecodeSlots(scratchPage, keyLayout_, sinks, slots, sinks, scratch + sinks * hd);
  return scratch;
}

const float *HostKvCache::ownBlockValues(int layer, int block, int kvHead) const {
  if (integer_ && residualWindow_ > 0)
    return at(tailValues_, layer, block, kvHead);
  return values(layer, block, kvHead);
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
    n.keyAbsMax = sums.absMax[0];
    n.valueAbsMax = sums.absMax[1];
    out.push_back(n);
  }
  return out;
}

void HostKvCache::copyBlock(int src, int dst) {
  const size_t blockElems =
      static_cast<size_t>(shape_.numKvHeads) * shape_.blockSize * shape_.headDim;
  for (auto *store : {&keys_, &values_, &tailKeys_, &tailValues_})
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
    const float *k = row + shape.numHeads * hd;
    const float *v = k + shape.numKvHeads * hd;
    for (int g = 0; g < shape.numKvHeads; ++g)
      cache.store(layer, block, g, pos, k + g * hd, v + g * hd);
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

// out[0, 8*Vectors) = sum_p weights[p] * v[p][column, column + 8*Vectors);
// the last of the `numBlocks` blocks is read from `lastValues`.
template <int Vectors>
QTC_HOST_INLINE void weightedSum(const HostKvCache &cache, int layer, int kvHead,
                                 const int32_t *blocks, int numBlocks, const float *lastValues,
                                 int length, int headDim, const float *weights, int column,
                                 float *out) {
  const int bs = cache.blockSize();
  Float8 acc[Vectors] = {};
  for (int b = 0, p = 0; p < length; ++b) {
    const float *v =
        (b == numBlocks - 1 ? lastValues : cache.values(layer, blocks[b], kvHead)) + column;
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

// `scores` holds the longest context of the tokens; `scratchPage` and
// `scratchKeys` serve HostKvCache::ownBlockKeys. No C++ library objects live
// in this function: clang does not emit their inline members for target
// clones.
QTC_HOST_TARGET_CLONES
static void attendTokens(const BatchView &batch, const AttentionShape &shape, int layer,
                         const float *qkv, const HostKvCache &cache, float *out, int tBegin,
                         int tEnd, float *scores, uint8_t *scratchPage, float *scratchKeys) {
  const int hd = shape.headDim, bs = shape.blockSize;
  const int group = shape.numHeads / shape.numKvHeads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for (int t = tBegin; t < tEnd; ++t) {
    const int length = batch.positions[t] + 1; // attends to positions 0..pos
    const int numBlocks = (length + bs - 1) / bs;
    const int32_t *blocks =
        batch.blockTables + static_cast<size_t>(batch.tokenSeq[t]) * batch.maxBlocksPerSeq;
    const float *lastKeys = nullptr, *lastValues = nullptr;
    for (int h = 0; h < shape.numHeads; ++h) {
      const int g = h / group;
      // What this token reads of its own (last) block, once per kv head.
      if (h % group == 0) {
        lastKeys = cache.ownBlockKeys(layer, blocks[numBlocks - 1], g, length - 1, scratchPage,
                                      scratchKeys);
        lastValues = cache.ownBlockValues(layer, blocks[numBlocks - 1], g);
      }
      const float *q = qkv + static_cast<size_t>(t) * shape.qkvWidth() + h * hd;
      // Walk the sequence's blocks in order; position p = b * bs + slot.
      float maxScore = -INFINITY;
      for (int b = 0, p = 0; b < numBlocks; ++b) {
        const float *k = b == numBlocks - 1 ? lastKeys : cache.keys(layer, blocks[b], g);
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
        weightedSum<8>(cache, layer, g, blocks, numBlocks, lastValues, length, hd, scores, c,
                       o + c);
      for (; c + 8 <= hd; c += 8)
        weightedSum<1>(cache, layer, g, blocks, numBlocks, lastValues, length, hd, scores, c,
                       o + c);
      for (; c < hd; ++c) {
        float sum = 0.0f;
        for (int p = 0; p < length; ++p) {
          const int b = p / bs;
          const float *v = b == numBlocks - 1 ? lastValues : cache.values(layer, blocks[b], g);
          sum += scores[p] * v[(p % bs) * hd + c];
        }
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
  const size_t page = cache.pageBytes(), blockElems = static_cast<size_t>(shape.blockSize) * shape.headDim;
  if (maxThreads < 2 || work < 4.0e6 || batch.numTokens < 2) {
    std::vector<float> scores(longest), keys(blockElems);
    std::vector<uint8_t> pages(page);
    attendTokens(batch, shape, layer, qkv, cache, out, 0, batch.numTokens, scores.data(),
                 pages.data(), keys.data());
    return;
  }
  double half = 0, target = work / (2.0 * shape.numHeads * shape.headDim);
  int split = 0;
  while (split < batch.numTokens - 1 && half < target)
    half += batch.positions[split++] + 1;
  std::vector<float> scores(2 * static_cast<size_t>(longest)), keys(2 * blockElems);
  std::vector<uint8_t> pages(2 * page);
  std::thread helper([&, split] {
    attendTokens(batch, shape, layer, qkv, cache, out, 0, split, scores.data(), pages.data(),
                 keys.data());
  });
  attendTokens(batch, shape, layer, qkv, cache, out, split, batch.numTokens,
               scores.data() + longest, pages.data() + page, keys.data() + blockElems);
  helper.join();
}

} // namespace qtc::rt::host
