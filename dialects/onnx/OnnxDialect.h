//===- OnnxDialect.h - ONNX graphs, one op per node -------------*- C++ -*-===//

#ifndef QTC_DIALECTS_ONNX_ONNXDIALECT_H
#define QTC_DIALECTS_ONNX_ONNXDIALECT_H

#include "mlir/IR/Dialect.h"
#include "mlir/IR/Types.h"

#include "dialects/onnx/OnnxDialect.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/onnx/OnnxTypes.h.inc"

#endif // QTC_DIALECTS_ONNX_ONNXDIALECT_H
