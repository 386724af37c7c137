//===- WeightContext.cpp - The bytes beside the IR that passes share ------===//

#include "qtc/Transforms/WeightContext.h"

#include "dialects/tfm/TfmDialect.h"
#include "qtc/Import/WeightStore.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Operation.h"

#include <cstring>

using namespace mlir;

namespace qtc {

void WeightContext::setInputStatistics(
    StringRef weightName, std::shared_ptr<const quant::ActivationStatistics> stats) {
  inputs_[weightName] = std::move(stats);
}

const quant::ActivationStatistics *
WeightContext::inputStatistics(StringRef weightName) const {
  auto it = inputs_.find(weightName);
  return it == inputs_.end() ? nullptr : it->second.get();
}

WeightContext *WeightContext::get(MLIRContext *context) {
  auto *dialect = context->getLoadedDialect<tfm::TfmDialect>();
  return dialect ? dialect->getWeightContext() : nullptr;
}

void WeightContext::attach(MLIRContext *context, WeightContext *weights) {
  context->getOrLoadDialect<tfm::TfmDialect>()->setWeightContext(weights);
}

FailureOr<WeightContext *> WeightContext::require(Operation *op, StringRef pass) {
  if (WeightContext *weights = get(op->getContext()))
    return weights;
  return op->emitError(pass) << " needs the model's weights: run it from "
                                "`qtc compile`, or give qtc-opt the model with "
                                "--qtc-weights=MODEL";
}

bool isInt4GroupEncoding(qnt::EncodingAttr enc) {
  bool int4 = enc.getFormat() == qnt::Format::i4 || enc.getFormat() == qnt::Format::u4;
  return int4 && enc.getGranularity() == qnt::Granularity::per_group &&
         enc.getAxis() == 1 && enc.getScaleType().isF16() &&
         (enc.getSymmetric() || (enc.getZeroType() && enc.getZeroType().isF16()));
}

std::string quantizedDataName(StringRef weight) { return (weight + ".qdata").str(); }
std::string quantizedScalesName(StringRef weight) { return (weight + ".qscales").str(); }
std::string quantizedZerosName(StringRef weight) { return (weight + ".qzeros").str(); }

namespace {

std::string bytesOf(const void *data, size_t size) {
  std::string bytes(size, '\0');
  if (size)
    std::memcpy(bytes.data(), data, size);
  return bytes;
}

} // namespace

LogicalResult storeInt4Group(WeightStore &store, StringRef weight,
                             const quant::Int4GroupWeight &q, Location loc) {
  int64_t groups = q.groupsPerRow();
  auto add = [&](std::string name, DType dtype, SmallVector<int64_t, 2> shape,
                 std::string bytes) -> LogicalResult {
    if (!store.addOwned(name, dtype, shape, std::move(bytes)))
      return emitError(loc) << "cannot store '" << name
                            << "': the name is taken (was the weight quantized twice?)";
    return success();
  };
  if (failed(add(quantizedDataName(weight), DType::U8,
                 {q.outFeatures, q.inFeatures / 2},
                 bytesOf(q.data.data(), q.data.size()))) ||
      failed(add(quantizedScalesName(weight), DType::F16, {q.outFeatures, groups},
                 bytesOf(q.scales.data(), q.scales.size() * 2))))
    return failure();
  if (!q.symmetric)
    return add(quantizedZerosName(weight), DType::F16, {q.outFeatures, groups},
               bytesOf(q.zeros.data(), q.zeros.size() * 2));
  return success();
}

FailureOr<quant::Int4GroupWeight>
loadInt4Group(const WeightStore &store, StringRef weight, int64_t outFeatures,
              int64_t inFeatures, int64_t groupSize, bool symmetric,
              Location loc) {
  quant::Int4GroupWeight q;
  q.outFeatures = outFeatures;
  q.inFeatures = inFeatures;
  q.groupSize = groupSize;
  q.symmetric = symmetric;
  int64_t groups = inFeatures / groupSize;
  auto read = [&](const std::string &name, DType dtype, int64_t rows,
                  int64_t cols, void *dst) -> LogicalResult {
    std::optional<WeightRef> ref = store.lookup(name);
    if (!ref)
      return emitError(loc) << "quantized tensor '" << name
                            << "' is missing: was '" << weight
                            << "' quantized by qtc-rtn or qtc-gptq?";
    if (ref->dtype != dtype || ref->shape.size() != 2 ||
        ref->shape[0] != rows || ref->shape[1] != cols)
      return emitError(loc) << "quantized tensor '" << name << "' has the "
                            << "wrong type or shape for a " << outFeatures
                            << "x" << inFeatures << " weight in groups of "
                            << groupSize;
    std::memcpy(dst, ref->data, ref->byteSize);
    return success();
  };
  q.data.resize(outFeatures * inFeatures / 2);
  q.scales.resize(outFeatures * groups);
  if (failed(read(quantizedDataName(weight), DType::U8, outFeatures,
                  inFeatures / 2, q.data.data())) ||
      failed(read(quantizedScalesName(weight), DType::F16, outFeatures, groups,
                  q.scales.data())))
    return failure();
  if (!symmetric) {
    q.zeros.resize(outFeatures * groups);
    if (failed(read(quantizedZerosName(weight), DType::F16, outFeatures, groups,
                    q.zeros.data())))
      return failure();
  }
  return q;
}

} // namespace qtc
