//===- HostAttention.h - Paged KV cache, RoPE and attention on the host ---===//
//
// The cache keeps, per layer and for K and V, [block, kv_head, slot, head_dim]
// as the schema lays it out. Values are stored as f32 already rounded to the
// KV dtype (f16 by default): the numbers equal a device's f16 cache, and the
// attention loops read them without converting.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_BACKENDS_HOST_HOSTATTENTION_H
#define QTC_RT_BACKENDS_HOST_HOSTATTENTION_H

#include "RopeTable.h"

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
  void allocate(int numLayers, const AttentionShape &shape, int numBlocks, bool roundToHalf);
  int numBlocks() const { return numBlocks_; }
  int blockSize() const { return shape_.blockSize; }
  bool roundsToHalf() const { return roundToHalf_; }

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

private:
  float *at(std::vector<std::vector<float>> &store, int layer, int block, int kvHead) {
    return store[layer].data() + (static_cast<size_t>(block) * shape_.numKvHeads + kvHead) *
                                     shape_.blockSize * shape_.headDim;
  }

  AttentionShape shape_;
  int numBlocks_ = 0;
  bool roundToHalf_ = true;
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
