//===- QntDialect.h - The quantization dialect ------------------*- C++ -*-===//

#ifndef QTC_DIALECTS_QNT_QNTDIALECT_H
#define QTC_DIALECTS_QNT_QNTDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dialects/qnt/QntDialect.h.inc"

#endif // QTC_DIALECTS_QNT_QNTDIALECT_H
