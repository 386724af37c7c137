//===- OnnxProbe.h - Values that depend only on the sequence length -*- C++ -*-===//
//
// Masks, positions and RoPE tables are computed from the graph's inputs'
// shapes (and position ids), so they are not constants of the imported
// function. Raising classifies them by evaluating their subgraph at a given
// length with the onnx ops' own folders: the graph inputs become constants
// of that length (token ids zero, attention_mask ones, position_ids
// consecutive from a first position) and every op of the subgraph must fold.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_LIB_IMPORT_ONNXPROBE_H
#define QTC_LIB_IMPORT_ONNXPROBE_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Value.h"
#include "mlir/Support/LLVM.h"

#include <optional>
#include <vector>

namespace qtc {

/// The length and first position a subgraph is evaluated at.
struct ProbePoint {
  int64_t tokens = 13;
  int64_t firstPosition = 0;
};

/// A value evaluated at a probe point, row-major as doubles.
struct ProbedValue {
  llvm::SmallVector<int64_t, 4> shape;
  std::vector<double> values;
  mlir::Type elementType;
  /// Whether the value reads the graph's position_ids input.
  bool readsPositions = false;

  int64_t size() const { return int64_t(values.size()); }
};

/// `v` evaluated at `at`, or nullopt when some op of its subgraph does not
/// fold there (it depends on activations or on an op without a folder).
std::optional<ProbedValue> probeValue(mlir::Value v, ProbePoint at);

/// The graph input name of a function argument (`onnx.input_names`), or "".
llvm::StringRef onnxInputName(mlir::BlockArgument arg);

} // namespace qtc

#endif // QTC_LIB_IMPORT_ONNXPROBE_H
