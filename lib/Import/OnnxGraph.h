//===- OnnxGraph.h - An ONNX graph, decoupled from protobuf -----*- C++ -*-===//
//
// The loader converts the protobuf ModelProto into these plain structs so
// importOnnxNodes compiles without the (large) generated protobuf headers.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_LIB_IMPORT_ONNXGRAPH_H
#define QTC_LIB_IMPORT_ONNXGRAPH_H

#include "qtc/Import/WeightStore.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qtc {

/// A tensor whose bytes are known at import time: an initializer, the value
/// of a Constant node or a tensor attribute.
struct OnnxTensorData {
  std::string name;
  /// TensorProto.DataType, kept for messages about unsupported types.
  int32_t onnxType = 0;
  /// Unset when the element type has no DType (strings, int4, ...).
  std::optional<DType> dtype;
  llvm::SmallVector<int64_t, 4> shape;
  /// Densely packed little-endian bytes, kept alive by the WeightStore (for
  /// initializers) or by the graph (for attributes).
  llvm::StringRef bytes;

  int64_t numElements() const;
};

struct OnnxAttribute {
  enum class Kind { Int, Float, String, Ints, Floats, Tensor, Unsupported };
  Kind kind = Kind::Unsupported;
  int64_t i = 0;
  double f = 0.0;
  std::string s;
  llvm::SmallVector<int64_t, 4> ints;
  llvm::SmallVector<double, 4> floats;
  std::shared_ptr<OnnxTensorData> tensor;
};

struct OnnxNode {
  /// Position in the graph's (topologically sorted) node list.
  size_t index = 0;
  std::string name;
  std::string opType;
  std::string domain;
  /// Empty strings stand for omitted optional inputs.
  llvm::SmallVector<std::string, 4> inputs;
  llvm::SmallVector<std::string, 1> outputs;
  llvm::StringMap<OnnxAttribute> attributes;

  const OnnxAttribute *attribute(llvm::StringRef key) const;
  /// The node's name, or a description naming its first output when the
  /// exporter left the name empty.
  std::string displayName() const;
};

/// Why `node` has the wrong number of inputs or outputs for its op type, or
/// "" when it has the right number (or its op type is not in the loader's
/// table): a malformed node is refused when the file is read.
std::string arityProblem(const OnnxNode &node);

/// A graph input or output: element type and dims (-1 where symbolic).
struct OnnxValueInfo {
  std::string name;
  int32_t onnxType = 0;
  llvm::SmallVector<int64_t, 4> dims;
  bool hasShape = false;
};

class OnnxGraph {
public:
  /// Returns the first node input that no earlier node, initializer or
  /// graph input defines (the graph is then not topologically sorted), or
  /// "" when every input is defined.
  std::string firstUndefinedInput() const;

  const OnnxTensorData *constant(llvm::StringRef value) const;

  std::string path;
  std::string folder;
  int64_t opsetVersion = 0;
  std::vector<OnnxNode> nodes;
  std::vector<OnnxValueInfo> inputs;
  std::vector<OnnxValueInfo> outputs;
  /// Initializers and Constant-node values by name.
  llvm::StringMap<OnnxTensorData> constants;
};

} // namespace qtc

#endif // QTC_LIB_IMPORT_ONNXGRAPH_H
