//===- QuantizeTargets.h - What a weight quantizer pass works on -*- C++ -*-===//
//
// Every weight quantizer (qtc-rtn, qtc-gptq) finds the same ops (qnt.quantize
// of a tfm.weight in an int4 group encoding) and ends the same way: store the
// result beside the IR, measure it, and replace the op with
// qnt.quantized_weight. One definition of both halves.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_LIB_TRANSFORMS_QUANTIZETARGETS_H
#define QTC_LIB_TRANSFORMS_QUANTIZETARGETS_H

#include "dialects/qnt/QntOps.h"
#include "qtc/Import/WeightMatrix.h"
#include "qtc/Quant/RoundToNearest.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace qtc {

class WeightContext;
namespace quant {
class ActivationStatistics;
} // namespace quant

struct QuantizeTarget {
  qnt::QuantizeOp op;
  std::string weightName;
  quant::Int4GroupOptions grid;
};

// The qnt.quantize ops of `module` in order. Fails (naming `pass`) at one
// whose input is not a tfm.weight or whose encoding no quantizer computes
// (int4 or uint4 per_group along the input channels with f16 scales).
mlir::FailureOr<llvm::SmallVector<QuantizeTarget>>
collectQuantizeTargets(mlir::ModuleOp module, llvm::StringRef pass);

// Stores `q` as `target`'s quantized weight, measures it against `original`
// (weight SQNR and max error; with `stats`, the output SQNR over the
// calibration activations) and replaces the qnt.quantize with a
// qnt.quantized_weight of `method`.
mlir::LogicalResult materializeQuantized(const QuantizeTarget &target,
                                         const WeightMatrix &original,
                                         const quant::Int4GroupWeight &q,
                                         llvm::StringRef method,
                                         const quant::ActivationStatistics *stats,
                                         WeightContext &weights);

} // namespace qtc

#endif // QTC_LIB_TRANSFORMS_QUANTIZETARGETS_H
