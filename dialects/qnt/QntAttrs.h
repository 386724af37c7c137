//===- QntAttrs.h - qnt attributes and enums --------------------*- C++ -*-===//

#ifndef QTC_DIALECTS_QNT_QNTATTRS_H
#define QTC_DIALECTS_QNT_QNTATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"

#include "dialects/qnt/QntEnums.h.inc"

namespace qtc::qnt {

/// Bits of storage per value of `format`.
unsigned getFormatBits(Format format);

/// i2..i8 and u2..u8: values map linearly, so only these take a zero point.
bool isIntegerFormat(Format format);

/// i2..i8.
bool isSignedIntegerFormat(Format format);

/// nf4 (fixed table) and lut2..lut8 (table given in the encoding).
bool isTableFormat(Format format);

/// The discardable attribute naming a `tfm.attention`'s `#qnt.kv_scheme`
/// (set by qtc-quantize-kv-cache, read by the plan builder).
inline constexpr llvm::StringLiteral kKvSchemeAttrName = "qnt.kv_scheme";

} // namespace qtc::qnt

#define GET_ATTRDEF_CLASSES
#include "dialects/qnt/QntAttrs.h.inc"

#endif // QTC_DIALECTS_QNT_QNTATTRS_H
