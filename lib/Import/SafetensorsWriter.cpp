//===- SafetensorsWriter.cpp - Streams safetensors files ------------------===//
//
// The header is the reference implementation's: compact JSON with
// `__metadata__` first, then one {"dtype", "shape", "data_offsets"} entry per
// tensor in data order, padded with spaces to a multiple of 8 bytes.
//
//===----------------------------------------------------------------------===//

#include "qtc/Import/SafetensorsWriter.h"
#include "qtc/Import/Safetensors.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace qtc;

llvm::Expected<uint64_t>
qtc::safetensorsByteSize(const SafetensorsTensorSpec &spec) {
  uint64_t bytes = dtypeByteSize(spec.dtype);
  for (int64_t dim : spec.shape) {
    if (dim < 0)
      return llvm::createStringError("tensor '" + spec.name +
                                     "': negative dimension " +
                                     std::to_string(dim));
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(dim), &bytes))
      return llvm::createStringError("tensor '" + spec.name +
                                     "': shape is too large to address");
  }
  return bytes;
}

llvm::Expected<std::string>
qtc::encodeSafetensorsHeader(llvm::ArrayRef<SafetensorsTensorSpec> tensors,
                             SafetensorsMetadata metadata) {
  // The reader takes the last of duplicate keys; the reference refuses the
  // file. Neither is what a caller meant.
  llvm::StringSet<> names;
  for (const SafetensorsTensorSpec &tensor : tensors)
    if (!names.insert(tensor.name).second || tensor.name == "__metadata__")
      return llvm::createStringError("tensor name '" + tensor.name +
                                     "' is used twice or reserved");

  std::string json;
  llvm::raw_string_ostream os(json);
  llvm::json::OStream out(os);
  llvm::Error error = llvm::Error::success();
  out.object([&] {
    if (!metadata.empty())
      out.attributeObject("__metadata__", [&] {
        for (const auto &[key, value] : metadata)
          out.attribute(key, value);
      });
    uint64_t offset = 0;
    for (const SafetensorsTensorSpec &tensor : tensors) {
      llvm::Expected<uint64_t> bytes = safetensorsByteSize(tensor);
      if (!bytes) {
        error = llvm::joinErrors(std::move(error), bytes.takeError());
        return;
      }
      uint64_t begin = offset;
      if (__builtin_add_overflow(offset, *bytes, &offset)) {
        error = llvm::createStringError("tensor '" + tensor.name +
                                        "' ends past 2^64 bytes");
        return;
      }
      out.attributeObject(tensor.name, [&] {
        out.attribute("dtype", safetensorsDTypeName(tensor.dtype));
        out.attributeArray("shape", [&] {
          for (int64_t dim : tensor.shape)
            out.value(dim);
        });
        out.attributeArray("data_offsets", [&] {
          out.value(begin);
          out.value(offset);
        });
      });
    }
  });
  if (error)
    return std::move(error);
  json.append((8 - json.size() % 8) % 8, ' ');

  std::string block(8, '\0');
  llvm::support::endian::write64le(block.data(), json.size());
  return block + json;
}

SafetensorsWriter::SafetensorsWriter(std::string path,
                                     std::unique_ptr<llvm::raw_fd_ostream> os,
                                     uint64_t headerBytes, uint64_t dataBytes)
    : filePath(std::move(path)), os(std::move(os)), headerBytes(headerBytes),
      dataBytes(dataBytes) {}

SafetensorsWriter::SafetensorsWriter(SafetensorsWriter &&other) noexcept
    : filePath(std::move(other.filePath)), os(std::move(other.os)),
      headerBytes(other.headerBytes), dataBytes(other.dataBytes),
      written(other.written), finished(other.finished) {
  other.finished = true;
}

SafetensorsWriter &
SafetensorsWriter::operator=(SafetensorsWriter &&other) noexcept {
  if (this != &other) {
    abandon();
    filePath = std::move(other.filePath);
    os = std::move(other.os);
    headerBytes = other.headerBytes;
    dataBytes = other.dataBytes;
    written = other.written;
    finished = other.finished;
    other.finished = true;
  }
  return *this;
}

SafetensorsWriter::~SafetensorsWriter() { abandon(); }

void SafetensorsWriter::abandon() {
  if (finished)
    return;
  finished = true;
  if (os) {
    // A stream destroyed with a pending error aborts the process; this file
    // is being thrown away, so its error no longer matters.
    os->close();
    os->clear_error();
    os.reset();
  }
  // Only a file this writer made: `path` may name a device or a pipe.
  if (llvm::sys::fs::is_regular_file(filePath))
    llvm::sys::fs::remove(filePath);
}

llvm::Expected<SafetensorsWriter>
SafetensorsWriter::create(llvm::StringRef path,
                          llvm::ArrayRef<SafetensorsTensorSpec> tensors,
                          SafetensorsMetadata metadata) {
  llvm::Expected<std::string> header =
      encodeSafetensorsHeader(tensors, metadata);
  if (!header)
    return llvm::createFileError(path, header.takeError());
  uint64_t dataBytes = 0;
  for (const SafetensorsTensorSpec &tensor : tensors)
    dataBytes += *safetensorsByteSize(tensor); // checked by the encoder

  std::error_code ec;
  auto os = std::make_unique<llvm::raw_fd_ostream>(path, ec,
                                                   llvm::sys::fs::OF_None);
  if (ec)
    return llvm::createFileError(path, ec);
  SafetensorsWriter writer(path.str(), std::move(os), header->size(),
                           dataBytes);
  writer.os->write(header->data(), header->size());
  if (llvm::Error error = writer.streamError())
    return std::move(error);
  return std::move(writer);
}

llvm::Error SafetensorsWriter::streamError() {
  if (!os->has_error())
    return llvm::Error::success();
  std::error_code ec = os->error();
  os->clear_error();
  return llvm::createFileError(filePath, ec);
}

llvm::Error SafetensorsWriter::write(llvm::ArrayRef<uint8_t> bytes) {
  if (finished)
    return llvm::createFileError(filePath,
                                 llvm::createStringError("already closed"));
  if (bytes.size() > remaining())
    return llvm::createFileError(
        filePath, llvm::createStringError(
                      std::to_string(bytes.size()) + " bytes would run past " +
                      "the " + std::to_string(dataBytes) +
                      "-byte data section (" + std::to_string(remaining()) +
                      " left)"));
  os->write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
  written += bytes.size();
  return streamError();
}

llvm::Error SafetensorsWriter::finish() {
  if (finished)
    return llvm::createFileError(filePath,
                                 llvm::createStringError("already closed"));
  if (remaining() != 0)
    return llvm::createFileError(
        filePath, llvm::createStringError(
                      "closed with " + std::to_string(remaining()) + " of " +
                      std::to_string(dataBytes) + " data bytes unwritten"));
  // Errors of buffered writes and of close itself surface here.
  os->close();
  if (llvm::Error error = streamError())
    return error;
  os.reset();
  finished = true;
  return llvm::Error::success();
}
