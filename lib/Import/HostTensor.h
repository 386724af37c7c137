//===- HostTensor.h - Small tensors the raiser computes with ----*- C++ -*-===//
//
// Shape vectors, masks, RoPE tables and scalar constants, held as int64 or
// double values whatever their ONNX element type, so the patterns can read
// them without caring how the exporter typed them.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_LIB_IMPORT_HOSTTENSOR_H
#define QTC_LIB_IMPORT_HOSTTENSOR_H

#include "OnnxGraph.h"

#include "llvm/Support/Error.h"

#include <vector>

namespace qtc {

struct HostTensor {
  /// The ONNX element type the value has in the graph.
  DType dtype = DType::I64;
  llvm::SmallVector<int64_t, 4> shape;
  /// Elements of integer and bool tensors.
  std::vector<int64_t> ints;
  /// Elements of floating-point tensors.
  std::vector<double> floats;

  bool isFloat() const;
  int64_t numElements() const;
  double floatAt(int64_t i) const;
  int64_t intAt(int64_t i) const;

  /// An empty tensor of `dtype` and `shape` with storage for its elements.
  static HostTensor zeros(DType dtype, llvm::ArrayRef<int64_t> shape);
};

bool isFloatDType(DType dtype);

/// `value` converted to int64 the way a cast would, saturating instead of
/// overflowing (NaN becomes 0): graphs are untrusted input.
int64_t saturatingToInt64(double value);

/// Decodes `data` (at most `maxElements` elements) into a HostTensor.
llvm::Expected<HostTensor> decodeHostTensor(const OnnxTensorData &data,
                                            int64_t maxElements);

} // namespace qtc

#endif // QTC_LIB_IMPORT_HOSTTENSOR_H
