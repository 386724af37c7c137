//===- OnnxRaiseSupport.h - What the raising patterns share -----*- C++ -*-===//
//
// tfm ops take activations as [tokens, features]; ONNX graphs of one
// sequence carry [1, tokens, features]. Raising collapses the batch
// dimension into the tfm op and expands it back with tensor reshapes, which
// cancel between neighbouring raised ops.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_LIB_IMPORT_ONNXRAISESUPPORT_H
#define QTC_LIB_IMPORT_ONNXRAISESUPPORT_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/PatternMatch.h"

#include <optional>
#include <string>

namespace qtc {

/// `x` as [tokens, features]: itself when rank 2, collapsed when rank 3 with
/// a leading 1; null otherwise.
mlir::Value toTokens(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x);
/// `y` [tokens, features] reshaped to `like`'s rank (2 or 3).
mlir::Value fromTokens(mlir::OpBuilder &b, mlir::Location loc, mlir::Value y,
                       mlir::Type like);
/// Whether `x` is an activation raising can take: rank 2, or rank 3 with a
/// leading 1.
bool isTokenActivation(mlir::Value x);

/// The constant `v` holds (dense or a named weight), or null.
mlir::ElementsAttr constantOf(mlir::Value v);
/// The single value of a constant with one element (or a splat).
std::optional<double> scalarOf(mlir::Value v);
/// `v` with any onnx.Cast in front of it skipped.
mlir::Value skipCasts(mlir::Value v);

/// `'name' (OpType)` of the ONNX node `op` came from.
std::string describeNode(mlir::Operation *op);

/// The product's factors: Mul operands, recursively through Muls whose
/// result has a single user.
void collectFactors(mlir::Value v, llvm::SmallVectorImpl<mlir::Value> &out,
                    int depth = 0);

} // namespace qtc

#endif // QTC_LIB_IMPORT_ONNXRAISESUPPORT_H
