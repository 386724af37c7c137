//===- OnnxConstantEvaluator.h - Evaluates shape-only subgraphs -*- C++ -*-===//
//
// Exporters compute positions, causal masks, RoPE tables and reshape targets
// inside the graph from the input's shape. The raiser needs their values to
// recognize what they are (is this mask causal? which frequencies does this
// table hold?), so it evaluates them for a concrete sequence length. All
// arithmetic is in int64 or double; patterns compare with tolerances.
//
// This is a small interpreter for the ~40 ops such subgraphs use, written
// here because no ONNX runtime can be linked: onnx 1.12 has no evaluator and
// onnxruntime is not packaged for Debian.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_LIB_IMPORT_ONNXCONSTANTEVALUATOR_H
#define QTC_LIB_IMPORT_ONNXCONSTANTEVALUATOR_H

#include "HostTensor.h"
#include "OnnxGraph.h"

namespace qtc {

class OnnxConstantEvaluator {
public:
  /// Evaluates with every graph input's last dimension set to
  /// `sequenceLength` and its other symbolic dimensions set to 1 (one
  /// sequence, as tfm models take).
  OnnxConstantEvaluator(const OnnxGraph &graph, int64_t sequenceLength)
      : graph(graph), sequenceLength(sequenceLength) {}

  /// The value of the shape-only value `name`.
  llvm::Expected<const HostTensor *> evaluate(llvm::StringRef name);

  int64_t getSequenceLength() const { return sequenceLength; }

  /// Largest tensor the evaluator creates.
  static constexpr int64_t kMaxElements = 1 << 22;

private:
  llvm::Error evaluateNode(const OnnxNode &node);

  const OnnxGraph &graph;
  int64_t sequenceLength;
  llvm::StringMap<HostTensor> values;
};

} // namespace qtc

#endif // QTC_LIB_IMPORT_ONNXCONSTANTEVALUATOR_H
