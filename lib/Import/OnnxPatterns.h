//===- OnnxPatterns.h - Raising ONNX subgraphs to tfm ops -------*- C++ -*-===//
//
// Exporters decompose RMSNorm, RoPE, attention and the SwiGLU MLP into
// primitive ONNX ops. Raising recognizes each decomposition with a small
// pattern anchored on one op type (torch-mlir style: one pattern per
// construct and opset range, listed in a table) and records it as a
// RaisedOp. Patterns only recognize; OnnxDecoderStructure then assigns the
// recognized ops their roles in the Llama layer structure, and the shared
// TfmModelEmitter builds the IR.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_LIB_IMPORT_ONNXPATTERNS_H
#define QTC_LIB_IMPORT_ONNXPATTERNS_H

#include "HostTensor.h"
#include "OnnxConstantEvaluator.h"
#include "OnnxGraph.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/Twine.h"

#include <optional>
#include <string>
#include <vector>

namespace qtc {

/// One recognized construct, in tfm terms.
struct RaisedOp {
  enum class Kind { Embedding, RmsNorm, Linear, Attention, Swiglu, Add };
  RaisedOp(Kind kind, const OnnxNode &anchor) : kind(kind), anchor(&anchor) {}

  Kind kind;
  /// The node the pattern was anchored on (for locations and messages).
  const OnnxNode *anchor;
  /// ONNX values the op reads (activations) and the value it defines.
  llvm::SmallVector<std::string, 3> inputs;
  std::string output;

  /// Embedding table, norm scale or projection matrix (an initializer).
  std::string weight;
  /// The projection is stored [in, out] (MatMul's B) rather than [out, in].
  bool weightIsInputMajor = false;
  std::string bias;

  double epsilon = 0.0;

  int64_t numHeads = 0;
  int64_t numKvHeads = 0;
  int64_t headDim = 0;
  double scale = 0.0;
  /// RoPE frequency of each rotated pair (head_dim / 2 entries), read off
  /// the graph's cos/sin tables.
  std::vector<double> ropeFrequencies;
};

/// What patterns share: the graph, the evaluator and the match state.
class PatternContext {
public:
  PatternContext(const OnnxGraph &graph, OnnxConstantEvaluator &evaluator)
      : graph(graph), evaluator(evaluator) {}

  /// The unconsumed node of type `opType` defining `value`, or null.
  const OnnxNode *def(llvm::StringRef value, llvm::StringRef opType) const;
  /// The only user of `value` if it has exactly one, of type `opType`, and
  /// `value` is not a graph output.
  const OnnxNode *soleUser(llvm::StringRef value, llvm::StringRef opType) const;
  /// Whether `value` is a raised activation (or the token ids input).
  bool isRaised(llvm::StringRef value) const {
    return raisedBy.count(value) != 0;
  }
  bool isShapeOnly(llvm::StringRef value) const {
    return graph.isShapeOnly(value);
  }

  /// The value of shape-only `value`; on failure notes why against `anchor`.
  const HostTensor *evaluate(llvm::StringRef value, const OnnxNode &anchor);
  std::optional<double> scalar(llvm::StringRef value, const OnnxNode &anchor);
  std::optional<llvm::SmallVector<int64_t, 4>> ints(llvm::StringRef value,
                                                    const OnnxNode &anchor);
  /// The floating-point initializer `value` if it has rank `rank`.
  const OnnxTensorData *weight(llvm::StringRef value, size_t rank) const;

  /// Records why `anchor` did not match; reported if no pattern raises it.
  bool note(const OnnxNode &anchor, const llvm::Twine &why);
  /// Records `op` and consumes `nodes`. Fails (with a note) unless every
  /// value the nodes define, other than `op.output`, is used only inside
  /// `nodes`: a match must not hide a value something else still reads.
  bool commit(RaisedOp op, llvm::ArrayRef<const OnnxNode *> nodes);

  /// Marks the token ids graph input as raised.
  void markIdsInput(llvm::StringRef name) { raisedBy[name] = -1; }

  const OnnxGraph &graph;
  OnnxConstantEvaluator &evaluator;
  std::vector<RaisedOp> ops;
  llvm::DenseSet<size_t> consumed;
  llvm::DenseMap<size_t, std::string> notes;
  /// Value -> index in `ops` (-1 for the ids input).
  llvm::StringMap<int64_t> raisedBy;
};

/// A pattern: tries to raise the subgraph anchored at a node of type
/// `anchorOp`, for models whose default-domain opset is in
/// [minOpset, maxOpset]. Returns true if it committed a RaisedOp.
struct OnnxPattern {
  llvm::StringLiteral name;
  llvm::StringLiteral anchorOp;
  int64_t minOpset;
  int64_t maxOpset;
  bool (*match)(PatternContext &context, const OnnxNode &anchor);
};

/// Every pattern, in the order they are tried on a node.
llvm::ArrayRef<OnnxPattern> onnxPatterns();

// Patterns, grouped by file.
bool matchEmbedding(PatternContext &context, const OnnxNode &gather);
bool matchLinear(PatternContext &context, const OnnxNode &matMul);
bool matchRmsNormAxesAttribute(PatternContext &context,
                               const OnnxNode &reduceMean);
bool matchRmsNormAxesInput(PatternContext &context, const OnnxNode &reduceMean);
bool matchAttention(PatternContext &context, const OnnxNode &softmax);
bool matchSwiglu(PatternContext &context, const OnnxNode &mul);
bool matchResidualAdd(PatternContext &context, const OnnxNode &add);

} // namespace qtc

#endif // QTC_LIB_IMPORT_ONNXPATTERNS_H
