//===- Int4Group.h - The artifact's Int4Group weight layout -----*- C++ -*-===//
//
// Int4Group (runtime/schema/artifact.fbs, WeightFormat) stores an [out, in]
// weight as unsigned 4-bit codes with one f16 scale, and for asymmetric
// weights one f16 zero point, per group of `group_size` consecutive input
// channels of a row:
//
//   data:   u8  [out, in/2]  byte j of row n: in-channel 2j in the low nibble,
//                            2j+1 in the high nibble
//   scales: f16 [out, in/group_size]
//   zeros:  f16 [out, in/group_size] (asymmetric only; symmetric uses 8)
//   w[n, k] = (q[n, k] - zero[n, k/group]) * scale[n, k/group]
//
// Every int4 quantizer (RTN, GPTQ, AWQ) produces this one structure.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_QUANT_INT4GROUP_H
#define QTC_QUANT_INT4GROUP_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace qtc::quant {

/// The zero point of symmetric Int4Group weights.
inline constexpr int kInt4SymmetricZero = 8;

/// The largest 4-bit code.
inline constexpr int kInt4MaxCode = 15;

struct Int4GroupWeight {
  int64_t outFeatures = 0;
  int64_t inFeatures = 0;
  int64_t groupSize = 0;
  bool symmetric = true;
  std::vector<uint8_t> data;    // u8 [out, in/2]
  std::vector<uint16_t> scales; // f16 bits [out, in/groupSize]
  std::vector<uint16_t> zeros;  // f16 bits [out, in/groupSize]; empty if symmetric

  int64_t groupsPerRow() const { return inFeatures / groupSize; }

  /// The code q in [0, 15] of w[row, col].
  uint8_t code(int64_t row, int64_t col) const;
  float scale(int64_t row, int64_t group) const;
  /// The zero point of a group: kInt4SymmetricZero when symmetric.
  float zero(int64_t row, int64_t group) const;
};

/// Checks that the layout can hold an [outFeatures, inFeatures] weight in
/// groups of `groupSize`: positive sizes, even rows, groups dividing rows.
llvm::Error verifyInt4GroupShape(int64_t outFeatures, int64_t inFeatures,
                                 int64_t groupSize);

/// Checks the shape of `weight` and that its buffers have the sizes it implies.
llvm::Error verifyInt4Group(const Int4GroupWeight &weight);

/// Packs 4-bit `codes` (each < 16) two to a byte, low nibble first.
/// `packed` holds codes.size() / 2 bytes; codes.size() must be even.
void packInt4(llvm::ArrayRef<uint8_t> codes, llvm::MutableArrayRef<uint8_t> packed);

/// The inverse of packInt4: `codes` holds 2 * packed.size() codes.
void unpackInt4(llvm::ArrayRef<uint8_t> packed, llvm::MutableArrayRef<uint8_t> codes);

/// Expands `weight` to a dense row-major [out, in] float matrix.
llvm::Expected<std::vector<float>> dequantizeInt4Group(const Int4GroupWeight &weight);

} // namespace qtc::quant

#endif // QTC_QUANT_INT4GROUP_H
