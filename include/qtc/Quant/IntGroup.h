//===- IntGroup.h - Integer weights with one grid per group -----*- C++ -*-===//
//
// Every integer weight quantizer (RTN, GPTQ, AWQ) produces this structure: an
// [out, in] weight as unsigned `bits`-bit codes with one f16 scale, and for
// asymmetric weights one f16 zero point, per group of `group_size`
// consecutive input channels of a row:
//
//   codes:  u8  [out, in]            q in [0, 2^bits)
//   scales: f16 [out, in/group_size]
//   zeros:  f16 [out, in/group_size] (asymmetric only; symmetric uses
//                                     2^(bits-1))
//   w[n, k] = (q[n, k] - zero[n, k/group]) * scale[n, k/group]
//
// How codes are laid out in an artifact (int3/int4 as Int4Group nibbles,
// int8 as two's complement bytes) is the packer's business
// (lib/Chain/WeightPacking), not the quantizers'.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_QUANT_INTGROUP_H
#define QTC_QUANT_INTGROUP_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace qtc::quant {

/// The code widths the quantizers and packers support.
inline bool isSupportedIntBits(int bits) { return bits == 3 || bits == 4 || bits == 8; }

/// The largest code of `bits`-bit weights.
inline int intMaxCode(int bits) { return (1 << bits) - 1; }

/// The zero point of symmetric `bits`-bit weights: codes 1 .. 2^bits - 1
/// stand for -(2^(bits-1) - 1) .. 2^(bits-1) - 1 steps, code 0 for one more
/// negative step.
inline int intSymmetricZero(int bits) { return 1 << (bits - 1); }

struct IntGroupWeight {
  int64_t outFeatures = 0;
  int64_t inFeatures = 0;
  int64_t groupSize = 0;
  int bits = 4;
  bool symmetric = true;
  std::vector<uint8_t> codes;   // [out, in]
  std::vector<uint16_t> scales; // f16 bits [out, in/groupSize]
  std::vector<uint16_t> zeros;  // f16 bits [out, in/groupSize]; empty if symmetric

  int64_t groupsPerRow() const { return inFeatures / groupSize; }

  uint8_t code(int64_t row, int64_t col) const { return codes[row * inFeatures + col]; }
  float scale(int64_t row, int64_t group) const;
  /// The zero point of a group: intSymmetricZero(bits) when symmetric.
  float zero(int64_t row, int64_t group) const;
};

/// Checks that an [outFeatures, inFeatures] weight can be quantized in groups
/// of `groupSize` with `bits`-bit codes: positive sizes, a supported width,
/// groups dividing rows.
llvm::Error verifyIntGroupShape(int64_t outFeatures, int64_t inFeatures,
                                int64_t groupSize, int bits);

/// Checks the shape of `weight`, that its buffers have the sizes it implies
/// and that every code fits its width.
llvm::Error verifyIntGroup(const IntGroupWeight &weight);

/// Packs 4-bit `codes` (each < 16) two to a byte, low nibble first.
/// `packed` holds codes.size() / 2 bytes; codes.size() must be even.
void packInt4(llvm::ArrayRef<uint8_t> codes, llvm::MutableArrayRef<uint8_t> packed);

/// The inverse of packInt4: `codes` holds 2 * packed.size() codes.
void unpackInt4(llvm::ArrayRef<uint8_t> packed, llvm::MutableArrayRef<uint8_t> codes);

/// Expands `weight` to a dense row-major [out, in] float matrix.
llvm::Expected<std::vector<float>> dequantizeIntGroup(const IntGroupWeight &weight);

} // namespace qtc::quant

#endif // QTC_QUANT_INTGROUP_H
