//===- TfmDialect.h - The transformer graph dialect -------------*- C++ -*-===//

#ifndef QTC_DIALECTS_TFM_TFMDIALECT_H
#define QTC_DIALECTS_TFM_TFMDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dialects/tfm/TfmDialect.h.inc"

#endif // QTC_DIALECTS_TFM_TFMDIALECT_H
