//===- AssignSlots.cpp - Activation buffers by liveness -------------------===//

#include "qtc/Chain/Plan.h"

#include "dialects/chain/ChainOps.h"
#include "qtc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"


namespace qtc {
#define GEN_PASS_DEF_CHAINASSIGNSLOTS
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {
namespace {

// A buffer name that says what it holds, for artifact dumps.
StringRef slotName(Operation *op) {
  return llvm::TypeSwitch<Operation *, StringRef>(op)
      .Case([](chain::LinearOp l) -> StringRef {
        if (l.getResidual())
          return "hidden";
        switch (l.getSources().size()) {
        case 1: return "linear";
        case 2: return "gate_up";
        case 3: return "qkv";
        default: return "projections";
        }
      })
      .Case<chain::EmbeddingOp, chain::AddOp>([](auto) { return "hidden"; })
      .Case([](chain::RmsNormOp) { return "norm"; })
      .Case([](chain::AttentionOp) { return "attn"; })
      .Case([](chain::SwigluOp) { return "mlp"; })
      .Case([](chain::GatherRowsOp) { return "gathered"; })
      .Case([](chain::QuantizeRowsOp) { return "quantized"; })
      .Default([](Operation *op) { return op->getName().stripDialect(); });
}

// What a buffer holds: rows of a width, quantized by `encoding` (null for
// rows as they are). Only values of one kind share a buffer.
using SlotKind = std::pair<int64_t, Attribute>;

class SlotAllocator {
public:
  int take(StringRef name, int64_t width, Attribute encoding) {
    auto &pool = freeByKind[{width, encoding}];
    if (!pool.empty()) {
      int slot = pool.back();
      pool.pop_back();
      free[slot] = false;
      lastUse[slot] = 0;
      return slot;
    }
    names.push_back(name.str());
    widths.push_back(width);
    encodings.push_back(encoding);
    lastUse.push_back(0);
    free.push_back(false);
    return static_cast<int>(widths.size()) - 1;
  }
  void extend(int slot, unsigned last) {
    lastUse[slot] = std::max(lastUse[slot], last);
  }
  // Frees the buffers whose last reader is at or before `index`.
  void release(unsigned index) {
    for (size_t s = 0; s < free.size(); ++s) {
      if (free[s] || lastUse[s] > index)
        continue;
      free[s] = true;
      freeByKind[{widths[s], encodings[s]}].push_back(static_cast<int>(s));
    }
  }

  std::vector<std::string> names;
  std::vector<int64_t> widths;
  std::vector<Attribute> encodings;

private:
  std::vector<unsigned> lastUse;
  std::vector<bool> free;
  llvm::DenseMap<SlotKind, std::vector<int>> freeByKind;
};

struct ChainAssignSlotsPass
    : public impl::ChainAssignSlotsBase<ChainAssignSlotsPass> {
  void runOnOperation() override {
    if (failed(forEachPlan(getOperation(), assignSlots)))
      signalPassFailure();
  }
};

} // namespace

LogicalResult assignSlots(chain::PlanOp plan) {
  Block &block = plan.getBlock();
  llvm::DenseMap<Operation *, unsigned> index;
  unsigned i = 0;
  for (Operation &op : block)
    index[&op] = i++;
  // The logits are read after the plan: never released.
  Value logits = block.getTerminator()->getOperand(0);
  auto lastUse = [&](Value v) -> unsigned {
    if (v == logits)
      return ~0u;
    unsigned last = 0;
    for (Operation *user : v.getUsers())
      last = std::max(last, index.lookup(user));
    return last;
  };

  SlotAllocator slots;
  Builder b(plan.getContext());
  for (Operation &op : block) {
    if (op.getNumResults() == 1) {
      Value result = op.getResult(0);
      int slot;
      if (auto append = dyn_cast<chain::RopeKvAppendOp>(op)) {
        // In place: the rotated rows stay in the q|k|v buffer.
        auto in = append.getQkv().getDefiningOp()->getAttrOfType<IntegerAttr>("slot");
        if (!in)
          return op.emitError("operand has no slot");
        slot = static_cast<int>(in.getInt());
      } else {
        slot = slots.take(slotName(&op), chain::rowWidth(result.getType()),
                          chain::rowEncoding(result.getType()));
      }
      slots.extend(slot, lastUse(result));
      op.setAttr("slot", b.getI64IntegerAttr(slot));
    }
    slots.release(index[&op]);
  }
  plan.setSlotWidthsAttr(b.getDenseI64ArrayAttr(slots.widths));
  SmallVector<StringRef> names(slots.names.begin(), slots.names.end());
  plan.setSlotNamesAttr(b.getStrArrayAttr(names));
  if (llvm::any_of(slots.encodings, [](Attribute a) { return a; })) {
    SmallVector<Attribute> encodings;
    for (Attribute a : slots.encodings)
      encodings.push_back(a ? a : b.getUnitAttr());
    plan.setSlotEncodingsAttr(b.getArrayAttr(encodings));
  }
  return success();
}

} // namespace qtc
