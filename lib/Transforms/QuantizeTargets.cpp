//===- QuantizeTargets.cpp - What a weight quantizer pass works on --------===//

#include "QuantizeTargets.h"

#include "dialects/qnt/QntAttrs.h"
#include "dialects/qnt/QntTypes.h"
#include "dialects/tfm/TfmOps.h"
#include "qtc/Import/WeightStore.h"
#include "qtc/Quant/ActivationStatistics.h"
#include "qtc/Quant/Gptq.h"
#include "qtc/Quant/Numerics.h"
#include "qtc/Transforms/WeightContext.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/Threading.h"

#include <atomic>
#include <future>
#include <cmath>
#include <optional>

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

// How a quantized weight compares with the original: computed on any
// thread, recorded in order.
struct Measured {
  quant::ErrorStats error;
  std::optional<double> outputSqnr;
};

// Measures `q` against `original` (weight SQNR and max error; given the
// input's `hessian`, the output SQNR over the calibration activations).
// Thread-safe: only diagnostics reach the context.
FailureOr<Measured> measureQuantized(const QuantizeTarget &target,
                                     const WeightMatrix &original,
                                     const QuantizedWeight &q,
                                     ArrayRef<double> hessian) {
  qnt::QuantizeOp op = target.op;
  llvm::Expected<std::vector<float>> deq = dequantize(q);
  const int64_t outFeatures = original.shape[0], inFeatures = original.shape[1];
  if (!deq)
    return op.emitError("dequantizing '")
           << target.weightName << "': " << llvm::toString(deq.takeError());
  llvm::Expected<quant::ErrorStats> err = quant::measureError(original.values, *deq);
  if (!err)
    return op.emitError("measuring '")
           << target.weightName << "': " << llvm::toString(err.takeError());
  Measured measured;
  measured.error = *err;
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
    measured.outputSqnr = decibels(*signal, *noise);
  }
  return measured;
}

// Stores `q` as `target`'s quantized weight and replaces the qnt.quantize
// with a qnt.quantized_weight of `method` carrying `measured`.
LogicalResult materializeQuantized(const QuantizeTarget &target,
                                   ArrayRef<int64_t> shape,
                                   const QuantizedWeight &q, const Measured &measured,
                                   StringRef method, WeightContext &weights) {
  qnt::QuantizeOp op = target.op;
  Location loc = op.getLoc();
  if (failed(storeQuantized(weights.store(), target.weightName, q, loc)))
    return failure();
  OpBuilder b(op);
  const std::optional<double> &outputSqnr = measured.outputSqnr;
  auto replacement = qnt::QuantizedWeightOp::create(
      b, loc, op.getResult().getType(), b.getStringAttr(target.weightName),
      b.getStringAttr(method),
      b.getF32FloatAttr(static_cast<float>(measured.error.sqnrDb)),
      b.getF32FloatAttr(static_cast<float>(measured.error.maxAbsError)),
      outputSqnr ? b.getF32FloatAttr(static_cast<float>(*outputSqnr)) : FloatAttr());
  op.getResult().replaceAllUsesWith(replacement.getResult());
  op.erase();
  if (weights.progress) {
    *weights.progress << llvm::format("  %-4s %-48s %5lldx%-5lld SQNR %6.2f dB",
                                      method.str().c_str(),
                                      target.weightName.c_str(),
                                      static_cast<long long>(shape[0]),
                                      static_cast<long long>(shape[1]),
                                      measured.error.sqnrDb);
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
  // Weights are read, quantized and measured on every core (memory stays a
  // few f32 copies of a linear whatever the model's size); the IR and the
  // store change in order, on this thread. q, k and v (gate and up) read one
  // input and share one Hessian.
  WeightContext &context = **weights;
  WeightStore &store = context.store();
  llvm::DenseMap<const quant::ActivationStatistics *,
                 std::shared_ptr<const std::vector<double>>>
      hessians;
  struct Work {
    std::shared_ptr<const std::vector<double>> hessian;
    SmallVector<int64_t, 2> shape;
    std::optional<QuantizedWeight> quantized;
    std::optional<Measured> measured;
  };
  // Up to one weight per thread and one more are read, quantized and
  // measured at a time; this thread records them in order as they finish.
  const unsigned threads =
      std::max(1u, llvm::hardware_concurrency().compute_thread_count());
  MLIRContext *mlirContext = module.getContext();
  const bool parallel = mlirContext->isMultithreadingEnabled() && threads > 1;
  std::optional<llvm::DefaultThreadPool> pool;
  if (parallel)
    pool.emplace(llvm::hardware_concurrency());
  const size_t window = parallel ? threads + 1 : 1;
  std::vector<Work> work(targets->size());
  std::vector<std::shared_future<void>> done(targets->size());
  std::atomic<bool> ok = true;
  auto compute = [&](size_t i) {
    if (!ok)
      return;
    QuantizeTarget &t = (*targets)[i];
    Work &w = work[i];
    FailureOr<WeightMatrix> weight = readWeight(store, t.weightName, t.op.getLoc());
    if (failed(weight)) {
      ok = false;
      return;
    }
    // Read once: the source's pages leave the resident set.
    if (std::optional<WeightRef> ref = store.lookup(t.weightName))
      store.releasePages(*ref);
    ArrayRef<double> hessian = w.hessian ? ArrayRef<double>(*w.hessian) : ArrayRef<double>();
    FailureOr<QuantizedWeight> q = quantize(t, *weight, hessian);
    if (failed(q)) {
      ok = false;
      return;
    }
    FailureOr<Measured> measured = measureQuantized(t, *weight, *q, hessian);
    if (failed(measured)) {
      ok = false;
      return;
    }
    w.shape.assign(weight->shape.begin(), weight->shape.end());
    w.quantized.emplace(std::move(*q));
    w.measured = *measured;
  };
  // Statistics checks and Hessians (shared by q, k, v) before any work.
  for (size_t i = 0; i < targets->size(); ++i) {
    QuantizeTarget &t = (*targets)[i];
    std::optional<qtc::WeightType> type = store.typeOf(t.weightName);
    const quant::ActivationStatistics *stats = context.inputStatistics(t.weightName);
    if (stats && stats->rows() == 0)
      stats = nullptr;
    if (stats && type && type->shape.size() == 2 && stats->width() != type->shape[1])
      return t.op.emitError(pass)
             << ": calibration statistics of '" << t.weightName << "' are "
             << stats->width() << " channels wide; the weight has "
             << type->shape[1] << " inputs";
    if (!stats)
      continue;
    auto &hessian = hessians[stats];
    if (!hessian)
      hessian = std::make_shared<const std::vector<double>>(stats->gram());
    work[i].hessian = hessian;
  }
  size_t submitted = 0;
  auto submitUpTo = [&](size_t limit) {
    for (; submitted < std::min(limit, targets->size()); ++submitted) {
      size_t i = submitted;
      if (pool)
        done[i] = pool->async([&compute, i] { compute(i); });
      else
        compute(i);
    }
  };
  auto waitAll = [&] {
    for (size_t i = 0; i < submitted; ++i)
      if (done[i].valid())
        done[i].wait();
  };
  for (size_t i = 0; i < targets->size(); ++i) {
    submitUpTo(i + window);
    if (done[i].valid())
      done[i].wait();
    if (!ok) {
      waitAll();
      return failure();
    }
    Work &w = work[i];
    LogicalResult recorded = materializeQuantized((*targets)[i], w.shape, *w.quantized,
                                                  *w.measured, method, context);
    w.quantized.reset(); // the codes are in the store now
    if (failed(recorded)) {
      ok = false;
      waitAll();
      return failure();
    }
  }
  return success();
}

} // namespace qtc
