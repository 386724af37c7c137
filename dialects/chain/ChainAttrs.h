//===- ChainAttrs.h - chain attributes --------------------------*- C++ -*-===//

#ifndef QTC_DIALECTS_CHAIN_CHAINATTRS_H
#define QTC_DIALECTS_CHAIN_CHAINATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"

#define GET_ATTRDEF_CLASSES
#include "dialects/chain/ChainAttrs.h.inc"

#endif // QTC_DIALECTS_CHAIN_CHAINATTRS_H
