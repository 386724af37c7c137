//===- OnnxModelLoader.h - ONNX protobuf to OnnxGraph -----------*- C++ -*-===//

#ifndef QTC_LIB_IMPORT_ONNXMODELLOADER_H
#define QTC_LIB_IMPORT_ONNXMODELLOADER_H

#include "OnnxGraph.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/LLVM.h"

namespace qtc {

/// Lowest and highest default-domain opset the importer accepts.
inline constexpr int64_t kMinOnnxOpset = 13;
inline constexpr int64_t kMaxOnnxOpset = 23;

/// Parses the ONNX model at `path` into an OnnxGraph. Constant nodes
/// become constants. Initializer bytes, whether in the protobuf or in
/// external data files (which must lie inside the model's folder), are kept
/// alive by `store` without being copied where the source allows it.
mlir::FailureOr<OnnxGraph> loadOnnxGraph(mlir::MLIRContext &context,
                                         llvm::StringRef path,
                                         WeightStore &store);

} // namespace qtc

#endif // QTC_LIB_IMPORT_ONNXMODELLOADER_H
