//===- QntOps.h - qnt operations --------------------------------*- C++ -*-===//

#ifndef QTC_DIALECTS_QNT_QNTOPS_H
#define QTC_DIALECTS_QNT_QNTOPS_H

#include "dialects/qnt/QntAttrs.h"
#include "dialects/qnt/QntDialect.h"
#include "dialects/qnt/QntTypes.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/qnt/QntOps.h.inc"

#endif // QTC_DIALECTS_QNT_QNTOPS_H
