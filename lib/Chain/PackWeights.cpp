//===- PackWeights.cpp - Every weight in the layout its kernel reads ------===//

#include "qtc/Chain/Plan.h"

#include "WeightPacking.h"

#include "dialects/chain/ChainOps.h"
#include "qtc/Import/WeightStore.h"
#include "qtc/Transforms/Passes.h"
#include "qtc/Transforms/WeightContext.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"

namespace qtc {
#define GEN_PASS_DEF_CHAINPACKWEIGHTS
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {

std::string packedTensorKey(StringRef symbol) {
  return ("packed:" + symbol).str();
}

namespace {

class WeightPacker {
public:
  WeightPacker(chain::PlanOp plan, WeightStore &store)
      : plan(plan), store(store), symbols(plan), b(plan.getContext()) {
    // New tensors go after the ones already declared, in creation order.
    b.setInsertionPointToStart(&plan.getBlock());
    for (chain::TensorOp t : plan.getBlock().getOps<chain::TensorOp>())
      b.setInsertionPointAfter(t);
  }

  LogicalResult pack(chain::EmbeddingOp op);
  LogicalResult pack(chain::RmsNormOp op);
  LogicalResult pack(chain::LinearOp op);

private:
  // The f16 tensor `name` of `sources`' rows one after another.
  FailureOr<FlatSymbolRefAttr> dense(StringRef name, ArrayRef<StringRef> sources,
                                     Location loc);
  // Declares `name` with bytes `bytes`, or bytes `deferred` computes when
  // the artifact is written; a name packed before (by an earlier lowering of
  // the same, immutable, sources) is reused.
  FailureOr<FlatSymbolRefAttr> declare(StringRef name, DType dtype,
                                       Type element, ArrayRef<int64_t> shape,
                                       std::vector<uint8_t> bytes, Location loc);
  FailureOr<FlatSymbolRefAttr> declare(StringRef name, DType dtype,
                                       Type element, ArrayRef<int64_t> shape,
                                       DeferredWeight deferred, Location loc);
  FailureOr<FlatSymbolRefAttr>
  declare(StringRef name, DType dtype, Type element, ArrayRef<int64_t> shape,
          llvm::function_ref<bool(StringRef key)> add, Location loc);

  chain::PlanOp plan;
  WeightStore &store;
  SymbolTable symbols;
  OpBuilder b;
};

FailureOr<FlatSymbolRefAttr>
WeightPacker::declare(StringRef name, DType dtype, Type element,
                      ArrayRef<int64_t> shape, std::vector<uint8_t> bytes,
                      Location loc) {
  return declare(name, dtype, element, shape, [&](StringRef key) {
    return store.addOwned(key, dtype, shape, std::string(bytes.begin(), bytes.end()));
  }, loc);
}

FailureOr<FlatSymbolRefAttr>
WeightPacker::declare(StringRef name, DType dtype, Type element,
                      ArrayRef<int64_t> shape, DeferredWeight deferred,
                      Location loc) {
  return declare(name, dtype, element, shape, [&](StringRef key) {
    return store.addDeferred(key, dtype, shape, std::move(deferred));
  }, loc);
}

FailureOr<FlatSymbolRefAttr>
WeightPacker::declare(StringRef name, DType dtype, Type element,
                      ArrayRef<int64_t> shape,
                      llvm::function_ref<bool(StringRef key)> add, Location loc) {
  auto ref = FlatSymbolRefAttr::get(b.getContext(), name);
  auto type = RankedTensorType::get(shape, element);
  if (auto existing = symbols.lookup<chain::TensorOp>(name)) {
    if (existing.getType() != type)
      return emitError(loc) << "packed tensor '" << name << "' declared as "
                            << existing.getType() << " and " << type;
    return ref;
  }
  std::string key = packedTensorKey(name);
  if (std::optional<WeightType> stored = store.typeOf(key)) {
    if (stored->dtype != dtype || ArrayRef<int64_t>(stored->shape) != shape)
      return emitError(loc) << "the weight store holds '" << key
                            << "' with another type or shape";
  } else if (!add(key)) {
    return emitError(loc) << "cannot store packed tensor '" << name << "'";
  }
  auto tensor = b.create<chain::TensorOp>(loc, b.getStringAttr(name), type);
  symbols.insert(tensor);
  b.setInsertionPointAfter(tensor);
  return ref;
}

FailureOr<FlatSymbolRefAttr> WeightPacker::dense(StringRef name,
                                                 ArrayRef<StringRef> sources,
                                                 Location loc) {
  if (auto existing = symbols.lookup<chain::TensorOp>(name))
    return FlatSymbolRefAttr::get(existing);
  // The rows are converted when the artifact is written, straight from
  // the (memory-mapped) sources: no f16 copy of the model is held.
  std::vector<RowSource> parts;
  SmallVector<int64_t, 2> shape;
  int64_t columns = -1;
  for (StringRef source : sources) {
    std::optional<WeightRef> ref = store.lookup(source);
    if (!ref)
      return emitError(loc) << "weight '" << source << "' is not in the model";
    if (ref->dtype != DType::F32 && ref->dtype != DType::F16 &&
        ref->dtype != DType::BF16)
      return emitError(loc) << "weight '" << source << "' has element type "
                            << dtypeName(ref->dtype)
                            << "; expected f32, f16 or bf16";
    if (ref->shape.empty() || ref->shape.size() > 2)
      return emitError(loc) << "weight '" << source << "' has rank "
                            << ref->shape.size() << "; expected a vector or a matrix";
    int64_t rows = ref->shape.size() == 2 ? ref->shape[0] : 1;
    int64_t cols = ref->shape.back();
    if (columns >= 0 && cols != columns)
      return emitError(loc) << "weight '" << source << "' has " << cols
                            << " columns; the rows it is concatenated with have "
                            << columns;
    columns = cols;
    shape = sources.size() == 1 ? SmallVector<int64_t, 2>(ref->shape.begin(), ref->shape.end())
                                : SmallVector<int64_t, 2>{(shape.empty() ? 0 : shape[0]) + rows, cols};
    RowSource part;
    part.name = source.str();
    part.ref = *ref;
    part.rows = rows;
    part.conversion = RowConversion::ToF16;
    parts.push_back(std::move(part));
  }
  return declare(name, DType::F16, b.getF16Type(), shape,
                 concatenateRows(store, std::move(parts), columns * 2), loc);
}

LogicalResult WeightPacker::pack(chain::EmbeddingOp op) {
  FailureOr<FlatSymbolRefAttr> t = dense(op.getSource(), {op.getSource()}, op.getLoc());
  if (failed(t))
    return failure();
  op.setTableAttr(*t);
  return success();
}

LogicalResult WeightPacker::pack(chain::RmsNormOp op) {
  FailureOr<FlatSymbolRefAttr> t = dense(op.getSource(), {op.getSource()}, op.getLoc());
  if (failed(t))
    return failure();
  op.setWeightAttr(*t);
  return success();
}

LogicalResult WeightPacker::pack(chain::LinearOp op) {
  Location loc = op.getLoc();
  SmallVector<StringRef> sources;
  for (Attribute a : op.getSources())
    sources.push_back(cast<StringAttr>(a).getValue());
  std::string base = llvm::join(sources, "|");
  int64_t rows = op.getOutFeatures(), cols = op.getInFeatures();

  if (qnt::EncodingAttr enc = op.getEncodingAttr()) {
    // The quantizer stored each source's codes and scales; rows of a fused
    // linear are the sources' rows one after another, which for these
    // row-major layouts is their bytes one after another.
    FailureOr<WeightQuantization> how = weightQuantization(enc, cols, loc);
    if (failed(how))
      return failure();
    SmallVector<int64_t> sourceRows(op.getRows());
    FailureOr<DeferredLinearLayout> deferred =
        deferArtifactLayout(store, sources, sourceRows, cols, *how, loc);
    if (failed(deferred))
      return failure();
    DeferredLinearLayout &layout = *deferred;
    Type data = layout.signedData ? b.getIntegerType(8, /*isSigned=*/true)
                                  : b.getIntegerType(8, /*isSigned=*/false);
    Type scale = layout.f32Scales ? b.getF32Type() : b.getF16Type();
    SmallVector<int64_t, 2> scaleShape = {rows, layout.scaleColumns};
    if (layout.f32Scales)
      scaleShape = {rows};
    FailureOr<FlatSymbolRefAttr> w =
        declare(base + ".qweight", layout.signedData ? DType::I8 : DType::U8, data,
                {rows, layout.dataColumns}, std::move(layout.data), loc);
    FailureOr<FlatSymbolRefAttr> s =
        declare(base + ".scales", layout.f32Scales ? DType::F32 : DType::F16, scale,
                scaleShape, std::move(layout.scales), loc);
    if (failed(w) || failed(s))
      return failure();
    op.setWeightAttr(*w);
    op.setScalesAttr(*s);
    if (layout.hasZeros) {
      FailureOr<FlatSymbolRefAttr> z = declare(
          base + ".zeros", DType::F16, b.getF16Type(), {rows, layout.scaleColumns},
          std::move(layout.zeros), loc);
      if (failed(z))
        return failure();
      op.setZerosAttr(*z);
    }
  } else {
    FailureOr<FlatSymbolRefAttr> w = dense(base, sources, loc);
    if (failed(w))
      return failure();
    op.setWeightAttr(*w);
  }

  // Biases concatenate like the rows they belong to.
  if (std::optional<ArrayAttr> biases = op.getBiases()) {
    std::vector<float> bias;
    for (auto [name, sourceRows] : llvm::zip(*biases, op.getRows())) {
      StringRef biasName = cast<StringAttr>(name).getValue();
      if (biasName.empty()) {
        bias.insert(bias.end(), sourceRows, 0.0f);
        continue;
      }
      FailureOr<WeightMatrix> v = readWeight(store, biasName, loc);
      if (failed(v))
        return failure();
      bias.insert(bias.end(), v->values.begin(), v->values.end());
    }
    FailureOr<FlatSymbolRefAttr> t =
        declare(base + ".bias", DType::F16, b.getF16Type(),
                {static_cast<int64_t>(bias.size())}, packF16(bias), loc);
    if (failed(t))
      return failure();
    op.setBiasAttr(*t);
  }
  return success();
}

struct ChainPackWeightsPass
    : public impl::ChainPackWeightsBase<ChainPackWeightsPass> {
  void runOnOperation() override {
    FailureOr<WeightContext *> weights =
        WeightContext::require(getOperation(), "qtc-chain-pack-weights");
    if (failed(weights))
      return signalPassFailure();
    WeightStore &store = (*weights)->store();
    if (failed(forEachPlan(getOperation(), [&](chain::PlanOp plan) {
          return packWeights(plan, store);
        })))
      signalPassFailure();
  }
};

} // namespace

LogicalResult packWeights(chain::PlanOp plan, WeightStore &store) {
  WeightPacker packer(plan, store);
  for (Operation &op : llvm::make_early_inc_range(plan.getBlock())) {
    LogicalResult result =
        llvm::TypeSwitch<Operation *, LogicalResult>(&op)
            .Case([&](chain::EmbeddingOp e) {
              return e.getTableAttr() ? success() : packer.pack(e);
            })
            .Case([&](chain::RmsNormOp n) {
              return n.getWeightAttr() ? success() : packer.pack(n);
            })
            .Case([&](chain::LinearOp l) {
              return l.getWeightAttr() ? success() : packer.pack(l);
            })
            .Default([](Operation *) { return success(); });
    if (failed(result))
      return failure();
  }
  return success();
}

} // namespace qtc
