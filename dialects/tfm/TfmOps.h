//===- TfmOps.h - tfm operations --------------------------------*- C++ -*-===//

#ifndef QTC_DIALECTS_TFM_TFMOPS_H
#define QTC_DIALECTS_TFM_TFMOPS_H

#include "dialects/tfm/TfmAttrs.h"
#include "dialects/tfm/TfmDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/tfm/TfmOps.h.inc"

#endif // QTC_DIALECTS_TFM_TFMOPS_H
