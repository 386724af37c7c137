//===- Passes.h - qtc's passes ----------------------------------*- C++ -*-===//
#ifndef QTC_TRANSFORMS_PASSES_H
#define QTC_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

namespace qtc {

#define GEN_PASS_DECL
#include "qtc/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qtc/Transforms/Passes.h.inc"

} // namespace qtc

#endif // QTC_TRANSFORMS_PASSES_H
