//===- KernelSelection.h - Generate the kernels a plan's steps need -------===//
#ifndef QTC_LIB_PIPELINE_KERNELSELECTION_H
#define QTC_LIB_PIPELINE_KERNELSELECTION_H

#include "qtc/Artifact/ArtifactContents.h"

#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace qtc {

// Loads what kernel generation needs into `context`.
void loadCodegenDialects(mlir::MLIRContext &context);

// For every step (its chain op in `stepOps`, parallel to contents.steps) and target, generates the prefill kernel (Step.kernel_ids)
// and, where a faster schedule exists for one token per sequence, the decode
// kernel (Step.decode_kernel_ids), and per target the argmax_rows kernel
// over the logits for greedy sampling (Plan.argmax_kernel_ids; -1 where the
// vocabulary is not a multiple of 8). Identical kernels are generated once;
// with `cacheDir`, a kernel lowered before (by any compile) is taken from
// the kernel cache there (KernelCache.h) instead of being lowered again.
// `stats`, when set, counts kernels generated and taken from the cache.
mlir::LogicalResult generateKernels(mlir::MLIRContext &context,
                                    mlir::Location loc,
                                    llvm::ArrayRef<std::string> targets,
                                    artifact::ArtifactContents &contents,
                                    llvm::ArrayRef<mlir::Operation *> stepOps,
                                    llvm::raw_ostream *progress,
                                    struct CompileStats *stats = nullptr,
                                    llvm::StringRef cacheDir = "");

} // namespace qtc

#endif // QTC_LIB_PIPELINE_KERNELSELECTION_H
