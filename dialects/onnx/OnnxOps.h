//===- OnnxOps.h - ONNX operations ------------------------------*- C++ -*-===//

#ifndef QTC_DIALECTS_ONNX_ONNXOPS_H
#define QTC_DIALECTS_ONNX_ONNXOPS_H

#include "dialects/onnx/OnnxDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/onnx/OnnxOps.h.inc"

namespace qtc::onnxir {

/// Largest tensor a folder creates: shape and mask subgraphs stay far below
/// it; weight-sized results are never materialized in the IR.
inline constexpr int64_t kMaxFoldElements = 1 << 16;

/// Whether `value` is a named weight: a `dense_resource` initializer.
bool isNamedWeight(mlir::Attribute value);

} // namespace qtc::onnxir

#endif // QTC_DIALECTS_ONNX_ONNXOPS_H
