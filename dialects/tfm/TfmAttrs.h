//===- TfmAttrs.h - tfm attributes and enums --------------------*- C++ -*-===//

#ifndef QTC_DIALECTS_TFM_TFMATTRS_H
#define QTC_DIALECTS_TFM_TFMATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"

#include "dialects/tfm/TfmEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/tfm/TfmAttrs.h.inc"

#endif // QTC_DIALECTS_TFM_TFMATTRS_H
