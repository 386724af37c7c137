//===- QuantizeTargets.h - What a weight quantizer pass works on -*- C++ -*-===//
//
// Every weight quantizer (qtc-rtn, qtc-gptq) finds the same ops (qnt.quantize
// of a tfm.weight in an encoding some quantizer computes, WeightContext.h's
// weightQuantization) and ends the same way: store the
// result beside the IR, measure it, and replace the op with
// qnt.quantized_weight. One definition of both halves; the passes supply the
// algorithm in between.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_LIB_TRANSFORMS_QUANTIZETARGETS_H
#define QTC_LIB_TRANSFORMS_QUANTIZETARGETS_H

#include "dialects/qnt/QntOps.h"
#include "qtc/Import/WeightMatrix.h"
#include "qtc/Transforms/WeightContext.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace qtc {

struct QuantizeTarget {
  qnt::QuantizeOp op;
  std::string weightName;
  WeightQuantization how;
};

// What a weight quantizer computes for `target` from its weight and the
// Hessian X^T X of its input (empty without calibration statistics); errors
// are emitted at target.op.
using QuantizeFunction = llvm::function_ref<mlir::FailureOr<QuantizedWeight>(
    const QuantizeTarget &target, const WeightMatrix &weight,
    llvm::ArrayRef<double> hessian)>;

// The work every weight quantizer pass does around its algorithm: needs the
// model's weights (naming `pass`), finds the targets, reads each weight, runs
// `quantize`, then stores the result, measures it (weight SQNR and max error;
// with a Hessian, the output SQNR) and replaces the qnt.quantize with a
// qnt.quantized_weight of `method`.
mlir::LogicalResult quantizeTargets(mlir::ModuleOp module, llvm::StringRef pass,
                                    llvm::StringRef method,
                                    QuantizeFunction quantize);

} // namespace qtc

#endif // QTC_LIB_TRANSFORMS_QUANTIZETARGETS_H
