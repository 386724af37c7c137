//===- Safetensors.cpp - Validated safetensors headers --------------------===//
//
// The format is small enough that a reader is a page of code; the validation
// (offsets in range, sizes agreeing with shapes, no overlaps) is what matters
// and is what the reference implementation also checks.
//
//===----------------------------------------------------------------------===//

#include "qtc/Import/Safetensors.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <optional>

using namespace mlir;
using namespace qtc;

namespace {
// The reference implementation refuses headers above 100 MB; a larger one is
// a corrupt length, and parsing it would cost memory for nothing.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

// The header's dtype names, read here and written by SafetensorsWriter.
struct DTypeName {
  llvm::StringLiteral name;
  DType dtype;
};
constexpr DTypeName kDTypeNames[] = {
    {"F64", DType::F64},          {"F32", DType::F32},
    {"F16", DType::F16},          {"BF16", DType::BF16},
    {"F8_E4M3", DType::F8E4M3FN}, {"F8_E5M2", DType::F8E5M2},
    {"I64", DType::I64},          {"I32", DType::I32},
    {"I16", DType::I16},          {"I8", DType::I8},
    {"U64", DType::U64},          {"U32", DType::U32},
    {"U16", DType::U16},          {"U8", DType::U8},
    {"BOOL", DType::Bool},
};

std::optional<DType> parseDType(llvm::StringRef name) {
  for (const DTypeName &entry : kDTypeNames)
    if (entry.name == name)
      return entry.dtype;
  return std::nullopt;
}

std::string formatRange(uint64_t begin, uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

// Reads `value` as a non-negative integer that fits in int64.
std::optional<int64_t> asCount(const llvm::json::Value &value) {
  std::optional<int64_t> number = value.getAsInteger();
  if (!number || *number < 0)
    return std::nullopt;
  return number;
}

class HeaderParser {
public:
  HeaderParser(MLIRContext &context, llvm::StringRef path, uint64_t dataSize)
      : loc(FileLineColLoc::get(&context, path, 0, 0)), dataSize(dataSize) {}

  FailureOr<SafetensorsTensorInfo> parseTensor(llvm::StringRef name,
                                               const llvm::json::Value &value);

  Location loc;

private:
  InFlightDiagnostic error(llvm::StringRef name) {
    return emitError(loc) << "tensor '" << name << "': ";
  }

  uint64_t dataSize;
};
} // namespace

FailureOr<SafetensorsTensorInfo>
HeaderParser::parseTensor(llvm::StringRef name,
                          const llvm::json::Value &value) {
  const llvm::json::Object *object = value.getAsObject();
  if (!object)
    return error(name) << "header entry is not a JSON object";

  SafetensorsTensorInfo info;
  info.name = name.str();

  std::optional<llvm::StringRef> dtype = object->getString("dtype");
  if (!dtype)
    return error(name) << "missing string field 'dtype'";
  std::optional<DType> parsed = parseDType(*dtype);
  if (!parsed)
    return error(name) << "unknown dtype '" << *dtype << "'";
  info.dtype = *parsed;

  const llvm::json::Array *shape = object->getArray("shape");
  if (!shape)
    return error(name) << "missing array field 'shape'";
  uint64_t numBytes = dtypeByteSize(info.dtype);
  for (const llvm::json::Value &dim : *shape) {
    std::optional<int64_t> size = asCount(dim);
    if (!size)
      return error(name) << "shape entries must be non-negative integers";
    info.shape.push_back(*size);
    if (__builtin_mul_overflow(numBytes, static_cast<uint64_t>(*size),
                               &numBytes))
      return error(name) << "shape is too large to address";
  }

  const llvm::json::Array *offsets = object->getArray("data_offsets");
  std::optional<int64_t> begin, end;
  if (offsets && offsets->size() == 2) {
    begin = asCount((*offsets)[0]);
    end = asCount((*offsets)[1]);
  }
  if (!begin || !end)
    return error(name)
           << "'data_offsets' must be two non-negative integers [begin, end]";
  if (*begin > *end)
    return error(name) << "data_offsets " << formatRange(*begin, *end)
                       << " end before they begin";
  if (static_cast<uint64_t>(*end) > dataSize)
    return error(name) << "data_offsets " << formatRange(*begin, *end)
                       << " run past the end of the data section (" << dataSize
                       << " bytes)";
  if (static_cast<uint64_t>(*end - *begin) != numBytes)
    return error(name) << "data_offsets " << formatRange(*begin, *end)
                       << " span " << (*end - *begin) << " bytes but "
                       << dtypeName(info.dtype) << " shape ["
                       << llvm::make_range(info.shape.begin(), info.shape.end())
                       << "] needs " << numBytes;
  info.begin = *begin;
  info.end = *end;
  return info;
}

llvm::StringRef qtc::safetensorsDTypeName(DType dtype) {
  for (const DTypeName &entry : kDTypeNames)
    if (entry.dtype == dtype)
      return entry.name;
  llvm_unreachable("every DType has a safetensors name");
}

FailureOr<SafetensorsHeader>
qtc::parseSafetensorsHeader(MLIRContext &context, llvm::StringRef filePath,
                            llvm::StringRef fileBytes) {
  Location fileLoc = FileLineColLoc::get(&context, filePath, 0, 0);
  if (fileBytes.size() < 8)
    return emitError(fileLoc)
           << "file is " << fileBytes.size()
           << " bytes; a safetensors file starts with an 8-byte header length";
  uint64_t headerSize = llvm::support::endian::read64le(fileBytes.data());
  if (headerSize > fileBytes.size() - 8)
    return emitError(fileLoc) << "header length " << headerSize
                              << " runs past the end of the file ("
                              << fileBytes.size() << " bytes)";
  if (headerSize > kMaxHeaderBytes)
    return emitError(fileLoc) << "header length " << headerSize
                              << " exceeds the format's 100 MB limit";

  llvm::StringRef headerText = fileBytes.substr(8, headerSize);
  llvm::Expected<llvm::json::Value> json = llvm::json::parse(headerText);
  if (!json)
    return emitError(fileLoc)
           << "header is not valid JSON: " << llvm::toString(json.takeError());
  const llvm::json::Object *root = json->getAsObject();
  if (!root)
    return emitError(fileLoc) << "header is not a JSON object";

  SafetensorsHeader header;
  header.dataStart = 8 + headerSize;
  HeaderParser parser(context, filePath, fileBytes.size() - header.dataStart);
  for (const auto &[key, value] : *root) {
    if (key == "__metadata__")
      continue;
    FailureOr<SafetensorsTensorInfo> tensor = parser.parseTensor(key, value);
    if (failed(tensor))
      return failure();
    header.tensors.push_back(std::move(*tensor));
  }

  // llvm::json::Object is unordered; report and register in offset order so
  // diagnostics and the store's name order are deterministic.
  std::sort(header.tensors.begin(), header.tensors.end(),
            [](const SafetensorsTensorInfo &a, const SafetensorsTensorInfo &b) {
              return std::tie(a.begin, a.end, a.name) <
                     std::tie(b.begin, b.end, b.name);
            });
  for (size_t i = 1; i < header.tensors.size(); ++i) {
    const SafetensorsTensorInfo &prev = header.tensors[i - 1];
    const SafetensorsTensorInfo &next = header.tensors[i];
    // Empty tensors occupy no bytes and overlap nothing.
    if (next.begin < prev.end && next.begin != next.end)
      return emitError(fileLoc)
             << "tensors '" << prev.name << "' data_offsets "
             << formatRange(prev.begin, prev.end) << " and '" << next.name
             << "' data_offsets " << formatRange(next.begin, next.end)
             << " overlap";
  }
  for (SafetensorsTensorInfo &tensor : header.tensors) {
    tensor.begin += header.dataStart;
    tensor.end += header.dataStart;
  }
  return header;
}

FailureOr<std::vector<std::string>>
qtc::addSafetensorsFile(MLIRContext &context, llvm::StringRef filePath,
                        WeightStore &store) {
  Location fileLoc = FileLineColLoc::get(&context, filePath, 0, 0);
  // Memory-mapped (large files are mapped, not read), without a terminator
  // so the map is not copied.
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(filePath, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return emitError(fileLoc) << "cannot open: " << buffer.getError().message();

  FailureOr<SafetensorsHeader> header =
      parseSafetensorsHeader(context, filePath, (*buffer)->getBuffer());
  if (failed(header))
    return failure();

  llvm::StringRef bytes = store.adoptBuffer(std::move(*buffer));
  std::vector<std::string> names;
  for (const SafetensorsTensorInfo &tensor : header->tensors) {
    WeightRef ref;
    ref.dtype = tensor.dtype;
    ref.shape = tensor.shape;
    ref.data = bytes.data() + tensor.begin;
    ref.byteSize = tensor.end - tensor.begin;
    if (!store.add(tensor.name, std::move(ref)))
      return emitError(fileLoc) << "tensor '" << tensor.name
                                << "' is defined by more than one file";
    names.push_back(tensor.name);
  }
  return names;
}
