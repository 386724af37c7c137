//===- InitAllDialects.h - Registers qtc's own dialects ---------*- C++ -*-===//
//
// Tools (qtc, qtc-opt) call this beside MLIR's registrations. Link the
// QTCDialects CMake target for the definitions.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_INITALLDIALECTS_H
#define QTC_INITALLDIALECTS_H

#include "dialects/chain/ChainDialect.h"
#include "dialects/onnx/OnnxDialect.h"
#include "dialects/qnt/QntDialect.h"
#include "dialects/tfm/TfmDialect.h"
#include "mlir/IR/DialectRegistry.h"

namespace qtc {

/// Adds the tfm, qnt, chain and onnx dialects to `registry`.
inline void registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<tfm::TfmDialect, qnt::QntDialect, chain::ChainDialect,
                  onnxir::OnnxDialect>();
}

} // namespace qtc

#endif // QTC_INITALLDIALECTS_H
