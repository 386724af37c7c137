//===- Generators.h - One IR generator per kernel family ------------------===//
//
// Each generator checks that it supports the request (errors at the
// builder's location), creates the kernel's module with createKernelShell in
// the parameter order of qtc/rt/KernelAbi.h, fills the body and reports the
// launch constants.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_LIB_CODEGEN_GENERATORS_H
#define QTC_LIB_CODEGEN_GENERATORS_H

#include "KernelBuilder.h"
#include "qtc/Codegen/KernelGenerator.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace qtc::codegen {

struct KernelIR {
  mlir::ModuleOp module;
  rt::abi::KernelTile tile;
  // Lower for this chip instead of the request's (e.g. "sm_90a"); empty:
  // the request's.
  std::string ptxChip;
};

// Terminates the kernel built in `shell` (finishKernel) and returns it with
// its block size; callers add the other launch constants they need.
KernelIR finishKernelIR(mlir::ImplicitLocOpBuilder &b, const KernelShell &shell, int blockX);

using GeneratorFn = mlir::FailureOr<KernelIR> (*)(mlir::ImplicitLocOpBuilder &,
                                                  const KernelRequest &,
                                                  llvm::StringRef entry);

// Heads, head_dim and KV block size checks shared by RopeKvAppend and
// Attention, and for an fp8 KV cache the target (sm_89+, PTX ISA 8.1 on
// sm_89).
mlir::LogicalResult checkAttentionShape(mlir::ImplicitLocOpBuilder &b,
                                        llvm::StringRef what,
                                        const KernelRequest &r);

mlir::FailureOr<KernelIR> buildEmbeddingKernel(mlir::ImplicitLocOpBuilder &b,
                                               const KernelRequest &r,
                                               llvm::StringRef entry);
mlir::FailureOr<KernelIR> buildRmsNormKernel(mlir::ImplicitLocOpBuilder &b,
                                             const KernelRequest &r,
                                             llvm::StringRef entry);
mlir::FailureOr<KernelIR> buildQuantizeRowsKernel(mlir::ImplicitLocOpBuilder &b,
                                                  const KernelRequest &r,
                                                  llvm::StringRef entry);
// Linear: shapes, formats and targets both schedules accept.
mlir::LogicalResult checkLinearRequest(mlir::ImplicitLocOpBuilder &b,
                                       const KernelRequest &r);
// Linear: the parameters of qtc/rt/KernelAbi.h's linear list, typed and
// sized for the request's shape and weight format.
llvm::SmallVector<KernelParam> linearParams(KernelBuilder &kb, const KernelRequest &r);
// Decode: tensor-core GEMV, 8 tokens x 16 features per block.
mlir::FailureOr<KernelIR> buildGemvKernel(mlir::ImplicitLocOpBuilder &b,
                                          const KernelRequest &r,
                                          llvm::StringRef entry);
// Prefill: tiled tensor-core GEMM, 64 tokens x 64 features per block.
mlir::FailureOr<KernelIR> buildGemmKernel(mlir::ImplicitLocOpBuilder &b,
                                          const KernelRequest &r,
                                          llvm::StringRef entry);
// Prefill on sm_90: wgmma GEMM, 128 tokens x 128 features per block of two
// warpgroups, for the requests acceptsWgmmaGemm admits.
bool acceptsWgmmaGemm(const KernelRequest &r);
bool usesWgmmaGemm(const KernelRequest &r);
mlir::FailureOr<KernelIR> buildWgmmaGemmKernel(mlir::ImplicitLocOpBuilder &b,
                                               const KernelRequest &r,
                                               llvm::StringRef entry);
// Int8 weights (one scale per row) x int8 per-token activations quantized
// in the kernel, on mma.sync s8: 64 features x 8 (decode) or 32 (prefill)
// tokens per block.
mlir::FailureOr<KernelIR> buildW8A8Kernel(mlir::ImplicitLocOpBuilder &b,
                                          const KernelRequest &r,
                                          llvm::StringRef entry);
mlir::FailureOr<KernelIR> buildRopeKvAppendKernel(mlir::ImplicitLocOpBuilder &b,
                                                  const KernelRequest &r,
                                                  llvm::StringRef entry);
mlir::FailureOr<KernelIR> buildAttentionKernel(mlir::ImplicitLocOpBuilder &b,
                                               const KernelRequest &r,
                                               llvm::StringRef entry);
// Prefill: flash-style tiles of 16 query rows on tensor cores, for the shapes
// usesFlashPrefillAttention accepts (others use the per-token kernel).
bool usesFlashPrefillAttention(const KernelRequest &r);
mlir::FailureOr<KernelIR>
buildFlashPrefillAttentionKernel(mlir::ImplicitLocOpBuilder &b,
                                 const KernelRequest &r, llvm::StringRef entry);
mlir::FailureOr<KernelIR> buildSwiGluKernel(mlir::ImplicitLocOpBuilder &b,
                                            const KernelRequest &r,
                                            llvm::StringRef entry);
mlir::FailureOr<KernelIR> buildAddKernel(mlir::ImplicitLocOpBuilder &b,
                                         const KernelRequest &r,
                                         llvm::StringRef entry);
mlir::FailureOr<KernelIR> buildGatherRowsKernel(mlir::ImplicitLocOpBuilder &b,
                                                const KernelRequest &r,
                                                llvm::StringRef entry);
mlir::FailureOr<KernelIR> buildArgmaxRowsKernel(mlir::ImplicitLocOpBuilder &b,
                                                const KernelRequest &r,
                                                llvm::StringRef entry);

} // namespace qtc::codegen

#endif // QTC_LIB_CODEGEN_GENERATORS_H
