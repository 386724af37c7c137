//===- TfmAttrs.cpp - tfm attribute verifiers -----------------------------===//

#include "dialects/tfm/TfmAttrs.h"

#include "dialects/tfm/TfmDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace qtc::tfm;

#include "dialects/tfm/TfmEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/tfm/TfmAttrs.cpp.inc"

void TfmDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/tfm/TfmAttrs.cpp.inc"
      >();
}

LogicalResult
RopeScalingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        RopeScalingKind kind, APFloat factorValue,
                        APFloat lowFreqValue, APFloat highFreqValue,
                        int64_t originalMaxPositions) {
  float factor = factorValue.convertToFloat(),
        lowFreqFactor = lowFreqValue.convertToFloat(),
        highFreqFactor = highFreqValue.convertToFloat();
  if (!(factor > 0.0f))
    return emitError() << "rope_scaling factor must be positive (got "
                       << factor << ")";
  if (kind != RopeScalingKind::llama3)
    return success();
  if (originalMaxPositions <= 0)
    return emitError() << "llama3 rope_scaling needs original_max_positions "
                          "> 0 (got "
                       << originalMaxPositions << ")";
  if (!(lowFreqFactor > 0.0f && lowFreqFactor < highFreqFactor))
    return emitError() << "llama3 rope_scaling needs 0 < low_freq_factor < "
                          "high_freq_factor (got "
                       << lowFreqFactor << " and " << highFreqFactor << ")";
  return success();
}

LogicalResult ModelConfigAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, StringRef architecture,
    int64_t vocabSize, int64_t hiddenSize, int64_t numLayers, int64_t numHeads,
    int64_t numKvHeads, int64_t headDim, int64_t intermediateSize,
    int64_t maxPositions, APFloat rmsNormEpsValue, APFloat ropeThetaValue,
    int64_t bosTokenId, int64_t eosTokenId, bool tieWordEmbeddings,
    RopeScalingAttr ropeScaling) {
  float rmsNormEps = rmsNormEpsValue.convertToFloat(),
        ropeTheta = ropeThetaValue.convertToFloat();
  if (architecture.empty())
    return emitError() << "model_config architecture must not be empty";

  const std::pair<StringRef, int64_t> sizes[] = {
      {"vocab_size", vocabSize},       {"hidden_size", hiddenSize},
      {"num_layers", numLayers},       {"num_heads", numHeads},
      {"num_kv_heads", numKvHeads},    {"head_dim", headDim},
      {"intermediate_size", intermediateSize},
      {"max_positions", maxPositions}};
  for (auto [name, value] : sizes)
    if (value <= 0)
      return emitError() << "model_config " << name
                         << " must be positive (got " << value << ")";

  if (numHeads % numKvHeads != 0)
    return emitError() << "model_config num_heads (" << numHeads
                       << ") must be a multiple of num_kv_heads (" << numKvHeads
                       << ")";
  if (headDim % 2 != 0)
    return emitError() << "model_config head_dim (" << headDim
                       << ") must be even for rotary embeddings";
  if (!(rmsNormEps > 0.0f))
    return emitError() << "model_config rms_norm_eps must be positive (got "
                       << rmsNormEps << ")";
  if (!(ropeTheta > 0.0f))
    return emitError() << "model_config rope_theta must be positive (got "
                       << ropeTheta << ")";

  const std::pair<StringRef, int64_t> tokens[] = {{"bos_token_id", bosTokenId},
                                                  {"eos_token_id", eosTokenId}};
  for (auto [name, id] : tokens)
    if (id < -1 || id >= vocabSize)
      return emitError() << "model_config " << name << " (" << id
                         << ") must be -1 (none) or below vocab_size ("
                         << vocabSize << ")";
  return success();
}
