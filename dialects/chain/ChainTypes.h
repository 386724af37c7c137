//===- ChainTypes.h - chain types -------------------------------*- C++ -*-===//

#ifndef QTC_DIALECTS_CHAIN_CHAINTYPES_H
#define QTC_DIALECTS_CHAIN_CHAINTYPES_H

#include "dialects/qnt/QntAttrs.h"

#include "mlir/IR/Types.h"

#define GET_TYPEDEF_CLASSES
#include "dialects/chain/ChainTypes.h.inc"

namespace qtc::chain {

// The row width of a !chain.tokens, !chain.logit_rows or
// !chain.quantized_tokens type.
int64_t rowWidth(mlir::Type rows);

// The type of the same kind as `rows` with width `width`.
mlir::Type withRowWidth(mlir::Type rows, int64_t width);

// The activation encoding a quantized_tokens type holds (null otherwise).
qnt::EncodingAttr rowEncoding(mlir::Type rows);

// Whether `encoding` is one the runtime quantizes rows with: int8 or fp8
// e4m3 codes, per token, f32 scales.
bool isRowQuantization(qnt::EncodingAttr encoding);

} // namespace qtc::chain

#endif // QTC_DIALECTS_CHAIN_CHAINTYPES_H
