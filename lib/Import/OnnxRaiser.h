//===- OnnxRaiser.h - From a raised ONNX graph to a decoder description -*- C++
//-*-===//

#ifndef QTC_LIB_IMPORT_ONNXRAISER_H
#define QTC_LIB_IMPORT_ONNXRAISER_H

#include "OnnxPatterns.h"
#include "TransformerConfig.h"

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"

namespace qtc {

/// `node` as a location: its name inside the model file.
mlir::Location onnxNodeLoc(mlir::MLIRContext &context, const OnnxGraph &graph,
                           const OnnxNode &node);

/// Runs the pattern table over every live node in graph order. A node that
/// contributes to the output but that no pattern accounts for (and that is
/// not part of the shape-only bookkeeping the patterns evaluate) is an error
/// naming the node and its op type, with the reason its anchor's pattern
/// gave up when there is one.
mlir::LogicalResult raiseOnnxGraph(mlir::MLIRContext &context,
                                   PatternContext &patterns);

/// The Llama decoder the raised ops form, in Hugging Face terms.
struct RaisedDecoder {
  /// Everything the graph states; the rest (architecture name, token ids,
  /// maximum context, RoPE theta) is filled in by the importer.
  TransformerConfig config;
  struct WeightBinding {
    std::string name;        // Hugging Face name
    std::string initializer; // ONNX initializer holding it
    bool inputMajor = false; // stored [in, out]: needs a transpose
  };
  std::vector<WeightBinding> weights;
  /// Emitter op key ("model.layers.0.self_attn", ...) -> anchor node.
  llvm::StringMap<const OnnxNode *> opNodes;
  /// RoPE frequencies (identical in every layer) and the node they came from.
  std::vector<double> ropeFrequencies;
  const OnnxNode *firstAttention = nullptr;
};

/// Assigns every raised op its role in the embedding -> N x (attention,
/// MLP) -> norm -> lm_head structure and collects the configuration. Ops
/// that fit nowhere, and per-layer facts that disagree (epsilon, heads,
/// biases), are errors located at the ONNX node.
mlir::FailureOr<RaisedDecoder>
recoverDecoderStructure(mlir::MLIRContext &context,
                        const PatternContext &patterns);

} // namespace qtc

#endif // QTC_LIB_IMPORT_ONNXRAISER_H
