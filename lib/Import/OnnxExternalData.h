//===- OnnxExternalData.h - Confined access to ONNX external data -*- C++
//-*-===//

#ifndef QTC_LIB_IMPORT_ONNXEXTERNALDATA_H
#define QTC_LIB_IMPORT_ONNXEXTERNALDATA_H

#include "qtc/Import/WeightStore.h"

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringMap.h"

#include <optional>

namespace qtc {

/// Resolves the `location` of external tensor data against the model's
/// folder. A model file is untrusted input: its locations must be relative
/// paths that stay inside the folder (no absolute paths, no '..', no
/// symbolic links leading out), and every byte range must lie inside its
/// file. Each file is memory-mapped once and kept alive by the store.
class OnnxExternalData {
public:
  OnnxExternalData(llvm::StringRef modelFolder, WeightStore &store)
      : folder(modelFolder), store(store) {}

  /// The bytes of tensor `tensorName` stored at [offset, offset + length) of
  /// `location`; `length` defaults to `expectedBytes` and must equal it.
  mlir::FailureOr<llvm::StringRef>
  read(mlir::Location loc, llvm::StringRef tensorName, llvm::StringRef location,
       std::optional<uint64_t> offset, std::optional<uint64_t> length,
       uint64_t expectedBytes);

private:
  mlir::FailureOr<llvm::StringRef> mapFile(mlir::Location loc,
                                           llvm::StringRef tensorName,
                                           llvm::StringRef location);

  std::string folder;
  std::string realFolder;
  WeightStore &store;
  llvm::StringMap<llvm::StringRef> mapped;
};

} // namespace qtc

#endif // QTC_LIB_IMPORT_ONNXEXTERNALDATA_H
