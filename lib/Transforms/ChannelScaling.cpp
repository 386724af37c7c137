//===- ChannelScaling.cpp - Per-channel scales moved between ops ----------===//

#include "ChannelScaling.h"

#include "qtc/Import/WeightStore.h"

#include "mlir/IR/Builders.h"

#include <cstring>

using namespace mlir;

namespace qtc {

tfm::WeightOp storedWeight(Value v) { return v.getDefiningOp<tfm::WeightOp>(); }

namespace {

// The producer's weight now: an earlier pair may have replaced it (the up
// projection is a consumer of its norm's pair and the producer of down's).
tfm::WeightOp producerWeight(Operation *producer) {
  if (auto norm = dyn_cast<tfm::RmsNormOp>(producer))
    return storedWeight(norm.getWeight());
  return storedWeight(cast<tfm::LinearOp>(producer).getWeight());
}

bool allStored(ArrayRef<tfm::LinearOp> linears) {
  return llvm::all_of(
      linears, [](tfm::LinearOp l) { return storedWeight(l.getWeight()); });
}

} // namespace

SmallVector<ScalePair> findScalePairs(ModuleOp module) {
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
      auto down =
          dyn_cast<tfm::LinearOp>(*swiglu.getResult().getUsers().begin());
      if (!down || !storedWeight(up.getWeight()) || !allStored({down}))
        return;
      pairs.push_back({up, {down}});
    }
  });
  return pairs;
}

LogicalResult replaceWeight(WeightContext &weights, tfm::WeightOp handle,
                            ArrayRef<Operation *> users, ArrayRef<float> values,
                            StringRef suffix, std::string &newName) {
  // One name per scaling: x.awq, then x.awq.2 if x.awq is scaled again.
  StringRef base = handle.getName();
  base.consume_back(suffix);
  newName = (base + suffix).str();
  for (int n = 2; weights.store().contains(newName); ++n)
    newName = (base + suffix + "." + llvm::Twine(n)).str();
  auto type = cast<RankedTensorType>(handle.getResult().getType());
  std::string bytes(values.size() * sizeof(float), '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  if (!weights.store().addOwned(newName, DType::F32, type.getShape(),
                                std::move(bytes)))
    return handle.emitError("cannot store '")
           << newName << "' (already scaled?)";
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

FailureOr<const quant::ActivationStatistics *>
pairInputStatistics(WeightContext &weights, ScalePair &pair, StringRef pass) {
  tfm::LinearOp first = pair.consumers.front();
  std::string firstName = storedWeight(first.getWeight()).getName().str();
  const quant::ActivationStatistics *stats = weights.inputStatistics(firstName);
  if (!stats || stats->rows() == 0)
    return first.emitError(pass)
           << ": no calibration statistics for the input of '" << firstName
           << "'; run qtc-calibrate first";
  int64_t width = cast<ShapedType>(first.getWeight().getType()).getShape()[1];
  if (stats->width() != width)
    return first.emitError(pass) << ": calibration statistics of '" << firstName
                                 << "' do not match its " << width << " inputs";
  return stats;
}

FailureOr<SmallVector<WeightMatrix>> readConsumers(WeightContext &weights,
                                                   ScalePair &pair) {
  SmallVector<WeightMatrix> consumers;
  for (tfm::LinearOp l : pair.consumers) {
    FailureOr<WeightMatrix> m = readWeight(
        weights.store(), storedWeight(l.getWeight()).getName(), l.getLoc());
    if (failed(m))
      return failure();
    consumers.push_back(std::move(*m));
  }
  return consumers;
}

std::shared_ptr<const quant::ActivationStatistics>
smoothedStatistics(const quant::ActivationStatistics &input, ArrayRef<double> s) {
  std::vector<double> inverse(s.size());
  for (size_t c = 0; c < s.size(); ++c)
    inverse[c] = 1.0 / s[c];
  return std::make_shared<quant::ActivationStatistics>(input.scaled(inverse));
}

LogicalResult foldChannelScales(WeightContext &weights, ScalePair &pair,
                                ArrayRef<WeightMatrix> scaledConsumers, ArrayRef<double> s,
                                std::shared_ptr<const quant::ActivationStatistics> smoothed,
                                StringRef pass, StringRef suffix) {
  const int64_t width = static_cast<int64_t>(s.size());
  for (size_t i = 0; i < scaledConsumers.size(); ++i) {
    std::string newName;
    if (failed(replaceWeight(
            weights, storedWeight(pair.consumers[i].getWeight()),
            {pair.consumers[i]}, scaledConsumers[i].values, suffix, newName)))
      return failure();
    weights.setInputStatistics(newName, smoothed);
  }
  tfm::WeightOp producerHandle = producerWeight(pair.producer);
  FailureOr<WeightMatrix> producer = readWeight(
      weights.store(), producerHandle.getName(), pair.producer->getLoc());
  if (failed(producer))
    return failure();
  int64_t rows = producer->shape[0];
  if (rows != width)
    return pair.producer->emitError(pass)
           << ": the producer has " << rows
           << " output channels; its consumers read " << width;
  int64_t rowLen = static_cast<int64_t>(producer->values.size()) / rows;
  for (int64_t c = 0; c < rows; ++c)
    for (int64_t j = 0; j < rowLen; ++j)
      producer->values[c * rowLen + j] =
          static_cast<float>(producer->values[c * rowLen + j] / s[c]);
  std::string producerName = producerHandle.getName().str();
  std::string newProducer;
  if (failed(replaceWeight(weights, producerHandle, {pair.producer},
                           producer->values, suffix, newProducer)))
    return failure();
  // The up projection's own input statistics carry over to its new name.
  if (const quant::ActivationStatistics *upStats =
          weights.inputStatistics(producerName))
    weights.setInputStatistics(
        newProducer, std::make_shared<quant::ActivationStatistics>(*upStats));
  return success();
}

} // namespace qtc
