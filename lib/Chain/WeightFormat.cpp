//===- WeightFormat.cpp - The artifact format of a weight encoding --------===//
//
// One place says which artifact WeightFormat (runtime/schema/artifact.fbs)
// holds a weight of a given #qnt.encoding: the packer lays it out that way,
// the translation records it on the step and kernel selection asks the
// generators for it.
//
//===----------------------------------------------------------------------===//

#include "qtc/Chain/Plan.h"

#include "qtc/Transforms/WeightContext.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace qtc {

FailureOr<rt::fb::WeightFormat> storedWeightFormat(qnt::EncodingAttr encoding,
                                                   int64_t inFeatures, Location loc) {
  FailureOr<WeightQuantization> how = weightQuantization(encoding, inFeatures, loc);
  if (failed(how))
    return failure();
  if (how->kind == WeightQuantization::Kind::Fp8Channel)
    return rt::fb::WeightFormat::Fp8Channel;
  return how->grid.bits == 8 ? rt::fb::WeightFormat::Int8Group
                             : rt::fb::WeightFormat::Int4Group;
}

std::string weightFormatName(qnt::EncodingAttr encoding, int64_t inFeatures) {
  FailureOr<WeightQuantization> how =
      weightQuantization(encoding, inFeatures, UnknownLoc::get(encoding.getContext()));
  if (failed(how))
    return "unsupported";
  if (how->kind == WeightQuantization::Kind::Fp8Channel)
    return "fp8e4m3-channel";
  std::string group = encoding.getGranularity() == qnt::Granularity::per_channel
                          ? std::string("channel")
                          : llvm::formatv("g{0}", how->grid.groupSize).str();
  return llvm::formatv("int{0}-{1}-{2}", how->grid.bits, group,
                       how->grid.symmetric ? "sym" : "asym");
}

} // namespace qtc
