//===- PtxLowering.h - gpu.module to PTX text, in process -----------------===//
#ifndef QTC_LIB_CODEGEN_PTXLOWERING_H
#define QTC_LIB_CODEGEN_PTXLOWERING_H

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace qtc::codegen {

// Runs upstream's gpu-lower-to-nvvm pipeline (bare-pointer kernel arguments,
// opt level 3, gpu-module-to-binary with format=isa) on `module`, which holds
// one gpu.module, and returns the PTX text of the resulting gpu.binary.
// `module` is rewritten in place.
mlir::FailureOr<std::string> lowerToPtx(mlir::ModuleOp module,
                                        llvm::StringRef chip,
                                        llvm::StringRef features);

// 81 for "+ptx81" among the target features, 0 when none is named.
int ptxIsaVersion(llvm::StringRef features);

} // namespace qtc::codegen

#endif // QTC_LIB_CODEGEN_PTXLOWERING_H
