//===- FoldNorms.cpp - Fold RMSNorm scales into the linears reading them --===//

#include "ChannelScaling.h"

#include "qtc/Import/WeightStore.h"
#include "qtc/Transforms/Passes.h"

namespace qtc {
#define GEN_PASS_DEF_FOLDNORMS
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {
namespace {

// The weight operand of a linear or lm_head that reads `norm` as its input,
// or null for any other user.
Value readerWeight(Operation *user, Value norm) {
  if (auto linear = dyn_cast<tfm::LinearOp>(user))
    return linear.getInput() == norm ? linear.getWeight() : Value();
  if (auto head = dyn_cast<tfm::LmHeadOp>(user))
    return head.getInput() == norm ? head.getWeight() : Value();
  return Value();
}

// Whether `handle` is also read by an op other than `reader` (a table tied
// between the embedding and the lm_head).
bool sharedWithOthers(tfm::WeightOp handle, Operation *reader) {
  return llvm::any_of(handle.getResult().getUsers(),
                      [&](Operation *u) { return u != reader; });
}

struct FoldNormsPass : public impl::FoldNormsBase<FoldNormsPass> {
  using FoldNormsBase::FoldNormsBase;

  LogicalResult fold(WeightContext &weights, tfm::RmsNormOp norm) {
    tfm::WeightOp gammaHandle = storedWeight(norm.getWeight());
    if (!gammaHandle || norm.getResult().use_empty())
      return success();
    SmallVector<Operation *> readers;
    for (Operation *user : norm.getResult().getUsers()) {
      Value w = readerWeight(user, norm.getResult());
      if (!w || !storedWeight(w))
        return success(); // a reader the scale cannot move into: keep it
      readers.push_back(user);
    }
    FailureOr<WeightMatrix> gamma =
        readWeight(weights.store(), gammaHandle.getName(), norm.getLoc());
    if (failed(gamma))
      return failure();
    const int64_t width = static_cast<int64_t>(gamma->values.size());
    for (Operation *reader : readers) {
      tfm::WeightOp handle = storedWeight(readerWeight(reader, norm.getResult()));
      FailureOr<WeightMatrix> w =
          readWeight(weights.store(), handle.getName(), reader->getLoc());
      if (failed(w))
        return failure();
      if (w->shape.size() != 2 || w->shape[1] != width)
        return reader->emitError("qtc-fold-norms: '")
               << handle.getName() << "' has " << w->shape.back()
               << " input features; its norm has " << width;
      for (int64_t r = 0; r < w->shape[0]; ++r)
        for (int64_t c = 0; c < width; ++c)
          w->values[r * width + c] *= gamma->values[c];
      bool tied = sharedWithOthers(handle, reader);
      std::string oldName = handle.getName().str(), newName;
      if (failed(replaceWeight(weights, handle, {reader}, w->values, ".fold", newName)))
        return failure();
      if (tied && weights.progress) {
        *weights.progress << "  fold-norms: '" << newName << "' is a folded copy of '"
                          << oldName
                          << "', which its other readers (the embedding) keep; "
                             "the lm_head no longer aliases the embedding table\n";
        weights.progress->flush();
      }
    }
    std::vector<float> ones(width, 1.0f);
    std::string newGamma;
    return replaceWeight(weights, gammaHandle, {norm}, ones, ".fold", newGamma);
  }

  void runOnOperation() override {
    FailureOr<WeightContext *> weights =
        WeightContext::require(getOperation(), "qtc-fold-norms");
    if (failed(weights))
      return signalPassFailure();
    if ((*weights)->calibration) {
      getOperation()->emitError(
          "qtc-fold-norms: the model is already calibrated; folding changes "
          "the inputs the statistics describe: run it before qtc-calibrate");
      return signalPassFailure();
    }
    SmallVector<tfm::RmsNormOp> norms;
    getOperation().walk([&](tfm::RmsNormOp n) { norms.push_back(n); });
    for (tfm::RmsNormOp norm : norms)
      if (failed(fold(**weights, norm)))
        return signalPassFailure();
  }
};

} // namespace
} // namespace qtc
