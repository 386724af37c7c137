//===- KernelGenerator.h - GPU kernels for the runtime's plan steps -------===//
//
// One generator per kernel family builds a gpu.module (gpu, nvvm, nvgpu,
// vector, arith, memref, scf) for a request's shapes, weight format and
// target, and lowers it in process through LLVM's NVPTX backend to PTX. The
// PTX entry follows runtime/include/qtc/rt/KernelAbi.h; the returned launch
// constants fill the artifact's Kernel table.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_CODEGEN_KERNELGENERATOR_H
#define QTC_CODEGEN_KERNELGENERATOR_H

#include "qtc/rt/KernelAbi.h"
#include "qtc/rt/RopeFrequencies.h"
#include "qtc/rt/artifact_generated.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <string>

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace qtc::codegen {

using KernelFamily = rt::abi::KernelFamily;

struct KernelRequest {
  KernelFamily family = KernelFamily::Add;
  // Decode (one token per sequence, few rows) or prefill (many rows). Both
  // variants accept any row count; the flag picks the faster schedule.
  bool decode = true;

  // Row width of the row kernels: Embedding/RmsNorm/Add/GatherRows width,
  // SwiGlu output width F (input 2F), ArgmaxRows row length.
  int64_t hidden = 0;
  // Embedding table rows.
  int64_t vocab = 0;

  // Linear. The weight is stored as the artifact's WeightFormat says
  // (runtime/schema/artifact.fbs): Dense f16, Int4Group, Int8Group or
  // Fp8Channel. groupSize is the input channels per scale (Fp8Channel and
  // per-row Int8Group: inFeatures); symmetric is false only for Int4Group
  // with zero points.
  int64_t inFeatures = 0;
  int64_t outFeatures = 0;
  rt::fb::WeightFormat format = rt::fb::WeightFormat::Dense;
  int64_t groupSize = 0;
  bool symmetric = true;
  bool hasBias = false;
  bool hasResidual = false;
  // Linear: the scheme of its quantized input slot (artifact.fbs
  // ActivationQuant). With Int8PerToken (Int8Group weights, group =
  // inFeatures) x holds int8 codes and row scales, multiplied int8 x int8
  // (W8A8). RmsNorm and QuantizeRows: the scheme of the rows they write.
  rt::fb::ActivationQuant activation = rt::fb::ActivationQuant::None;

  // RmsNorm.
  float epsilon = 1e-5f;

  // RopeKvAppend / Attention.
  int heads = 0;
  int kvHeads = 0;
  int headDim = 0;
  int kvBlockSize = 16;
  // RoPE frequencies (headDim is taken from the request's headDim).
  rt::RopeFrequencySpec rope;
  // The paged KV cache's format, as the artifact's KvCacheSpec records it
  // (KernelSelection reads it off the compiled artifact). F16: f16
  // elements. F8E4M3: OCP FP8 E4M3 bytes (runtime/include/qtc/rt/Float8.h)
  // with scale 1, RopeKvAppend storing with round-to-nearest-even
  // saturation, Attention widening what it reads; sm_89 or newer. Int8:
  // per-token pages (runtime/include/qtc/rt/KvPage.h, no sinks, no window),
  // keys and values each symmetric or with f16 zeros; RopeKvAppend
  // quantizes each token per kv head, Attention dequantizes in registers.
  rt::fb::KvDType kvDType = rt::fb::KvDType::F16;
  bool kvKeySymmetric = true, kvValueSymmetric = true;
  bool kvFp8() const { return kvDType == rt::fb::KvDType::F8E4M3; }
  bool kvInt8() const { return kvDType == rt::fb::KvDType::Int8; }

  // Target: `chip` is an sm_XX name, `features` the PTX ISA ("+ptx80").
  std::string chip = "sm_90";
  std::string features = "+ptx80";

  // Tuning overrides for Linear (0: the generator's choice). splitK is the
  // number of warps sharing one output tile's K range; unroll the K steps
  // each warp keeps in flight.
  int splitK = 0;
  int unroll = 0;
  // Int4 and int8 GEMV: 1 scales the f16 operands, 2 the mma's f32 tile
  // (a K step's channels in one group: int4 groups of a multiple of 128,
  // int8 of 64) or, with one int8 scale per row, the f32 result. Fp8 is
  // always scaled on the f32 result (2).
  int dequant = 0;
  // GEMV on sm_90+: 1 waits for the stream predecessor at the kernel's start,
  // 2 after requesting the first weights, -1 never (plain launch only).
  int programmaticWait = 0;
  // GEMV, prefill GEMM: a register limit for ptxas (.maxnreg; 0: none).
  int maxRegisters = 0;
  // Prefill GEMM: 2 loads the next K step while multiplying this one (two
  // staging buffers), 1 loads and multiplies in turn (0: default, 2). The
  // wgmma GEMM: shared-memory K tiles in its ring, 3 to 6 (0: default, 6).
  int pipelineStages = 0;
  // Prefill GEMM on sm_90: 1 the Hopper schedule (wgmma.mma_async from
  // cp.async-staged shared memory, LinearWgmmaGenerator.cpp), -1 the
  // mma.sync one, 0 the default for the request (acceptsWgmmaGemm).
  int wgmma = 0;
};

struct GeneratedKernel {
  std::string entry; // PTX .entry name
  std::string ptx;
  std::string mlir;  // the gpu.module before lowering, for tests and tools
  rt::abi::KernelTile tile;
  // The PTX target the kernel was lowered for: the request's chip, or its
  // arch-specific variant (sm_90a) for instructions only that has (wgmma).
  std::string ptxChip;
};

// Registers the dialects, interfaces and translations generation needs.
void registerCodegenDependencies(mlir::DialectRegistry &registry);

// Builds and lowers the kernel for `request`. Unsupported shapes or formats
// are reported as errors on `context` (unknown location) and return failure.
mlir::FailureOr<GeneratedKernel> generateKernel(mlir::MLIRContext &context,
                                                const KernelRequest &request);

// Builds the kernel's gpu.module only (no lowering): what --emit mlir prints.
mlir::FailureOr<GeneratedKernel> buildKernelIR(mlir::MLIRContext &context,
                                               const KernelRequest &request);

// A stable entry name for `request` ("qtc_linear_int4g128s_n12288_k4096_...";
// the weight part is f16, int4g<G>{s,a}, int8g<G>, int8c (one scale per
// row) or fp8c, followed by _a8 for int8 per-token activations).
std::string kernelEntryName(const KernelRequest &request);

} // namespace qtc::codegen

#endif // QTC_CODEGEN_KERNELGENERATOR_H
