//===- QuantizeTargets.cpp - What a weight quantizer pass works on --------===//

#include "QuantizeTargets.h"

#include "dialects/qnt/QntAttrs.h"
#include "dialects/qnt/QntTypes.h"
#include "dialects/tfm/TfmOps.h"
#include "qtc/Quant/ActivationStatistics.h"
#include "qtc/Quant/Gptq.h"
#include "qtc/Quant/Numerics.h"
#include "qtc/Transforms/WeightContext.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/Format.h"

#include <cmath>

using namespace mlir;

namespace qtc {
namespace {

// The qnt.quantize ops of `module` in order. Fails (naming `pass`) at one
// whose input is not a tfm.weight or whose encoding no quantizer computes.
FailureOr<SmallVector<QuantizeTarget>> collectQuantizeTargets(ModuleOp module,
                                                              StringRef pass) {
  SmallVector<QuantizeTarget> targets;
  WalkResult walk = module.walk([&](qnt::QuantizeOp op) {
    auto weight = op.getInput().getDefiningOp<tfm::WeightOp>();
    if (!weight) {
      op.emitError(pass) << " quantizes stored weights only; this input is "
                            "computed in the graph";
      return WalkResult::interrupt();
    }
    qnt::WeightType type = op.getResult().getType();
    FailureOr<WeightQuantization> how =
        weightQuantization(type.getEncoding(), type.getShape()[1], op.getLoc());
    if (failed(how))
      return WalkResult::interrupt();
    QuantizeTarget t;
    t.op = op;
    t.weightName = weight.getName().str();
    t.how = *how;
    targets.push_back(std::move(t));
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  return targets;
}

double decibels(double signal, double noise) {
  if (noise <= 0)
    return signal > 0 ? 200.0 : 0.0; // exact: report a finite, large figure
  return 10.0 * std::log10(signal / noise);
}

// Stores `q` as `target`'s quantized weight, measures it against `original`
// (weight SQNR and max error; given the input's `hessian`, the output SQNR
// over the calibration activations) and replaces the qnt.quantize with a
// qnt.quantized_weight of `method`.
LogicalResult materializeQuantized(const QuantizeTarget &target,
                                   const WeightMatrix &original,
                                   const QuantizedWeight &q,
                                   StringRef method, ArrayRef<double> hessian,
                                   WeightContext &weights) {
  qnt::QuantizeOp op = target.op;
  Location loc = op.getLoc();
  llvm::Expected<std::vector<float>> deq = dequantize(q);
  const int64_t outFeatures = original.shape[0], inFeatures = original.shape[1];
  if (!deq)
    return op.emitError("dequantizing '")
           << target.weightName << "': " << llvm::toString(deq.takeError());
  llvm::Expected<quant::ErrorStats> err = quant::measureError(original.values, *deq);
  if (!err)
    return op.emitError("measuring '")
           << target.weightName << "': " << llvm::toString(err.takeError());

  std::optional<double> outputSqnr;
  if (!hessian.empty()) {
    ArrayRef<double> h = hessian;
    std::vector<float> zeros(original.values.size(), 0.0f);
    llvm::Expected<double> noise = quant::hessianWeightedError(
        original.values, *deq, outFeatures, inFeatures, h);
    llvm::Expected<double> signal = quant::hessianWeightedError(
        original.values, zeros, outFeatures, inFeatures, h);
    if (!noise || !signal) {
      llvm::consumeError(noise.takeError());
      llvm::consumeError(signal.takeError());
      return op.emitError("measuring the output error of '")
             << target.weightName << "' failed";
    }
    outputSqnr = decibels(*signal, *noise);
  }

  if (failed(storeQuantized(weights.store(), target.weightName, q, loc)))
    return failure();
  OpBuilder b(op);
  auto replacement = qnt::QuantizedWeightOp::create(
      b, loc, op.getResult().getType(), b.getStringAttr(target.weightName),
      b.getStringAttr(method),
      b.getF32FloatAttr(static_cast<float>(err->sqnrDb)),
      b.getF32FloatAttr(static_cast<float>(err->maxAbsError)),
      outputSqnr ? b.getF32FloatAttr(static_cast<float>(*outputSqnr)) : FloatAttr());
  op.getResult().replaceAllUsesWith(replacement.getResult());
  op.erase();
  if (weights.progress) {
    *weights.progress << llvm::format("  %-4s %-48s %5lldx%-5lld SQNR %6.2f dB",
                                      method.str().c_str(),
                                      target.weightName.c_str(),
                                      static_cast<long long>(outFeatures),
                                      static_cast<long long>(inFeatures),
                                      err->sqnrDb);
    if (outputSqnr)
      *weights.progress << llvm::format(", output %6.2f dB", *outputSqnr);
    *weights.progress << "\n";
    weights.progress->flush();
  }
  return success();
}

} // namespace

LogicalResult quantizeTargets(ModuleOp module, StringRef pass, StringRef method,
                              QuantizeFunction quantize) {
  FailureOr<WeightContext *> weights = WeightContext::require(module, pass);
  if (failed(weights))
    return failure();
  FailureOr<SmallVector<QuantizeTarget>> targets =
      collectQuantizeTargets(module, pass);
  if (failed(targets))
    return failure();
  // q, k and v (gate and up) read one input and come one after another:
  // keep the last Hessian rather than rebuilding it for each.
  const quant::ActivationStatistics *hessianOf = nullptr;
  std::vector<double> hessian;
  for (QuantizeTarget &t : *targets) {
    FailureOr<WeightMatrix> w =
        readWeight((*weights)->store(), t.weightName, t.op.getLoc());
    if (failed(w))
      return failure();
    const quant::ActivationStatistics *stats =
        (*weights)->inputStatistics(t.weightName);
    if (stats && stats->rows() == 0)
      stats = nullptr;
    if (stats && stats->width() != w->shape[1])
      return t.op.emitError(pass)
             << ": calibration statistics of '" << t.weightName << "' are "
             << stats->width() << " channels wide; the weight has "
             << w->shape[1] << " inputs";
    if (!stats)
      hessian.clear();
    else if (stats != hessianOf)
      hessian = stats->gram();
    hessianOf = stats;
    FailureOr<QuantizedWeight> q = quantize(t, *w, hessian);
    if (failed(q) ||
        failed(materializeQuantized(t, *w, *q, method, hessian, **weights)))
      return failure();
  }
  return success();
}

} // namespace qtc
