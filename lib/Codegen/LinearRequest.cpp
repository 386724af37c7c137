//===- LinearRequest.cpp - What the Linear kernels accept -----------------===//
//
// Both Linear schedules (decode GEMV, prefill GEMM) read whole 16-byte weight
// chunks and multiply on mma.sync.m16n8k16, so they share these limits: a
// row is a whole number of chunks, a chunk lies in one quantization group,
// and the target has the f16 tensor-core instruction.
//
//===----------------------------------------------------------------------===//

#include "Generators.h"
#include "MmaFragments.h"

using namespace mlir;

namespace qtc::codegen {

LogicalResult checkLinearRequest(ImplicitLocOpBuilder &b, const KernelRequest &r) {
  auto fail = [&](const Twine &msg) {
    return emitError(b.getLoc()) << "linear kernel: " << msg;
  };
  if (r.inFeatures <= 0 || r.outFeatures <= 0)
    return fail("in_features and out_features must be positive");
  // Every format is multiplied as f16 operands of mma.sync.m16n8k16, which
  // sm_80 introduced; the int4, int8 and fp8 dequantizations are plain
  // integer operations and need nothing newer.
  if (smVersion(r.chip) < 80)
    return fail("mma.sync.m16n8k16 with f16 operands needs sm_80 or newer, got '" +
                r.chip + "'");
  using rt::fb::WeightFormat;
  using rt::fb::ActivationQuant;
  switch (r.activation) {
  case ActivationQuant::None:
    break;
  case ActivationQuant::Int8PerToken:
    // The integer sum only makes sense against integer weight codes with
    // one scale per row: a group scale would have to be applied inside it.
    if (r.format != WeightFormat::Int8Group)
      return fail("int8 activations (W8A8) need int8 weights");
    if (r.groupSize != r.inFeatures)
      return fail("int8 activations (W8A8) need one weight scale per row: the "
                  "group size must equal in_features " + Twine(r.inFeatures) +
                  ", got " + Twine(r.groupSize));
    break;
  case ActivationQuant::Fp8PerToken:
    // e4m3 x e4m3: mma.sync m16n8k32 .e4m3 (sm_89) or the Hopper wgmma GEMM.
    if (r.format != WeightFormat::Fp8Channel)
      return fail("fp8 activations need fp8 weights");
    if (smVersion(r.chip) < 89)
      return fail("fp8 activations need e4m3 mma (sm_89 or newer), got '" + r.chip + "'");
    break;
  }
  const int64_t chunk = weightChunk(r.format).channels;
  switch (r.format) {
  case WeightFormat::Dense:
    if (r.inFeatures % chunk != 0)
      return fail("dense weights need in_features divisible by 8 (16-byte "
                  "rows), got " + Twine(r.inFeatures));
    return success();
  case WeightFormat::Int4Group:
    // Groups of whole 32-channel chunks (a chunk is dequantized with one
    // scale).
    if (r.groupSize <= 0 || r.groupSize % chunk != 0)
      return fail("int4 group size must be a positive multiple of 32, got " +
                  Twine(r.groupSize));
    break;
  case WeightFormat::Int8Group:
    if (r.inFeatures % chunk != 0)
      return fail("int8 weights need in_features divisible by 16 (16-byte "
                  "chunks of codes), got " + Twine(r.inFeatures));
    if (!r.symmetric)
      return fail("int8 weights are symmetric (no zero points)");
    if (r.groupSize <= 0 || r.groupSize % chunk != 0)
      return fail("int8 group size must be a positive multiple of 16, got " +
                  Twine(r.groupSize));
    break;
  case WeightFormat::Fp8Channel:
    if (r.inFeatures % chunk != 0)
      return fail("fp8 weights need in_features divisible by 16 (16-byte "
                  "chunks of e4m3 bytes), got " + Twine(r.inFeatures));
    if (!r.symmetric)
      return fail("fp8 weights are symmetric (no zero points)");
    if (r.groupSize != r.inFeatures)
      return fail("fp8 weights have one scale per output row: the group size "
                  "must equal in_features " + Twine(r.inFeatures) + ", got " +
                  Twine(r.groupSize));
    // Its f32 row scale cannot scale f16 operands without rounding it.
    if (r.dequant == 1)
      return fail("fp8 weights are scaled per output row after the mma; "
                  "dequant 1 (scaling the f16 operands) does not apply");
    return success();
  }
  if (r.inFeatures % r.groupSize != 0)
    return fail("in_features " + Twine(r.inFeatures) +
                " is not a multiple of the group size " + Twine(r.groupSize));
  return success();
}

SmallVector<KernelParam> linearParams(KernelBuilder &kb, const KernelRequest &r) {
  namespace abi = rt::abi::linear;
  using rt::fb::WeightFormat;
  const int64_t n = r.outFeatures, k = r.inFeatures;
  const bool quantized = r.format != WeightFormat::Dense;
  const int64_t scales = quantized ? n * (k / r.groupSize) : 1;
  const bool zeros = r.format == WeightFormat::Int4Group && !r.symmetric;
  SmallVector<KernelParam> params(abi::kCount);
  params[abi::kX] = {"x", kb.buffer(kb.v4i32()), true};
  // Whole rows of 16-byte chunks, whatever the format packs into them.
  params[abi::kWeight] = {"weight",
                          kb.buffer(kb.v4i32(), n * (k / weightChunk(r.format).channels)),
                          true};
  // Scales as the artifact stores them (artifact.fbs WeightFormat): f32 per
  // row for fp8, f16 per group for int4 and int8.
  Type scaleType = r.format == WeightFormat::Fp8Channel ? kb.f32() : kb.f16();
  params[abi::kScales] = {"scales", kb.buffer(scaleType, scales), true};
  params[abi::kZeros] = {"zeros", kb.buffer(kb.f16(), zeros ? scales : 1), true};
  params[abi::kBias] = {"bias", kb.buffer(kb.f16(), r.hasBias ? n : 1), true};
  // The residual may be the output itself: no read-only promise.
  params[abi::kResidual] = {"residual", kb.buffer(kb.f16()), false};
  params[abi::kOut] = {"out", kb.buffer(kb.f16()), false};
  params[abi::kNumTokens] = {"num_tokens", kb.i32(), false};
  return params;
}

} // namespace qtc::codegen
