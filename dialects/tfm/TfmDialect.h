//===- TfmDialect.h - The transformer graph dialect -------------*- C++ -*-===//

#ifndef QTC_DIALECTS_TFM_TFMDIALECT_H
#define QTC_DIALECTS_TFM_TFMDIALECT_H

#include "mlir/IR/Dialect.h"

namespace qtc {
class WeightContext; // qtc/Transforms/WeightContext.h
} // namespace qtc

#include "dialects/tfm/TfmDialect.h.inc"

#endif // QTC_DIALECTS_TFM_TFMDIALECT_H
