//===- SafetensorsWriter.h - Streams safetensors files ----------*- C++ -*-===//
//
// Writes the safetensors format that Safetensors.h reads: an 8-byte
// little-endian header length, the JSON header (padded with spaces so the
// data section starts at a multiple of 8, as the reference implementation
// pads it), then every tensor's bytes back to back in header order. The
// header is written first, so a caller streams the data in pieces of any
// size and never holds a whole tensor, let alone a file.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_IMPORT_SAFETENSORSWRITER_H
#define QTC_IMPORT_SAFETENSORSWRITER_H

#include "qtc/Import/WeightStore.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace llvm {
class raw_fd_ostream;
} // namespace llvm

namespace qtc {

/// One tensor of a file to write: its name, element type and shape.
struct SafetensorsTensorSpec {
  std::string name;
  DType dtype = DType::F32;
  llvm::SmallVector<int64_t, 4> shape;
};

/// `__metadata__` entries (string to string, as the format allows).
using SafetensorsMetadata = llvm::ArrayRef<std::pair<std::string, std::string>>;

/// Bytes `spec` occupies in the data section; an error for a negative
/// dimension or a size past 64 bits.
llvm::Expected<uint64_t> safetensorsByteSize(const SafetensorsTensorSpec &spec);

/// The bytes before the data section: the length, then the padded header
/// placing `tensors` back to back in the order given. An error names a
/// duplicate tensor or a shape that cannot be addressed.
llvm::Expected<std::string>
encodeSafetensorsHeader(llvm::ArrayRef<SafetensorsTensorSpec> tensors,
                        SafetensorsMetadata metadata = {});

/// A safetensors file being written. `create` writes the header; `write`
/// appends the next bytes of the data section (tensor after tensor, pieces
/// of any size); `finish` checks every promised byte came and closes the
/// file. A writer destroyed before `finish` succeeded removes the file, so
/// a failed run leaves no truncated file behind that looks complete.
class SafetensorsWriter {
public:
  static llvm::Expected<SafetensorsWriter>
  create(llvm::StringRef path, llvm::ArrayRef<SafetensorsTensorSpec> tensors,
         SafetensorsMetadata metadata = {});

  SafetensorsWriter(SafetensorsWriter &&other) noexcept;
  SafetensorsWriter &operator=(SafetensorsWriter &&other) noexcept;
  ~SafetensorsWriter();

  /// Appends `bytes` to the data section; an error past its end or when the
  /// file cannot be written (the error names the file).
  llvm::Error write(llvm::ArrayRef<uint8_t> bytes);
  /// Closes the file once the data section is complete.
  llvm::Error finish();

  const std::string &path() const { return filePath; }
  /// Size of the finished file: header block plus data section.
  uint64_t fileSize() const { return headerBytes + dataBytes; }
  /// Data bytes still to come.
  uint64_t remaining() const { return dataBytes - written; }

private:
  SafetensorsWriter(std::string path, std::unique_ptr<llvm::raw_fd_ostream> os,
                    uint64_t headerBytes, uint64_t dataBytes);
  llvm::Error streamError();
  void abandon();

  std::string filePath;
  std::unique_ptr<llvm::raw_fd_ostream> os;
  uint64_t headerBytes = 0;
  uint64_t dataBytes = 0;
  uint64_t written = 0;
  bool finished = false;
};

} // namespace qtc

#endif // QTC_IMPORT_SAFETENSORSWRITER_H
