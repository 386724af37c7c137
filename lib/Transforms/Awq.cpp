//===- Awq.cpp - Activation-aware per-channel weight scaling --------------===//

#include "ChannelScaling.h"
#include "GroupSize.h"

#include "dialects/tfm/TfmOps.h"
#include "qtc/Import/WeightMatrix.h"
#include "qtc/Import/WeightStore.h"
#include "qtc/Quant/ActivationStatistics.h"
#include "qtc/Quant/AwqClip.h"
#include "qtc/Quant/Gptq.h"
#include "qtc/Quant/RoundToNearest.h"
#include "qtc/Transforms/Passes.h"
#include "qtc/Transforms/WeightContext.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/Format.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace qtc {
#define GEN_PASS_DEF_AWQ
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {
namespace {

// q and k feed RoPE: their errors reach every attention score, and the
// reference implementation leaves them unclipped.
bool feedsRope(tfm::LinearOp linear) {
  return llvm::any_of(linear.getResult().getUsers(),
                      [](Operation *u) { return isa<tfm::RopeOp>(u); });
}

struct AwqPass : public impl::AwqBase<AwqPass> {
  using AwqBase::AwqBase;

  // Summed output error of `consumers` quantized by RTN after their columns
  // are multiplied by `s` (and divided back): tr(dW H dW^T) each.
  FailureOr<double> scaledError(ArrayRef<WeightMatrix> consumers,
                                ArrayRef<quant::IntGroupOptions> grids,
                                ArrayRef<double> s, ArrayRef<double> hessian,
                                Operation *at) {
    double total = 0;
    for (size_t i = 0; i < consumers.size(); ++i) {
      const WeightMatrix &w = consumers[i];
      int64_t rows = w.shape[0], cols = w.shape[1];
      std::vector<float> scaled(w.values.size());
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          scaled[r * cols + c] = static_cast<float>(w.values[r * cols + c] * s[c]);
      auto q = quant::quantizeIntGroupRtn(scaled, rows, cols, grids[i]);
      if (!q) {
        at->emitError("qtc-awq: ") << llvm::toString(q.takeError());
        return failure();
      }
      auto deq = quant::dequantizeIntGroup(*q);
      if (!deq) {
        at->emitError("qtc-awq: ") << llvm::toString(deq.takeError());
        return failure();
      }
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          (*deq)[r * cols + c] = static_cast<float>((*deq)[r * cols + c] / s[c]);
      auto err = quant::hessianWeightedError(w.values, *deq, rows, cols, hessian);
      if (!err) {
        at->emitError("qtc-awq: ") << llvm::toString(err.takeError());
        return failure();
      }
      total += *err;
    }
    return total;
  }

  LogicalResult scalePair(WeightContext &weights, ScalePair &pair) {
    tfm::LinearOp first = pair.consumers.front();
    std::string firstName = storedWeight(first.getWeight()).getName().str();
    FailureOr<const quant::ActivationStatistics *> found =
        pairInputStatistics(weights, pair, "qtc-awq");
    if (failed(found))
      return failure();
    const quant::ActivationStatistics *stats = *found;

    SmallVector<WeightMatrix> consumers;
    SmallVector<quant::IntGroupOptions> grids;
    for (tfm::LinearOp l : pair.consumers) {
      tfm::WeightOp w = storedWeight(l.getWeight());
      FailureOr<WeightMatrix> m = readWeight(weights.store(), w.getName(), l.getLoc());
      if (failed(m))
        return failure();
      std::optional<int64_t> group =
          groupForInputs(m->shape[1], groupSize, smallerGroups);
      if (!group)
        return l.emitError("qtc-awq: group size ")
               << static_cast<int64_t>(groupSize) << " does not divide the "
               << m->shape[1] << " input features of '" << w.getName() << "'";
      quant::IntGroupOptions grid;
      grid.bits = static_cast<int>(bits);
      grid.groupSize = *group;
      grid.symmetric = symmetric;
      grids.push_back(grid);
      consumers.push_back(std::move(*m));
    }
    const int64_t width = consumers.front().shape[1];
    std::vector<double> hessian = stats->gram();
    std::vector<double> mean = stats->meanAbs();

    std::vector<double> best(width, 1.0);
    double bestError = std::numeric_limits<double>::infinity(), plainError = 0;
    double bestAlpha = 0;
    for (int64_t k = 0; k < grid; ++k) {
      double alpha = static_cast<double>(k) / grid;
      std::vector<double> s(width);
      double lo = std::numeric_limits<double>::infinity(), hi = 0;
      for (int64_t c = 0; c < width; ++c) {
        s[c] = std::pow(std::max(mean[c], 1e-4), alpha);
        lo = std::min(lo, s[c]);
        hi = std::max(hi, s[c]);
      }
      double norm = std::sqrt(lo * hi);
      for (double &v : s)
        v /= norm;
      FailureOr<double> err = scaledError(consumers, grids, s, hessian, first);
      if (failed(err))
        return failure();
      if (k == 0)
        plainError = *err;
      if (*err < bestError) {
        bestError = *err;
        best = s;
        bestAlpha = alpha;
      }
    }

    // Fold: consumers' columns times s (then clipped), the producer's
    // output channels over s.
    std::shared_ptr<const quant::ActivationStatistics> smoothed =
        smoothedStatistics(*stats, best);
    std::vector<double> scaledHessian = clip ? smoothed->gram() : std::vector<double>();
    double clipRatios = 0;
    int clipped = 0;
    for (size_t i = 0; i < consumers.size(); ++i) {
      WeightMatrix &w = consumers[i];
      for (int64_t r = 0; r < w.shape[0]; ++r)
        for (int64_t c = 0; c < width; ++c)
          w.values[r * width + c] = static_cast<float>(w.values[r * width + c] * best[c]);
      if (clip && !feedsRope(pair.consumers[i])) {
        quant::ClipSearchOptions search;
        search.grid = grids[i];
        llvm::Expected<double> ratio = quant::clipGroupsForOutputError(
            w.values, w.shape[0], width, scaledHessian, search);
        if (!ratio)
          return pair.consumers[i].emitError("qtc-awq: clipping: ")
                 << llvm::toString(ratio.takeError());
        clipRatios += *ratio;
        ++clipped;
      }
    }
    if (failed(foldChannelScales(weights, pair, consumers, best, smoothed, "qtc-awq",
                                 ".awq")))
      return failure();

    if (weights.progress) {
      *weights.progress << llvm::format(
          "  awq  %-48s alpha %.2f, output error %.3g of RTN's before "
          "clipping; mean clip ratio %.3f\n",
          firstName.c_str(), bestAlpha,
          plainError > 0 ? bestError / plainError : 1.0,
          clipped ? clipRatios / clipped : 1.0);
      weights.progress->flush();
    }
    return success();
  }

  void runOnOperation() override {
    if (grid < 1 || (groupSize != 0 && groupSize < 2) ||
        !quant::isSupportedIntBits(static_cast<int>(bits))) {
      getOperation()->emitError("qtc-awq: grid must be positive, group-size 0 "
                                "(per row) or at least 2, and bits 3, 4 or 8");
      return signalPassFailure();
    }
    FailureOr<WeightContext *> weights = WeightContext::require(getOperation(), "qtc-awq");
    if (failed(weights))
      return signalPassFailure();
    SmallVector<ScalePair> pairs = findScalePairs(getOperation());
    for (ScalePair &pair : pairs)
      if (failed(scalePair(**weights, pair)))
        return signalPassFailure();
  }
};

} // namespace
} // namespace qtc
