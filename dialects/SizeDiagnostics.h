//===- SizeDiagnostics.h - Size checks shared by qtc's verifiers -*- C++ -*-===//
//
// tfm and qnt verifiers compare tensor sizes where `?` (unknown) agrees with
// anything; these keep their messages uniform:
// "<what> (<actual>) must equal <expected-what> (<expected>)".
//
//===----------------------------------------------------------------------===//

#ifndef QTC_DIALECTS_SIZEDIAGNOSTICS_H
#define QTC_DIALECTS_SIZEDIAGNOSTICS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"

#include <string>

namespace qtc {

/// Sizes agree when either is unknown (`?`) or both are equal.
inline bool sizesAgree(int64_t a, int64_t b) {
  return mlir::ShapedType::isDynamic(a) || mlir::ShapedType::isDynamic(b) ||
         a == b;
}

/// A size as tensor types print it: `?` when unknown.
inline std::string sizeText(int64_t size) {
  return mlir::ShapedType::isDynamic(size) ? "?" : std::to_string(size);
}

/// Emits "<what> (<actual>) must equal <expectedWhat> (<expected>)" on `op`
/// unless the two sizes agree.
inline mlir::LogicalResult expectSize(mlir::Operation *op, llvm::StringRef what,
                                      int64_t actual,
                                      llvm::StringRef expectedWhat,
                                      int64_t expected) {
  if (sizesAgree(actual, expected))
    return mlir::success();
  return op->emitOpError() << what << " (" << sizeText(actual)
                           << ") must equal " << expectedWhat << " ("
                           << sizeText(expected) << ")";
}

} // namespace qtc

#endif // QTC_DIALECTS_SIZEDIAGNOSTICS_H
