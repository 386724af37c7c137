//===- HostAttention.h - Paged KV cache, RoPE and attention on the host ---===//
//
// The cache keeps, per layer and for K and V, [block, kv_head, slot, head_dim]
// as the schema lays it out. Values are stored as f32 already rounded to the
// KV dtype (f16, or fp8 e4m3 with the GPU's rounding, qtc/rt/Float8.h): the
// numbers equal a device's cache, and the attention loops read them without
// converting.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_BACKENDS_HOST_HOSTATTENTION_H
#define QTC_RT_BACKENDS_HOST_HOSTATTENTION_H

#include "RopeTable.h"

#include "qtc/rt/Artifact.h"
#include "qtc/rt/Backend.h"

#include <vector>

namespace qtc::rt::host {

struct AttentionShape {
  int numHeads = 0;
  int numKvHeads = 0;
  int headDim = 0;
  int blockSize = 0;
  int qkvWidth() const { return (numHeads + 2 * numKvHeads) * headDim; }
};

class HostKvCache {
public:
  void allocate(int numLayers, const AttentionShape &shape, int numBlocks, fb::KvDType dtype);
  int numBlocks() const { return numBlocks_; }
  int blockSize() const { return shape_.blockSize; }
  // `value` as the cache's dtype stores it.
  float round(float value) const;

  // [blockSize, headDim] of one kv head in one block.
  float *keys(int layer, int block, int kvHead) { return at(keys_, layer, block, kvHead); }
  float *values(int layer, int block, int kvHead) { return at(values_, layer, block, kvHead); }
  const float *keys(int layer, int block, int kvHead) const {
    return const_cast<HostKvCache *>(this)->keys(layer, block, kvHead);
  }
  const float *values(int layer, int block, int kvHead) const {
    return const_cast<HostKvCache *>(this)->values(layer, block, kvHead);
  }

  // Copies block `src` to `dst` in every layer, keys and values.
  void copyBlock(int src, int dst);

  // Stores `k` and `v` (headDim each, unrounded) at `slot` of `block` for
  // kv head `kvHead` of `layer`, rounded to the dtype, and records the error.
  void store(int layer, int block, int kvHead, int slot, const float *k, const float *v);
  std::vector<KvLayerNumerics> numerics() const;

private:
  float *at(std::vector<std::vector<float>> &store, int layer, int block, int kvHead) {
    return store[layer].data() + (static_cast<size_t>(block) * shape_.numKvHeads + kvHead) *
                                     shape_.blockSize * shape_.headDim;
  }

  AttentionShape shape_;
  int numBlocks_ = 0;
  fb::KvDType dtype_ = fb::KvDType::F16;
  // Per layer: sums of squared values and of squared rounding errors, and
  // the largest error, for keys [0] and values [1].
  struct ErrorSums {
    double signal[2] = {0, 0}, noise[2] = {0, 0};
    float maxError[2] = {0, 0};
    int64_t count = 0;
  };
  std::vector<ErrorSums> errors_;
  std::vector<std::vector<float>> keys_, values_; // per layer
};

// RopeKvAppend: rotates q and k of every token's qkv row in place and writes
// k and v into `layer` of the cache at the token's position.
void ropeKvAppend(const BatchView &batch, const AttentionShape &shape, const RopeTable &rope,
                  int layer, float *qkv, HostKvCache &cache);

// Attention: out[t, h*headDim:] = softmax(q_h k^T / sqrt(headDim)) v over the
// cached positions 0..pos of token t's sequence, kv head h / group.
void attention(const BatchView &batch, const AttentionShape &shape, int layer,
               const float *qkv, const HostKvCache &cache, float *out, int maxThreads);

} // namespace qtc::rt::host

#endif // QTC_RT_BACKENDS_HOST_HOSTATTENTION_H
