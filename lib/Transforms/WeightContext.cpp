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

FailureOr<WeightQuantization> weightQuantization(qnt::EncodingAttr enc,
                                                int64_t inFeatures, Location loc) {
  auto unsupported = [&]() {
    return emitError(loc) << "no quantizer computes weights in " << enc
                          << " (supported: i3/i4/i8 symmetric and u3/u4 "
                             "asymmetric per_group or per_channel along axis "
                             "1 with f16 scales; f8e4m3 per_channel with f32 "
                             "scales)";
  };
  if (enc.getAxis() != 1)
    return unsupported();
  WeightQuantization how;
  if (enc.getFormat() == qnt::Format::f8e4m3) {
    if (enc.getGranularity() != qnt::Granularity::per_channel ||
        !enc.getScaleType().isF32() || !enc.getSymmetric())
      return unsupported();
    how.kind = WeightQuantization::Kind::Fp8Channel;
    how.grid.groupSize = inFeatures; // one scale per row
    return how;
  }
  int bits = 0;
  bool signedFormat = false;
  switch (enc.getFormat()) {
  case qnt::Format::i3: bits = 3; signedFormat = true; break;
  case qnt::Format::i4: bits = 4; signedFormat = true; break;
  case qnt::Format::i8: bits = 8; signedFormat = true; break;
  case qnt::Format::u3: bits = 3; break;
  case qnt::Format::u4: bits = 4; break;
  default: return unsupported();
  }
  // Signed formats are the symmetric grids, unsigned ones carry zeros.
  bool symmetric = enc.getSymmetric();
  if (signedFormat != symmetric || !enc.getScaleType().isF16() ||
      (!symmetric && !(enc.getZeroType() && enc.getZeroType().isF16())))
    return unsupported();
  how.grid.bits = bits;
  how.grid.symmetric = symmetric;
  if (enc.getGranularity() == qnt::Granularity::per_group)
    how.grid.groupSize = enc.getGroupSize();
  else if (enc.getGranularity() == qnt::Granularity::per_channel)
    how.grid.groupSize = inFeatures;
  else
    return unsupported();
  return how;
}

llvm::Expected<std::vector<float>> dequantize(const QuantizedWeight &q) {
  if (const auto *i = std::get_if<quant::IntGroupWeight>(&q))
    return quant::dequantizeIntGroup(*i);
  return quant::dequantizeFp8Channel(std::get<quant::Fp8ChannelWeight>(q));
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

// Codes of up to 4 bits travel two to a byte.
bool packsNibbles(int bits) { return bits <= 4; }

LogicalResult addTensor(WeightStore &store, std::string name, DType dtype,
                        SmallVector<int64_t, 2> shape, std::string bytes,
                        Location loc) {
  if (!store.addOwned(name, dtype, shape, std::move(bytes)))
    return emitError(loc) << "cannot store '" << name
                          << "': the name is taken (was the weight quantized twice?)";
  return success();
}

LogicalResult storeIntGroup(WeightStore &store, StringRef weight,
                            const quant::IntGroupWeight &q, Location loc) {
  int64_t groups = q.groupsPerRow();
  std::string data;
  SmallVector<int64_t, 2> dataShape = {q.outFeatures, q.inFeatures};
  if (packsNibbles(q.bits)) {
    if (q.inFeatures % 2 != 0)
      return emitError(loc) << "'" << weight << "' has " << q.inFeatures
                            << " input features; " << q.bits
                            << "-bit codes are stored two to a byte, so the "
                               "count must be even";
    dataShape[1] = q.inFeatures / 2;
    data.assign(q.codes.size() / 2, '\0');
    quant::packInt4(q.codes, llvm::MutableArrayRef<uint8_t>(
                                 reinterpret_cast<uint8_t *>(data.data()), data.size()));
  } else {
    data = bytesOf(q.codes.data(), q.codes.size());
  }
  if (failed(addTensor(store, quantizedDataName(weight), DType::U8, dataShape,
                       std::move(data), loc)) ||
      failed(addTensor(store, quantizedScalesName(weight), DType::F16,
                       {q.outFeatures, groups},
                       bytesOf(q.scales.data(), q.scales.size() * 2), loc)))
    return failure();
  if (!q.symmetric)
    return addTensor(store, quantizedZerosName(weight), DType::F16,
                     {q.outFeatures, groups},
                     bytesOf(q.zeros.data(), q.zeros.size() * 2), loc);
  return success();
}

LogicalResult storeFp8Channel(WeightStore &store, StringRef weight,
                              const quant::Fp8ChannelWeight &q, Location loc) {
  if (failed(addTensor(store, quantizedDataName(weight), DType::U8,
                       {q.outFeatures, q.inFeatures},
                       bytesOf(q.codes.data(), q.codes.size()), loc)))
    return failure();
  return addTensor(store, quantizedScalesName(weight), DType::F32, {q.outFeatures},
                   bytesOf(q.scales.data(), q.scales.size() * 4), loc);
}

// Copies the stored tensor `name` into `dst` after checking it is `dtype`
// of `shape`.
LogicalResult readStored(const WeightStore &store, StringRef weight,
                         const std::string &name, DType dtype,
                         ArrayRef<int64_t> shape, void *dst, Location loc) {
  std::optional<WeightRef> ref = store.lookup(name);
  if (!ref)
    return emitError(loc) << "quantized tensor '" << name
                          << "' is missing: was '" << weight
                          << "' quantized by qtc-rtn or qtc-gptq?";
  if (ref->dtype != dtype || ArrayRef<int64_t>(ref->shape) != shape)
    return emitError(loc) << "quantized tensor '" << name << "' has the "
                          << "wrong type or shape for its encoding";
  std::memcpy(dst, ref->data, ref->byteSize);
  return success();
}

} // namespace

LogicalResult storeQuantized(WeightStore &store, StringRef weight,
                             const QuantizedWeight &q, Location loc) {
  if (const auto *i = std::get_if<quant::IntGroupWeight>(&q))
    return storeIntGroup(store, weight, *i, loc);
  return storeFp8Channel(store, weight, std::get<quant::Fp8ChannelWeight>(q), loc);
}

FailureOr<QuantizedWeight> loadQuantized(const WeightStore &store, StringRef weight,
                                         int64_t outFeatures, int64_t inFeatures,
                                         const WeightQuantization &how,
                                         Location loc) {
  if (how.kind == WeightQuantization::Kind::Fp8Channel) {
    quant::Fp8ChannelWeight q;
    q.outFeatures = outFeatures;
    q.inFeatures = inFeatures;
    q.codes.resize(outFeatures * inFeatures);
    q.scales.resize(outFeatures);
    if (failed(readStored(store, weight, quantizedDataName(weight), DType::U8,
                          {outFeatures, inFeatures}, q.codes.data(), loc)) ||
        failed(readStored(store, weight, quantizedScalesName(weight), DType::F32,
                          {outFeatures}, q.scales.data(), loc)))
      return failure();
    return QuantizedWeight(std::move(q));
  }
  quant::IntGroupWeight q;
  q.outFeatures = outFeatures;
  q.inFeatures = inFeatures;
  q.groupSize = how.grid.groupSize;
  q.bits = how.grid.bits;
  q.symmetric = how.grid.symmetric;
  int64_t groups = inFeatures / q.groupSize;
  q.codes.resize(outFeatures * inFeatures);
  q.scales.resize(outFeatures * groups);
  if (packsNibbles(q.bits)) {
    std::vector<uint8_t> packed(outFeatures * inFeatures / 2);
    if (failed(readStored(store, weight, quantizedDataName(weight), DType::U8,
                          {outFeatures, inFeatures / 2}, packed.data(), loc)))
      return failure();
    quant::unpackInt4(packed, q.codes);
  } else if (failed(readStored(store, weight, quantizedDataName(weight), DType::U8,
                               {outFeatures, inFeatures}, q.codes.data(), loc))) {
    return failure();
  }
  if (failed(readStored(store, weight, quantizedScalesName(weight), DType::F16,
                        {outFeatures, groups}, q.scales.data(), loc)))
    return failure();
  if (!q.symmetric) {
    q.zeros.resize(outFeatures * groups);
    if (failed(readStored(store, weight, quantizedZerosName(weight), DType::F16,
                          {outFeatures, groups}, q.zeros.data(), loc)))
      return failure();
  }
  return QuantizedWeight(std::move(q));
}

} // namespace qtc
