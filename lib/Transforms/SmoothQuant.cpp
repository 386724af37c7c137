//===- SmoothQuant.cpp - Migrate activation outliers into the weights -----===//

#include "ChannelScaling.h"

#include "qtc/Transforms/Passes.h"

#include "llvm/Support/Format.h"

#include <algorithm>
#include <cmath>

namespace qtc {
#define GEN_PASS_DEF_SMOOTHQUANT
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {
namespace {

// Channels whose activations or weights never exceed this keep s = 1: no
// range to move, and a power of ~0 would explode.
constexpr double kTiny = 1e-5;

struct SmoothQuantPass : public impl::SmoothQuantBase<SmoothQuantPass> {
  using SmoothQuantBase::SmoothQuantBase;

  LogicalResult smooth(WeightContext &weights, ScalePair &pair) {
    FailureOr<const quant::ActivationStatistics *> stats =
        pairInputStatistics(weights, pair, "qtc-smooth-quant");
    if (failed(stats))
      return failure();
    FailureOr<SmallVector<WeightMatrix>> consumers = readConsumers(weights, pair);
    if (failed(consumers))
      return failure();
    const int64_t width = consumers->front().shape[1];
    std::vector<double> weightMax(width, 0.0);
    for (const WeightMatrix &w : *consumers)
      for (int64_t r = 0; r < w.shape[0]; ++r)
        for (int64_t c = 0; c < width; ++c)
          weightMax[c] = std::max(weightMax[c], std::fabs(double(w.values[r * width + c])));
    ArrayRef<float> actMax = (*stats)->absMax();
    std::vector<double> s(width, 1.0);
    double before = 0, after = 0;
    for (int64_t c = 0; c < width; ++c) {
      if (actMax[c] > kTiny && weightMax[c] > kTiny)
        s[c] = std::pow(double(actMax[c]), alpha) / std::pow(weightMax[c], 1.0 - alpha);
      before = std::max(before, double(actMax[c]));
      after = std::max(after, actMax[c] / s[c]);
    }
    for (WeightMatrix &w : *consumers)
      for (int64_t r = 0; r < w.shape[0]; ++r)
        for (int64_t c = 0; c < width; ++c)
          w.values[r * width + c] = static_cast<float>(w.values[r * width + c] * s[c]);
    if (failed(foldChannelScales(weights, pair, *consumers, s, smoothedStatistics(**stats, s),
                                 "qtc-smooth-quant", ".smooth")))
      return failure();
    if (weights.progress) {
      // The spread of per-channel maxima is what per-token quantization pays.
      double lo = std::numeric_limits<double>::infinity(), hi = 0;
      for (int64_t c = 0; c < width; ++c)
        if (actMax[c] > kTiny) {
          lo = std::min(lo, actMax[c] / s[c]);
          hi = std::max(hi, actMax[c] / s[c]);
        }
      *weights.progress << llvm::format(
          "  smooth %-46s input max %.3g -> %.3g (channel max/min %.1f)\n",
          storedWeight(pair.consumers.front().getWeight()).getName().str().c_str(),
          before, after, lo > 0 && std::isfinite(lo) ? hi / lo : 1.0);
      weights.progress->flush();
    }
    return success();
  }

  void runOnOperation() override {
    if (!(alpha >= 0.0 && alpha <= 1.0)) {
      getOperation()->emitError("qtc-smooth-quant: alpha must be in [0, 1], got ")
          << static_cast<double>(alpha);
      return signalPassFailure();
    }
    FailureOr<WeightContext *> weights =
        WeightContext::require(getOperation(), "qtc-smooth-quant");
    if (failed(weights))
      return signalPassFailure();
    for (ScalePair &pair : findScalePairs(getOperation()))
      if (failed(smooth(**weights, pair)))
        return signalPassFailure();
  }
};

} // namespace
} // namespace qtc
