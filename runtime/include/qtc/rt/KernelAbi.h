//===- KernelAbi.h - How each StepKind's PTX kernel is called -------------===//
//
// The contract between the kernel generators (lib/Codegen) and the CUDA
// backend (runtime/backends/cuda): for every kernel family, the order and
// type of the PTX entry's parameters and the launch grid as a function of the
// batch and of the kernel's tile constants (the Kernel table of
// runtime/schema/artifact.fbs). Header-only, no MLIR, no CUDA.
//
// Conventions shared by every family:
//  - Activations are f16 rows ("slots", Plan.slots[i].width elements per
//    token row, rows contiguous). Accumulation is f32 inside the kernels.
//  - Pointer parameters are device addresses (`.u64` in PTX); integer
//    parameters are `.u32` holding non-negative int32 values.
//  - Shapes that the artifact fixes (widths, features, heads, group size,
//    epsilon, RoPE frequencies) are compiled into the kernel; only the
//    per-call sizes below arrive as parameters.
//  - Weights of Embedding, RmsNorm and Linear (dense data, scales, zeros,
//    bias) are f16 on the device, except the f32 row scales of Fp8Channel
//    Linear weights (below); the backend converts other dtypes at upload.
//  - The KV cache of one layer is two f16 arrays (K and V), each laid out
//    [block, kv_head, slot (block_size), head_dim]; kernels take the layer's
//    K and V base addresses.
//  - An absent optional operand (bias, residual, zeros) is passed as 0; the
//    kernel was generated knowing it is absent and never reads it.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_KERNELABI_H
#define QTC_RT_KERNELABI_H

#include <cstdint>

namespace qtc::rt::abi {

// Kernel families. The first nine mirror fb::StepKind value for value (the
// CUDA backend static_asserts this); ArgmaxRows is an extra family used by the
// backend for greedy sampling on the device and is no plan step.
enum class KernelFamily : uint16_t {
  Embedding = 0,
  RmsNorm = 1,
  Linear = 2,
  RopeKvAppend = 3,
  Attention = 4,
  SwiGlu = 5,
  Add = 6,
  GatherRows = 7,
  QuantizeRows = 8,
  ArgmaxRows = 64,
};

inline const char *familyName(KernelFamily family) {
  switch (family) {
  case KernelFamily::Embedding: return "embedding";
  case KernelFamily::RmsNorm: return "rms_norm";
  case KernelFamily::Linear: return "linear";
  case KernelFamily::RopeKvAppend: return "rope_kv_append";
  case KernelFamily::Attention: return "attention";
  case KernelFamily::SwiGlu: return "swiglu";
  case KernelFamily::Add: return "add";
  case KernelFamily::GatherRows: return "gather_rows";
  case KernelFamily::QuantizeRows: return "quantize_rows";
  case KernelFamily::ArgmaxRows: return "argmax_rows";
  }
  return "unknown";
}

//===----------------------------------------------------------------------===//
// Parameter lists, in PTX order. `k<Name>` is the parameter's index; kCount is
// the number of parameters.
//===----------------------------------------------------------------------===//

// out[t, :] = table[ids[t], :]; ids outside [0, vocab) give a zero row.
namespace embedding {
enum : int { kTable, kIds, kOut, kNumTokens, kCount };
}

// out[t, :] = x[t, :] * rsqrt(mean(x[t, :]^2) + eps) * w. A quantizing RmsNorm
// (the step's activation is not None) writes out as quantized rows
// (qtc/rt/QuantizedRows.h) of the f16-rounded normalized values.
namespace rms_norm {
enum : int { kX, kWeight, kOut, kNumRows, kCount };
}

// out = the quantized rows of x (qtc/rt/QuantizedRows.h) per the step's
// activation scheme.
namespace quantize_rows {
enum : int { kX, kOut, kNumRows, kCount };
}

// out[t, n] = sum_k x[t, k] * W[n, k] (+ bias[n]) (+ residual[t, n]).
// Dense: kWeight is f16 [N, K]; kScales/kZeros are 0.
// Int4Group: kWeight is u8 [N, K/2] (low nibble first), kScales f16 [N, K/g],
// kZeros f16 [N, K/g] or 0 when symmetric (zero point 8).
// Int8Group: kWeight is i8 [N, K] (two's complement), kScales f16 [N, K/g]
// (g = K: one per row), kZeros 0.
// Fp8Channel: kWeight is u8 [N, K] (OCP E4M3 bytes, Float8.h), kScales f32
// [N], kZeros 0.
// With an activation scheme (W8A8), kX is a quantized slot of that scheme
// (qtc/rt/QuantizedRows.h): int8 codes and f32 row scales.
// kResidual may equal kOut (in-place residual add); kOut never aliases kX.
// Two schedules share this list and grid rule: the decode GEMV (tileM 8,
// tileN 16, splitK warps per tile) and the prefill GEMM (tileM 64, tileN 64).
namespace linear {
enum : int { kX, kWeight, kScales, kZeros, kBias, kResidual, kOut, kNumTokens, kCount };
}

// Rotates q and k of qkv [T, (H + 2*KVH) * D] in place (rotate-half RoPE at
// positions[t]) and stores k and v of each token in the layer's cache at
// block blockTables[tokenSeq[t] * maxBlocksPerSeq + positions[t] / block_size],
// slot positions[t] % block_size.
namespace rope_kv_append {
enum : int {
  kQkv, kKCache, kVCache, kPositions, kTokenSeq, kBlockTables,
  kNumTokens, kMaxBlocksPerSeq, kCount
};
}

// out[t, h*D:(h+1)*D] = softmax(q_h . K[0..pos]^T * scale) V[0..pos] where
// pos = positions[t], over the cache of sequence tokenSeq[t] (GQA: head h
// reads kv head h / (H / KVH)). Reads q from qkv; k and v come from the cache,
// which RopeKvAppend has filled for every position up to pos. Rows of one
// launch may belong to any sequences at any positions.
namespace attention {
enum : int {
  kQkv, kKCache, kVCache, kPositions, kTokenSeq, kBlockTables, kOut,
  kNumTokens, kMaxBlocksPerSeq, kCount
};
}

// out[t, :] = silu(x[t, :F]) * x[t, F:] with x of width 2F.
namespace swiglu {
enum : int { kX, kOut, kNumRows, kCount };
}

// out = a + b (same width); out may alias a or b.
namespace add {
enum : int { kA, kB, kOut, kNumRows, kCount };
}

// out[r, :] = x[rows[r], :]
namespace gather_rows {
enum : int { kX, kRows, kOut, kNumRows, kCount };
}

// ids[r] = argmax_j x[r, j] (the lowest j among equal maxima).
namespace argmax_rows {
enum : int { kX, kIds, kNumRows, kCount };
}

enum class ParamType : uint8_t { Pointer, I32 };

// Type of parameter `index` of `family`'s entry; kernels take pointers first,
// then the i32 sizes.
inline ParamType paramType(KernelFamily family, int index) {
  int firstI32 = 0;
  switch (family) {
  case KernelFamily::Embedding: firstI32 = embedding::kNumTokens; break;
  case KernelFamily::RmsNorm: firstI32 = rms_norm::kNumRows; break;
  case KernelFamily::Linear: firstI32 = linear::kNumTokens; break;
  case KernelFamily::RopeKvAppend: firstI32 = rope_kv_append::kNumTokens; break;
  case KernelFamily::Attention: firstI32 = attention::kNumTokens; break;
  case KernelFamily::SwiGlu: firstI32 = swiglu::kNumRows; break;
  case KernelFamily::Add: firstI32 = add::kNumRows; break;
  case KernelFamily::GatherRows: firstI32 = gather_rows::kNumRows; break;
  case KernelFamily::QuantizeRows: firstI32 = quantize_rows::kNumRows; break;
  case KernelFamily::ArgmaxRows: firstI32 = argmax_rows::kNumRows; break;
  }
  return index < firstI32 ? ParamType::Pointer : ParamType::I32;
}

inline int paramCount(KernelFamily family) {
  switch (family) {
  case KernelFamily::Embedding: return embedding::kCount;
  case KernelFamily::RmsNorm: return rms_norm::kCount;
  case KernelFamily::Linear: return linear::kCount;
  case KernelFamily::RopeKvAppend: return rope_kv_append::kCount;
  case KernelFamily::Attention: return attention::kCount;
  case KernelFamily::SwiGlu: return swiglu::kCount;
  case KernelFamily::Add: return add::kCount;
  case KernelFamily::GatherRows: return gather_rows::kCount;
  case KernelFamily::QuantizeRows: return quantize_rows::kCount;
  case KernelFamily::ArgmaxRows: return argmax_rows::kCount;
  }
  return 0;
}

//===----------------------------------------------------------------------===//
// Launch geometry
//===----------------------------------------------------------------------===//

// The Kernel table's launch constants.
struct KernelTile {
  int blockX = 1;
  int blockY = 1;
  int sharedBytes = 0; // dynamic shared memory passed at launch
  int tileM = 1;       // Linear: tokens per block (grid.y); Attention: (grid.x)
  int tileN = 1;       // Linear: output features per block (grid.x)
  int splitK = 1;      // Linear: warps of a block sharing one tile's K range
  // The kernel reads only never-written buffers (weights) before it executes
  // griddepcontrol.wait, and everything else after: it may be launched with
  // programmatic stream serialization (sm_90+), starting while the kernel
  // before it in the stream finishes.
  bool programmaticLaunch = false;
};

// Per-call sizes the grid depends on.
struct LaunchExtent {
  int numRows = 0;     // rows the step reads: tokens, or gathered rows
  int numKvHeads = 0;  // Attention: the model's KV heads
  int outFeatures = 0; // Linear: N
};

struct LaunchDims {
  uint32_t grid[3] = {1, 1, 1};
  uint32_t block[3] = {1, 1, 1};
  uint32_t sharedBytes = 0;
  bool programmatic = false; // KernelTile::programmaticLaunch
  bool empty() const { return grid[0] == 0 || grid[1] == 0 || grid[2] == 0; }
};

inline uint32_t ceilDiv(int a, int b) {
  return b <= 0 || a <= 0 ? 0u : static_cast<uint32_t>((a + b - 1) / b);
}

// Row kernels run one block per row; Linear one block per (tileN features,
// tileM tokens); Attention one block per (tileM tokens, kv head): tileM is 1
// for the per-token kernel and 16 for the flash-style prefill kernel. A
// launch with an empty grid (no rows) is skipped by the caller.
inline LaunchDims launchDims(KernelFamily family, const KernelTile &tile,
                             const LaunchExtent &extent) {
  LaunchDims dims;
  dims.block[0] = static_cast<uint32_t>(tile.blockX);
  dims.block[1] = static_cast<uint32_t>(tile.blockY);
  dims.sharedBytes = static_cast<uint32_t>(tile.sharedBytes);
  dims.programmatic = tile.programmaticLaunch;
  switch (family) {
  case KernelFamily::Linear:
    dims.grid[0] = ceilDiv(extent.outFeatures, tile.tileN);
    dims.grid[1] = ceilDiv(extent.numRows, tile.tileM);
    break;
  case KernelFamily::Attention:
    dims.grid[0] = ceilDiv(extent.numRows, tile.tileM);
    dims.grid[1] = static_cast<uint32_t>(extent.numKvHeads > 0 ? extent.numKvHeads : 0);
    break;
  default:
    dims.grid[0] = static_cast<uint32_t>(extent.numRows > 0 ? extent.numRows : 0);
    break;
  }
  return dims;
}

} // namespace qtc::rt::abi

#endif // QTC_RT_KERNELABI_H
