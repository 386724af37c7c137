//===- HostAttention.h - Paged KV cache, RoPE and attention on the host ---===//
//
// The cache keeps, per layer and for K and V, [block, kv_head, slot, head_dim]
// floats: the values full blocks are read as. For f16 and fp8 e4m3 they are
// the stored values already rounded (with the GPU's rounding, qtc/rt/Float8.h,
// fp8 divided by its calibrated scale first); for integer caches they are the
// decoded pages, each token or block encoded into a qtc::rt::KvPageLayout page
// and decoded back (qtc/rt/KvPage.h), and beside them every block keeps its
// f16 tail (the values rounded to f16), which the queries of a partly filled
// block read with a residual window, and from which per-channel keys are
// quantized when their block fills. The attention loops read floats without
// converting.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_BACKENDS_HOST_HOSTATTENTION_H
#define QTC_RT_BACKENDS_HOST_HOSTATTENTION_H

#include "RopeTable.h"

#include "qtc/rt/Artifact.h"
#include "qtc/rt/Backend.h"
#include "qtc/rt/KvPage.h"

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
  void allocate(int numLayers, const AttentionShape &shape, int numBlocks,
                const fb::KvCacheSpec &kv);
  int numBlocks() const { return numBlocks_; }
  int blockSize() const { return shape_.blockSize; }
  bool integer() const { return integer_; }
  // Bytes of scratch page ownBlockKeys needs.
  size_t pageBytes() const { return keyLayout_.pageBytes; }

  // [blockSize, headDim] of one kv head in one block: what a full block reads.
  float *keys(int layer, int block, int kvHead) { return at(keys_, layer, block, kvHead); }
  float *values(int layer, int block, int kvHead) { return at(values_, layer, block, kvHead); }
  const float *keys(int layer, int block, int kvHead) const {
    return const_cast<HostKvCache *>(this)->keys(layer, block, kvHead);
  }
  const float *values(int layer, int block, int kvHead) const {
    return const_cast<HostKvCache *>(this)->values(layer, block, kvHead);
  }

  // The keys and values that the query at `pos` reads from its own block
  // `block` (slots 0 .. pos % blockSize): the f16 tail with a residual
  // window; otherwise the stored values, except per-channel keys, quantized
  // over the slots up to pos (into `scratchPage` and `scratch`, pageBytes()
  // and blockSize * headDim).
  const float *ownBlockKeys(int layer, int block, int kvHead, int pos, uint8_t *scratchPage,
                            float *scratch) const;
  const float *ownBlockValues(int layer, int block, int kvHead) const;

  // Copies block `src` to `dst` in every layer, keys and values (and tails).
  void copyBlock(int src, int dst);

  // Stores `k` and `v` (headDim each, unrounded) of position `pos` in `block`
  // for kv head `kvHead` of `layer` in the cache's format, and records the
  // error.
  void store(int layer, int block, int kvHead, int pos, const float *k, const float *v);
  std::vector<KvLayerNumerics> numerics() const;

private:
  float *at(std::vector<std::vector<float>> &store, int layer, int block, int kvHead) {
    return store[layer].data() + (static_cast<size_t>(block) * shape_.numKvHeads + kvHead) *
                                     shape_.blockSize * shape_.headDim;
  }
  const float *at(const std::vector<std::vector<float>> &store, int layer, int block,
                  int kvHead) const {
    return const_cast<HostKvCache *>(this)->at(const_cast<std::vector<std::vector<float>> &>(store),
                                               layer, block, kvHead);
  }
  // Sink slots of the block holding `pos`.
  int sinksAt(int pos) const { return pos < shape_.blockSize ? sinkTokens_ : 0; }
  float roundScaled(float x, const std::vector<float> &scales, int layer, int kvHead) const;
  void record(int layer, int which, float source, float stored);
  void storeInteger(int layer, int block, int kvHead, int pos, const float *k, const float *v);

  AttentionShape shape_;
  int numBlocks_ = 0;
  fb::KvDType dtype_ = fb::KvDType::F16;
  bool integer_ = false, keysPerChannel_ = false;
  int residualWindow_ = 0, sinkTokens_ = 0;
  KvPageLayout keyLayout_, valueLayout_;
  // fp8: per layer (one each) or per layer and kv head; empty: scale 1.
  std::vector<float> keyScales_, valueScales_;
  // Per layer: sums of squared values and of squared rounding errors, the
  // largest error, for keys [0] and values [1], and the largest |value| per
  // kv head.
  struct ErrorSums {
    double signal[2] = {0, 0}, noise[2] = {0, 0};
    float maxError[2] = {0, 0};
    int64_t count = 0;
    std::vector<float> absMax[2];
  };
  std::vector<ErrorSums> errors_;
  std::vector<std::vector<float>> keys_, values_;         // per layer
  std::vector<std::vector<float>> tailKeys_, tailValues_; // per layer, integer caches
  std::vector<uint8_t> page_; // the page a store encodes into
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
