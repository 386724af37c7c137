//===- OnnxExternalData.cpp - Confined access to ONNX external data -------===//

#include "OnnxExternalData.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace qtc;

namespace {
std::string formatRange(uint64_t begin, uint64_t length) {
  return "[" + std::to_string(begin) + ", " + std::to_string(begin) + " + " +
         std::to_string(length) + ")";
}
} // namespace

FailureOr<llvm::StringRef> OnnxExternalData::mapFile(Location loc,
                                                     llvm::StringRef tensorName,
                                                     llvm::StringRef location) {
  auto error = [&]() {
    return emitError(loc) << "initializer '" << tensorName
                          << "': external data location '" << location << "' ";
  };
  if (location.empty())
    return error() << "is empty";
  // Checked on the text first so the message says what is wrong, then on
  // the resolved path, which also catches symbolic links leading out.
  if (llvm::sys::path::is_absolute(location) ||
      llvm::sys::path::is_absolute(location, llvm::sys::path::Style::windows) ||
      location.starts_with("~"))
    return error() << "must be a path relative to the model's folder";
  for (llvm::StringRef component : llvm::make_range(
           llvm::sys::path::begin(location, llvm::sys::path::Style::windows),
           llvm::sys::path::end(location)))
    if (component == "..")
      return error() << "escapes the model's folder";

  if (realFolder.empty()) {
    llvm::SmallString<256> real;
    if (llvm::sys::fs::real_path(folder, real))
      return emitError(loc)
             << "cannot resolve the model's folder '" << folder << "'";
    realFolder = std::string(real);
  }
  llvm::SmallString<256> joined(realFolder);
  llvm::sys::path::append(joined, location);
  llvm::SmallString<256> real;
  if (std::error_code ec = llvm::sys::fs::real_path(joined, real))
    return error() << "cannot be opened: " << ec.message();
  llvm::StringRef realRef = real;
  if (!realRef.starts_with(realFolder) ||
      !llvm::sys::path::is_separator(realRef[realFolder.size()]))
    return error() << "resolves to '" << realRef
                   << "', outside the model's folder";

  auto cached = mapped.find(realRef);
  if (cached != mapped.end())
    return cached->second;
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(realRef, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return error() << "cannot be opened: " << buffer.getError().message();
  llvm::StringRef bytes = store.adoptBuffer(std::move(*buffer));
  mapped[realRef] = bytes;
  return bytes;
}

FailureOr<llvm::StringRef>
OnnxExternalData::read(Location loc, llvm::StringRef tensorName,
                       llvm::StringRef location, std::optional<uint64_t> offset,
                       std::optional<uint64_t> length, uint64_t expectedBytes) {
  FailureOr<llvm::StringRef> file = mapFile(loc, tensorName, location);
  if (failed(file))
    return failure();
  uint64_t begin = offset.value_or(0);
  uint64_t size = length.value_or(expectedBytes);
  if (size != expectedBytes)
    return emitError(loc) << "initializer '" << tensorName
                          << "': external data length " << size
                          << " disagrees with its shape and type ("
                          << expectedBytes << " bytes)";
  if (begin > file->size() || size > file->size() - begin)
    return emitError(loc) << "initializer '" << tensorName
                          << "': external data " << formatRange(begin, size)
                          << " runs past the end of '" << location << "' ("
                          << file->size() << " bytes)";
  return file->substr(begin, size);
}
