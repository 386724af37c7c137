//===- SyntheticWeights.h - Deterministic random tensor contents -*- C++ -*-===//
//
// The values `qtc synth` writes: element i of a tensor is a function of the
// tensor's stream key and i alone, so pieces of a tensor can be generated in
// any order, on any number of threads, and the bytes never change.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_LIB_IMPORT_SYNTHETICWEIGHTS_H
#define QTC_LIB_IMPORT_SYNTHETICWEIGHTS_H

#include "qtc/Import/WeightStore.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace qtc {

/// Values are `mean + stddev * z`, z approximately standard normal: the sum
/// of four independent 16-bit uniforms, centred and scaled to unit variance
/// (Irwin-Hall; bell-shaped, with tails cut at +-3.46, which a group
/// quantizer's absmax over 128 values rarely reaches anyway).
struct SyntheticDistribution {
  float mean = 0.0f;
  float stddev = 0.0f;
};

/// The stream key of the tensor `name` under `seed`: values depend on the
/// seed and the tensor's name only, not on its position, shard or the layer
/// count, so layer 0 of a two-layer checkpoint equals layer 0 of a 32-layer
/// one.
uint64_t syntheticStreamKey(uint64_t seed, llvm::StringRef name);

/// Writes elements [first, first + out.size() / element size) of the stream
/// `key` into `out` as little-endian `dtype` (F32, F16 or BF16; float values
/// round to nearest even). `out.size()` must be a multiple of the element
/// size.
void fillSyntheticElements(uint64_t key, SyntheticDistribution distribution,
                           DType dtype, uint64_t first,
                           llvm::MutableArrayRef<uint8_t> out);

} // namespace qtc

#endif // QTC_LIB_IMPORT_SYNTHETICWEIGHTS_H
