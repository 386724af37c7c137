//===- Safetensors.h - Validated safetensors headers ------------*- C++ -*-===//
//
// A safetensors file is an 8-byte little-endian header length, a JSON header
// mapping tensor names to {dtype, shape, data_offsets}, then the raw data.
// Parsing checks every offset against the file before any byte is viewed, so
// a corrupt or hostile file is a diagnostic, never an out-of-bounds read.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_IMPORT_SAFETENSORS_H
#define QTC_IMPORT_SAFETENSORS_H

#include "qtc/Import/WeightStore.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/LLVM.h"

#include <string>
#include <vector>

namespace qtc {

struct SafetensorsTensorInfo {
  std::string name;
  DType dtype;
  llvm::SmallVector<int64_t, 4> shape;
  /// Absolute byte range [begin, end) in the file.
  uint64_t begin = 0;
  uint64_t end = 0;
};

struct SafetensorsHeader {
  /// Absolute offset of the data section.
  uint64_t dataStart = 0;
  /// Tensors in header order.
  std::vector<SafetensorsTensorInfo> tensors;
};

/// The dtype's name in a safetensors header: "F16", "BF16", "F8_E4M3", ...
llvm::StringRef safetensorsDTypeName(DType dtype);

/// Parses and validates the header of the safetensors file whose bytes are
/// `fileBytes`. Diagnostics are located at `filePath` and name the tensor
/// and offsets at fault.
mlir::FailureOr<SafetensorsHeader>
parseSafetensorsHeader(mlir::MLIRContext &context, llvm::StringRef filePath,
                       llvm::StringRef fileBytes);

/// Memory-maps `filePath`, validates its header and registers every tensor in
/// `store` under its own name. Returns the names registered.
mlir::FailureOr<std::vector<std::string>>
addSafetensorsFile(mlir::MLIRContext &context, llvm::StringRef filePath,
                   WeightStore &store);

} // namespace qtc

#endif // QTC_IMPORT_SAFETENSORS_H
