//===- WeightFormat.cpp - The artifact layout of a weight encoding --------===//
//
// One place says how the artifact (runtime/schema/artifact.fbs) holds a
// weight of a given #qnt.encoding: the packer lays it out that way, the
// translation records it on the step and kernel selection asks the
// generators for it. Likewise for the per-token activation quantization of
// a slot or step.
//
//===----------------------------------------------------------------------===//

#include "qtc/Chain/Plan.h"

#include "qtc/Transforms/WeightContext.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace qtc {

FailureOr<WeightLayout> weightLayout(qnt::EncodingAttr encoding, int64_t inFeatures,
                                     Location loc) {
  FailureOr<WeightQuantization> how = weightQuantization(encoding, inFeatures, loc);
  if (failed(how))
    return failure();
  WeightLayout layout;
  layout.groupSize = how->grid.groupSize;
  if (how->kind == WeightQuantization::Kind::Fp8Channel) {
    layout.format = rt::fb::WeightFormat::Fp8Channel;
    layout.name = "fp8e4m3-channel";
    return layout;
  }
  layout.format = how->grid.bits == 8 ? rt::fb::WeightFormat::Int8Group
                                      : rt::fb::WeightFormat::Int4Group;
  std::string group = encoding.getGranularity() == qnt::Granularity::per_channel
                          ? std::string("channel")
                          : llvm::formatv("g{0}", how->grid.groupSize).str();
  layout.name = llvm::formatv("int{0}-{1}-{2}", how->grid.bits, group,
                              how->grid.symmetric ? "sym" : "asym");
  return layout;
}

rt::fb::ActivationQuant activationQuant(qnt::EncodingAttr encoding) {
  if (!encoding)
    return rt::fb::ActivationQuant::None;
  return encoding.getFormat() == qnt::Format::f8e4m3 ? rt::fb::ActivationQuant::Fp8PerToken
                                                     : rt::fb::ActivationQuant::Int8PerToken;
}

} // namespace qtc
