//===- Fp8Channel.h - FP8 E4M3 weights with one scale per row ---*- C++ -*-===//
//
// An [out, in] weight as OCP FP8 E4M3 codes (qtc/rt/Float8.h) with one f32
// scale per output row: w[n, k] = e4m3(codes[n, k]) * scale[n]. The scale
// maps the row's largest magnitude onto e4m3's largest finite value (448),
// so every weight lands in range and the float grid's relative precision
// (3 mantissa bits) holds across the row. The artifact's Fp8Channel format
// stores exactly this.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_QUANT_FP8CHANNEL_H
#define QTC_QUANT_FP8CHANNEL_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace qtc::quant {

/// e4m3's largest finite magnitude.
inline constexpr float kE4M3Max = 448.0f;

struct Fp8ChannelWeight {
  int64_t outFeatures = 0;
  int64_t inFeatures = 0;
  std::vector<uint8_t> codes; // e4m3 bytes [out, in], never NaN
  std::vector<float> scales;  // [out]
};

/// Rounds each weight to the nearest e4m3 value of its row's grid (ties to
/// even, as the GPU's cvt.rn.satfinite does). A zero row gets scale 1.
/// Fails on non-positive shapes, a weight of the wrong size and non-finite
/// weights.
llvm::Expected<Fp8ChannelWeight>
quantizeFp8ChannelRtn(llvm::ArrayRef<float> weight, int64_t outFeatures,
                      int64_t inFeatures);

/// Checks the buffer sizes against the shape and that no code is NaN.
llvm::Error verifyFp8Channel(const Fp8ChannelWeight &weight);

/// Expands `weight` to a dense row-major [out, in] float matrix.
llvm::Expected<std::vector<float>> dequantizeFp8Channel(const Fp8ChannelWeight &weight);

} // namespace qtc::quant

#endif // QTC_QUANT_FP8CHANNEL_H
