//===- Awq.cpp - Activation-aware per-channel weight scaling --------------===//

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

// A per-channel scale moves between `producer` (whose output channel c is
// divided by s_c) and `consumers` (whose input column c is multiplied by s_c).
struct ScalePair {
  Operation *producer; // tfm.rms_norm (scale [c]) or the up tfm.linear ([c, in])
  SmallVector<tfm::LinearOp> consumers;
};

tfm::WeightOp storedWeight(Value v) { return v.getDefiningOp<tfm::WeightOp>(); }

// q and k feed RoPE: their errors reach every attention score, and the
// reference implementation leaves them unclipped.
bool feedsRope(tfm::LinearOp linear) {
  return llvm::any_of(linear.getResult().getUsers(),
                      [](Operation *u) { return isa<tfm::RopeOp>(u); });
}

// The producer's weight now: an earlier pair may have replaced it (the up
// projection is a consumer of its norm's pair and the producer of down's).
tfm::WeightOp producerWeight(Operation *producer) {
  if (auto norm = dyn_cast<tfm::RmsNormOp>(producer))
    return storedWeight(norm.getWeight());
  return storedWeight(cast<tfm::LinearOp>(producer).getWeight());
}

bool allStored(ArrayRef<tfm::LinearOp> linears) {
  return llvm::all_of(linears, [](tfm::LinearOp l) { return storedWeight(l.getWeight()); });
}

SmallVector<ScalePair> findPairs(ModuleOp module) {
  SmallVector<ScalePair> pairs;
  module.walk([&](Operation *op) {
    if (auto norm = dyn_cast<tfm::RmsNormOp>(op)) {
      tfm::WeightOp gamma = storedWeight(norm.getWeight());
      SmallVector<tfm::LinearOp> consumers;
      for (Operation *user : norm.getResult().getUsers()) {
        auto linear = dyn_cast<tfm::LinearOp>(user);
        if (!linear || linear.getInput() != norm.getResult()) {
          consumers.clear(); // the norm feeds something a scale would change
          break;
        }
        consumers.push_back(linear);
      }
      if (gamma && !consumers.empty() && allStored(consumers))
        pairs.push_back({norm, consumers});
    } else if (auto swiglu = dyn_cast<tfm::SwigluOp>(op)) {
      auto up = swiglu.getUp().getDefiningOp<tfm::LinearOp>();
      if (!up || up.getBias() || !up.getResult().hasOneUse() ||
          !swiglu.getResult().hasOneUse() || swiglu.getGate() == swiglu.getUp())
        return;
      auto down = dyn_cast<tfm::LinearOp>(*swiglu.getResult().getUsers().begin());
      if (!down || !storedWeight(up.getWeight()) || !allStored({down}))
        return;
      pairs.push_back({up, {down}});
    }
  });
  return pairs;
}

struct AwqPass : public impl::AwqBase<AwqPass> {
  using AwqBase::AwqBase;

  // Summed output error of `consumers` quantized by RTN after their columns
  // are multiplied by `s` (and divided back): tr(dW H dW^T) each.
  FailureOr<double> scaledError(ArrayRef<WeightMatrix> consumers,
                                ArrayRef<quant::Int4GroupOptions> grids,
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
      auto q = quant::quantizeInt4GroupRtn(scaled, rows, cols, grids[i]);
      if (!q) {
        at->emitError("qtc-awq: ") << llvm::toString(q.takeError());
        return failure();
      }
      auto deq = quant::dequantizeInt4Group(*q);
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

  // Registers `values` as `name` (f32) and points `handle`'s users in
  // `users` at it.
  LogicalResult replaceWeight(WeightContext &weights, tfm::WeightOp handle,
                              ArrayRef<Operation *> users, ArrayRef<float> values,
                              std::string &newName) {
    // One name per scaling: x.awq, then x.awq.2 if x.awq is scaled again.
    StringRef base = handle.getName();
    base.consume_back(".awq");
    newName = (base + ".awq").str();
    for (int n = 2; weights.store().contains(newName); ++n)
      newName = (base + ".awq." + llvm::Twine(n)).str();
    auto type = cast<RankedTensorType>(handle.getResult().getType());
    std::string bytes(values.size() * sizeof(float), '\0');
    std::memcpy(bytes.data(), values.data(), bytes.size());
    if (!weights.store().addOwned(newName, DType::F32, type.getShape(), std::move(bytes)))
      return handle.emitError("qtc-awq: cannot store '") << newName
             << "' (already scaled?)";
    OpBuilder b(handle);
    auto scaled = tfm::WeightOp::create(
        b, handle.getLoc(),
        RankedTensorType::get(type.getShape(), b.getF32Type()), newName);
    for (Operation *user : users)
      user->replaceUsesOfWith(handle.getResult(), scaled.getResult());
    if (handle.getResult().use_empty())
      handle.erase();
    return success();
  }

  LogicalResult scalePair(WeightContext &weights, ScalePair &pair) {
    tfm::LinearOp first = pair.consumers.front();
    std::string firstName = storedWeight(first.getWeight()).getName().str();
    const quant::ActivationStatistics *stats = weights.inputStatistics(firstName);
    if (!stats || stats->rows() == 0)
      return first.emitError("qtc-awq: no calibration statistics for the input of '")
             << firstName << "'; run qtc-calibrate first";

    SmallVector<WeightMatrix> consumers;
    SmallVector<quant::Int4GroupOptions> grids;
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
      quant::Int4GroupOptions grid;
      grid.groupSize = *group;
      grid.symmetric = symmetric;
      grids.push_back(grid);
      consumers.push_back(std::move(*m));
    }
    const int64_t width = consumers.front().shape[1];
    if (stats->width() != width)
      return first.emitError("qtc-awq: calibration statistics of '")
             << firstName << "' do not match its " << width << " inputs";
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

    // Fold: consumers' columns times s, the producer's output channels over s.
    SmallVector<Operation *> consumerOps(pair.consumers.begin(), pair.consumers.end());
    std::vector<double> inverse(width);
    for (int64_t c = 0; c < width; ++c)
      inverse[c] = 1.0 / best[c];
    auto scaledStats = std::make_shared<quant::ActivationStatistics>(stats->scaled(inverse));
    std::vector<double> scaledHessian = clip ? scaledStats->gram() : std::vector<double>();
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
      std::string newName;
      if (failed(replaceWeight(weights, storedWeight(pair.consumers[i].getWeight()),
                               {pair.consumers[i]}, w.values, newName)))
        return failure();
      weights.setInputStatistics(newName, scaledStats);
    }
    tfm::WeightOp producerHandle = producerWeight(pair.producer);
    FailureOr<WeightMatrix> producer = readWeight(
        weights.store(), producerHandle.getName(), pair.producer->getLoc());
    if (failed(producer))
      return failure();
    int64_t rows = producer->shape[0];
    if (rows != width)
      return pair.producer->emitError("qtc-awq: the producer has ")
             << rows << " output channels; its consumers read " << width;
    int64_t rowLen = producer->values.size() / rows;
    for (int64_t c = 0; c < rows; ++c)
      for (int64_t j = 0; j < rowLen; ++j)
        producer->values[c * rowLen + j] =
            static_cast<float>(producer->values[c * rowLen + j] / best[c]);
    std::string producerName = producerHandle.getName().str();
    std::string newProducer;
    if (failed(replaceWeight(weights, producerHandle, {pair.producer},
                             producer->values, newProducer)))
      return failure();
    // The up projection's own input statistics carry over to its new name.
    if (const quant::ActivationStatistics *upStats = weights.inputStatistics(producerName))
      weights.setInputStatistics(
          newProducer, std::make_shared<quant::ActivationStatistics>(*upStats));

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
    if (grid < 1 || groupSize < 2) {
      getOperation()->emitError("qtc-awq: grid must be positive and group-size at least 2");
      return signalPassFailure();
    }
    FailureOr<WeightContext *> weights = WeightContext::require(getOperation(), "qtc-awq");
    if (failed(weights))
      return signalPassFailure();
    SmallVector<ScalePair> pairs = findPairs(getOperation());
    for (ScalePair &pair : pairs)
      if (failed(scalePair(**weights, pair)))
        return signalPassFailure();
  }
};

} // namespace
} // namespace qtc
