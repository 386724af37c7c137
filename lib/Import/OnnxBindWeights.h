//===- OnnxBindWeights.h - The bound model's weights ------------*- C++ -*-===//
//
// qtc-onnx-bind-model names each initializer a raised op reads by its role
// and registers it in the importer's WeightStore the way tfm.model reads
// it: [out, in] rows, the graph's [in, out] copies transposed, interleaved
// RoPE's q/k rows permuted. Nothing is copied until a pass reads a weight.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_LIB_IMPORT_ONNXBINDWEIGHTS_H
#define QTC_LIB_IMPORT_ONNXBINDWEIGHTS_H

#include "dialects/onnx/OnnxOps.h"
#include "qtc/Import/WeightStore.h"

#include "llvm/ADT/SmallVector.h"

namespace qtc {

/// An initializer a raised op reads, and how the bound weight views it.
struct WeightSource {
  onnxir::ConstantOp constant;
  /// The op reads it transposed (an [in, out] MatMul operand).
  bool transposed = false;
  /// Row r of the bound weight is row permutation[r] of the source's
  /// [out, in] (or [out]) view; empty for none.
  llvm::SmallVector<int64_t> permutation;
};

/// The initializer `w` (an operand of `user`) is, directly or through a
/// [1, 0] Transpose; otherwise an error at `user`.
mlir::FailureOr<WeightSource> weightSourceOf(mlir::Value w,
                                             mlir::Operation *user);

/// Registers `name` in `store` as `source` describes. The constant must
/// view bytes `store` keeps alive (importOnnxNodes' resources) or hold them
/// inline (they are then copied into the store).
mlir::LogicalResult registerBoundWeight(WeightStore &store,
                                        llvm::StringRef name,
                                        const WeightSource &source);

} // namespace qtc

#endif // QTC_LIB_IMPORT_ONNXBINDWEIGHTS_H
