//===- QntTypes.h - qnt types -----------------------------------*- C++ -*-===//

#ifndef QTC_DIALECTS_QNT_QNTTYPES_H
#define QTC_DIALECTS_QNT_QNTTYPES_H

#include "dialects/qnt/QntAttrs.h"
#include "mlir/IR/Types.h"

#define GET_TYPEDEF_CLASSES
#include "dialects/qnt/QntTypes.h.inc"

#endif // QTC_DIALECTS_QNT_QNTTYPES_H
