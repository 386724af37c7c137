//===- Rotate.cpp - Rotate the residual stream (QuaRot R1) ----------------===//
//
// The residual stream x becomes x Q. Every weight touching it absorbs Q: the
// embedding table's rows and the readers' rows (W Q, in-features side), the
// writers' columns and biases (Q^T W, out-features side). Each is the same
// operation, v -> v Q on a hidden-sized vector: a row of E or of a reader,
// a column of a writer, a writer's bias.
//
//===----------------------------------------------------------------------===//

#include "ChannelScaling.h"

#include "dialects/qnt/QntDialect.h"
#include "qtc/Import/WeightStore.h"
#include "qtc/Quant/Rotation.h"
#include "qtc/Transforms/Passes.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Parallel.h"

#include <algorithm>

namespace qtc {
#define GEN_PASS_DEF_ROTATE
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {
namespace {

constexpr const char *kPass = "qtc-rotate";

// Which side of a stored tensor meets the residual stream.
enum class Side {
  Rows,    // each row is a hidden-sized vector: E, W of a reader, a bias
  Columns, // each column is: W of a writer
};

struct Use {
  Side side;
  SmallVector<Operation *, 2> users;
};

struct RotatePass : public impl::RotateBase<RotatePass> {
  using RotateBase::RotateBase;

  // Handles to rotate, in a fixed order, with the side and the users that
  // read them on that side.
  llvm::MapVector<Operation *, Use> uses;

  LogicalResult need(Operation *user, Value weight, Side side, StringRef role) {
    tfm::WeightOp handle = storedWeight(weight);
    if (!handle)
      return user->emitError(kPass) << ": the " << role
                                    << "'s weight is computed, not a stored "
                                       "weight; it cannot absorb the rotation";
    auto [it, inserted] = uses.try_emplace(handle, Use{side, {}});
    if (!inserted && it->second.side != side)
      return user->emitError(kPass)
             << ": '" << handle.getName()
             << "' is read both on the stream's side of its rows and of its "
                "columns; one rotation cannot serve both";
    it->second.users.push_back(user);
    return success();
  }

  // The readers of a norm of the stream: linears and the lm_head.
  LogicalResult collectNorm(WeightContext &weights, tfm::RmsNormOp norm) {
    tfm::WeightOp gamma = storedWeight(norm.getWeight());
    if (!gamma)
      return norm.emitError(kPass) << ": the norm's scale is computed; run "
                                      "qtc-fold-norms on a model with stored norms";
    FailureOr<WeightMatrix> g = readWeight(weights.store(), gamma.getName(), norm.getLoc());
    if (failed(g))
      return failure();
    for (size_t c = 0; c < g->values.size(); ++c)
      if (g->values[c] != 1.0f)
        return norm.emitError(kPass)
               << ": '" << gamma.getName() << "' is not all ones (element " << c
               << " is " << g->values[c]
               << "): an RMSNorm commutes with the rotation only without its "
                  "scale; run qtc-fold-norms first";
    for (Operation *user : norm.getResult().getUsers()) {
      if (auto linear = dyn_cast<tfm::LinearOp>(user);
          linear && linear.getInput() == norm.getResult()) {
        if (failed(need(user, linear.getWeight(), Side::Rows, "linear")))
          return failure();
        continue;
      }
      if (auto head = dyn_cast<tfm::LmHeadOp>(user);
          head && head.getInput() == norm.getResult()) {
        if (failed(need(user, head.getWeight(), Side::Rows, "lm_head")))
          return failure();
        continue;
      }
      return user->emitError(kPass)
             << ": reads a normalized residual stream but is not a linear's or "
                "the lm_head's input; the rotation would change what it computes";
    }
    return success();
  }

  // The linear whose result `v` adds into the stream.
  LogicalResult collectWriter(tfm::AddOp add, Value v) {
    auto linear = v.getDefiningOp<tfm::LinearOp>();
    if (!linear || !linear.getResult().hasOneUse())
      return add.emitError(kPass)
             << ": a residual add whose other operand is not a linear used only "
                "by it; the rotation cannot be absorbed into its weights";
    if (failed(need(linear, linear.getWeight(), Side::Columns, "linear")))
      return failure();
    if (Value bias = linear.getBias())
      return need(linear, bias, Side::Rows, "bias");
    return success();
  }

  LogicalResult collect(WeightContext &weights, tfm::ModelOp model) {
    llvm::SetVector<Value> stream;
    // The stream's values in order: the embedding, then every add of it.
    for (Operation &op : model.getBody().front()) {
      if (op.getDialect() && isa<qnt::QntDialect>(op.getDialect()))
        return op.emitError(kPass) << ": the model is already quantized; run "
                                      "qtc-rotate before qtc-quantize-weights";
      if (isa<tfm::LayerNormOp>(op))
        return op.emitError(kPass) << ": a LayerNorm subtracts the mean, which "
                                      "does not commute with the rotation";
      if (auto emb = dyn_cast<tfm::EmbeddingOp>(op)) {
        if (failed(need(emb, emb.getTable(), Side::Rows, "embedding")))
          return failure();
        stream.insert(emb.getResult());
      } else if (auto add = dyn_cast<tfm::AddOp>(op)) {
        bool lhs = stream.contains(add.getLhs()), rhs = stream.contains(add.getRhs());
        if (lhs && rhs)
          return add.emitError(kPass) << ": adds the residual stream to itself";
        if (lhs || rhs) {
          if (failed(collectWriter(add, lhs ? add.getRhs() : add.getLhs())))
            return failure();
          stream.insert(add.getResult());
        }
      }
    }
    if (stream.empty())
      return model.emitError(kPass) << ": no embedding starts a residual stream";
    for (Value v : stream)
      for (Operation *user : v.getUsers()) {
        if (auto add = dyn_cast<tfm::AddOp>(user); add && stream.contains(add.getResult()))
          continue;
        auto norm = dyn_cast<tfm::RmsNormOp>(user);
        if (!norm || norm.getInput() != v)
          return user->emitError(kPass)
                 << ": reads the residual stream directly; only RMSNorms and "
                    "residual adds commute with the rotation";
        if (failed(collectNorm(weights, norm)))
          return failure();
      }
    return success();
  }

  LogicalResult rotate(WeightContext &weights, const quant::HadamardRotation &q,
                       tfm::WeightOp handle, const Use &use) {
    Location loc = use.users.front()->getLoc();
    FailureOr<WeightMatrix> w = readWeight(weights.store(), handle.getName(), loc);
    if (failed(w))
      return failure();
    const int64_t n = q.size();
    const int64_t rows = w->shape.size() == 2 ? w->shape[0] : 1;
    const int64_t cols = w->shape.back();
    if ((use.side == Side::Rows ? cols : rows) != n)
      return emitError(loc) << kPass << ": '" << handle.getName() << "' has "
                            << (use.side == Side::Rows ? cols : rows)
                            << (use.side == Side::Rows ? " columns" : " rows")
                            << " where the residual stream has " << n;
    float *values = w->values.data();
    if (use.side == Side::Rows) {
      llvm::parallelFor(0, rows, [&](size_t r) {
        std::vector<double> v(values + r * cols, values + (r + 1) * cols);
        q.apply(v);
        std::copy(v.begin(), v.end(), values + r * cols);
      });
    } else {
      // Columns in blocks of kBlock, so each row's part is one cache line.
      constexpr int64_t kBlock = 16;
      llvm::parallelFor(0, (cols + kBlock - 1) / kBlock, [&](size_t block) {
        const int64_t c0 = block * kBlock, width = std::min(kBlock, cols - c0);
        std::vector<std::vector<double>> v(width, std::vector<double>(n));
        for (int64_t r = 0; r < n; ++r)
          for (int64_t j = 0; j < width; ++j)
            v[j][r] = values[r * cols + c0 + j];
        for (std::vector<double> &column : v)
          q.apply(column);
        for (int64_t r = 0; r < n; ++r)
          for (int64_t j = 0; j < width; ++j)
            values[r * cols + c0 + j] = static_cast<float>(v[j][r]);
      });
    }
    std::string newName;
    return replaceWeight(weights, handle, use.users, w->values, ".rot", newName);
  }

  void runOnOperation() override {
    FailureOr<WeightContext *> weights = WeightContext::require(getOperation(), kPass);
    if (failed(weights))
      return signalPassFailure();
    if ((*weights)->calibration) {
      getOperation()->emitError(kPass)
          << ": the model is already calibrated; the rotation changes every "
             "linear's input: run it before qtc-calibrate";
      return signalPassFailure();
    }
    SmallVector<tfm::ModelOp> models(getOperation().getOps<tfm::ModelOp>());
    for (tfm::ModelOp model : models) {
      uses.clear();
      if (failed(collect(**weights, model)))
        return signalPassFailure();
      llvm::Expected<quant::HadamardRotation> q = quant::HadamardRotation::create(
          model.getConfig().getHiddenSize(), seed);
      if (!q) {
        model.emitError(kPass) << ": " << llvm::toString(q.takeError());
        return signalPassFailure();
      }
      for (auto &[op, use] : uses)
        if (failed(rotate(**weights, *q, cast<tfm::WeightOp>(op), use)))
          return signalPassFailure();
      if ((*weights)->progress) {
        *(*weights)->progress << "  rotate: " << uses.size()
                              << " weights absorb a randomized Hadamard rotation of "
                              << q->size() << " features (" << q->powerOfTwo()
                              << " x " << q->oddFactor() << ", seed "
                              << static_cast<uint64_t>(seed) << ")\n";
        (*weights)->progress->flush();
      }
    }
  }
};

} // namespace
} // namespace qtc
