//===- OnnxBindConfig.h - The bound model's configuration ------*- C++ -*-===//
//
// tfm.model's #tfm.model_config for a raised decoder: sizes from the
// weights, heads and scale from the attentions, RoPE from the ropes,
// epsilon from the norms (every layer must agree), and what a graph cannot
// state from a config.json beside the model, checked against the graph.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_LIB_IMPORT_ONNXBINDCONFIG_H
#define QTC_LIB_IMPORT_ONNXBINDCONFIG_H

#include "OnnxBindStructure.h"

#include "dialects/tfm/TfmAttrs.h"

namespace qtc {

struct BoundConfig {
  tfm::ModelConfigAttr config;
  /// The model's RoPE: the raised ropes', or config.json's statement of the
  /// same frequencies.
  mlir::FloatAttr ropeTheta;
  tfm::RopeScalingAttr ropeScaling;
  /// config.json's sliding window (0: none), for layers from
  /// `slidingWindowFirstLayer` on: masks probed at a few tokens cannot
  /// show a window of thousands.
  int64_t slidingWindow = 0;
  int64_t slidingWindowFirstLayer = 0;
};

/// The configuration of `decoder`; `configJson` (may be empty or absent)
/// supplies the architecture, maximum context and token ids. Errors name
/// the op or config field that disagrees.
mlir::FailureOr<BoundConfig> bindModelConfig(RaisedDecoder &decoder,
                                             mlir::Location loc,
                                             llvm::StringRef configJson);

} // namespace qtc

#endif // QTC_LIB_IMPORT_ONNXBINDCONFIG_H
