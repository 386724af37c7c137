//===- DecoderWeightNames.h - Hugging Face names of decoder weights -*- C++
//-*-===//
//
// The tensor names of a Llama-family checkpoint, which both importers use as
// the names of `tfm.weight` ops and WeightStore entries.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_LIB_IMPORT_DECODERWEIGHTNAMES_H
#define QTC_LIB_IMPORT_DECODERWEIGHTNAMES_H

#include "TransformerConfig.h"

#include "llvm/ADT/StringRef.h"

#include <array>
#include <string>

namespace qtc {

/// The seven projections of a decoder layer.
enum class LinearRole { Query, Key, Value, Output, Gate, Up, Down };

inline constexpr llvm::StringLiteral kEmbedTokensWeight =
    "model.embed_tokens.weight";
inline constexpr llvm::StringLiteral kFinalNormWeight = "model.norm.weight";
inline constexpr llvm::StringLiteral kLmHeadWeight = "lm_head.weight";

/// "model.layers.3.self_attn.q_proj" and friends (no ".weight").
std::string linearModuleName(int64_t layer, LinearRole role);
std::string linearWeightName(int64_t layer, LinearRole role);
std::string linearBiasName(int64_t layer, LinearRole role);
std::string inputNormWeightName(int64_t layer);
std::string postAttentionNormWeightName(int64_t layer);
/// "model.layers.3": prefix of the layer's op keys.
std::string layerPrefix(int64_t layer);

/// [out, in] of the projection under `config`.
std::array<int64_t, 2> linearWeightShape(const TransformerConfig &config,
                                         LinearRole role);
bool linearHasBias(const TransformerConfig &config, LinearRole role);

} // namespace qtc

#endif // QTC_LIB_IMPORT_DECODERWEIGHTNAMES_H
