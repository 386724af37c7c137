//===- ChainTypes.h - chain types -------------------------------*- C++ -*-===//

#ifndef QTC_DIALECTS_CHAIN_CHAINTYPES_H
#define QTC_DIALECTS_CHAIN_CHAINTYPES_H

#include "mlir/IR/Types.h"

#define GET_TYPEDEF_CLASSES
#include "dialects/chain/ChainTypes.h.inc"

namespace qtc::chain {

// The row width of a !chain.tokens or !chain.logit_rows type.
int64_t rowWidth(mlir::Type rows);

// The type of the same kind as `rows` with width `width`.
mlir::Type withRowWidth(mlir::Type rows, int64_t width);

} // namespace qtc::chain

#endif // QTC_DIALECTS_CHAIN_CHAINTYPES_H
