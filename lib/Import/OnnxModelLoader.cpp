//===- OnnxModelLoader.cpp - ONNX protobuf to OnnxGraph -------------------===//
//
// Parsing uses libonnx's generated protobuf classes. Debian's onnx 1.12 knows
// operator schemas only up to opset 17, so its checker and shape inference
// are not used: the raiser owns the semantics of the ops it accepts.
//
// Memory: libprotobuf parses from the memory-mapped file but copies every
// string field, so an ONNX file without external data is held in memory once
// while importing (protobuf caps such files at 2 GiB; larger models must use
// external data, which is memory-mapped and never copied). raw_data strings
// are moved into the WeightStore, not copied again.
//
//===----------------------------------------------------------------------===//

#include "OnnxModelLoader.h"

#include "OnnxExternalData.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "onnx/onnx_pb.h"
#include <google/protobuf/text_format.h>

#include <climits>
#include <cstring>

using namespace mlir;
using namespace qtc;

namespace {

// TensorProto.DataType values, including those newer than onnx 1.12's enum
// (data_type is a plain int32 field, so they parse regardless).
enum OnnxDataType : int32_t {
  kFloat = 1,
  kUint8 = 2,
  kInt8 = 3,
  kUint16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kBool = 9,
  kFloat16 = 10,
  kDouble = 11,
  kUint32 = 12,
  kUint64 = 13,
  kBFloat16 = 16,
  kFloat8E4M3FN = 17,
  kFloat8E5M2 = 19,
};

std::optional<DType> dtypeOf(int32_t onnxType) {
  switch (onnxType) {
  case kFloat:
    return DType::F32;
  case kUint8:
    return DType::U8;
  case kInt8:
    return DType::I8;
  case kUint16:
    return DType::U16;
  case kInt16:
    return DType::I16;
  case kInt32:
    return DType::I32;
  case kInt64:
    return DType::I64;
  case kBool:
    return DType::Bool;
  case kFloat16:
    return DType::F16;
  case kDouble:
    return DType::F64;
  case kUint32:
    return DType::U32;
  case kUint64:
    return DType::U64;
  case kBFloat16:
    return DType::BF16;
  case kFloat8E4M3FN:
    return DType::F8E4M3FN;
  case kFloat8E5M2:
    return DType::F8E5M2;
  default:
    return std::nullopt;
  }
}

std::optional<uint64_t> parseDecimal(llvm::StringRef text) {
  uint64_t value;
  if (text.getAsInteger(10, value))
    return std::nullopt;
  return value;
}

class Loader {
public:
  Loader(MLIRContext &context, llvm::StringRef path, WeightStore &store)
      : context(context), path(path), store(store),
        externalData(llvm::sys::path::parent_path(path).empty()
                         ? llvm::StringRef(".")
                         : llvm::sys::path::parent_path(path),
                     store) {}

  FailureOr<OnnxGraph> load();

private:
  Location fileLoc() { return FileLineColLoc::get(&context, path, 0, 0); }
  Location namedLoc(llvm::StringRef name) {
    return NameLoc::get(StringAttr::get(&context, name), fileLoc());
  }

  /// Decodes a tensor's element type, shape and bytes. With `mutableTensor`,
  /// raw_data is moved out of the protobuf instead of copied.
  FailureOr<OnnxTensorData> decodeTensor(const onnx::TensorProto &tensor,
                                         onnx::TensorProto *mutableTensor,
                                         llvm::StringRef what);
  FailureOr<llvm::StringRef> decodeTypedField(const onnx::TensorProto &tensor,
                                              DType dtype, int64_t count,
                                              llvm::StringRef what);
  FailureOr<llvm::StringRef> decodeExternal(const onnx::TensorProto &tensor,
                                            uint64_t numBytes,
                                            llvm::StringRef what);
  FailureOr<OnnxAttribute> convertAttribute(const onnx::AttributeProto &attr,
                                            const onnx::NodeProto &node);
  LogicalResult addConstantNode(const onnx::NodeProto &node, OnnxGraph &graph);
  OnnxValueInfo convertValueInfo(const onnx::ValueInfoProto &info);

  llvm::StringRef ownCopy(llvm::StringRef bytes) {
    return store.adoptBytes(std::make_unique<std::string>(bytes.str()));
  }

  MLIRContext &context;
  std::string path;
  WeightStore &store;
  OnnxExternalData externalData;
};

FailureOr<llvm::StringRef>
Loader::decodeTypedField(const onnx::TensorProto &tensor, DType dtype,
                         int64_t count, llvm::StringRef what) {
  auto bytesOf = [&](const auto &field) -> FailureOr<llvm::StringRef> {
    if (field.size() != count)
      return emitError(namedLoc(what))
             << what << " holds " << field.size() << " values but its shape ["
             << llvm::ArrayRef<int64_t>(tensor.dims().data(),
                                        tensor.dims_size())
             << "] needs " << count;
    return ownCopy(llvm::StringRef(reinterpret_cast<const char *>(field.data()),
                                   field.size() * sizeof(*field.data())));
  };
  size_t elementBytes = dtypeByteSize(dtype);
  switch (dtype) {
  case DType::F32:
    return bytesOf(tensor.float_data());
  case DType::F64:
    return bytesOf(tensor.double_data());
  case DType::I64:
    return bytesOf(tensor.int64_data());
  case DType::U64:
    return bytesOf(tensor.uint64_data());
  case DType::U32: {
    // uint32 values are stored widened in uint64_data.
    if (tensor.uint64_data_size() != count)
      return emitError(namedLoc(what))
             << what << " holds " << tensor.uint64_data_size()
             << " values but needs " << count;
    std::string bytes(count * elementBytes, '\0');
    for (int64_t i = 0; i < count; ++i) {
      uint32_t value = static_cast<uint32_t>(tensor.uint64_data(i));
      std::memcpy(&bytes[i * elementBytes], &value, elementBytes);
    }
    return store.adoptBytes(std::make_unique<std::string>(std::move(bytes)));
  }
  default: {
    // Everything narrower than 32 bits (including f16/bf16/f8 bit patterns)
    // is stored widened in int32_data; keep the low bytes (little-endian).
    if (tensor.int32_data_size() != count)
      return emitError(namedLoc(what))
             << what << " holds " << tensor.int32_data_size()
             << " values but needs " << count;
    std::string bytes(count * elementBytes, '\0');
    for (int64_t i = 0; i < count; ++i) {
      int32_t value = tensor.int32_data(i);
      std::memcpy(&bytes[i * elementBytes], &value, elementBytes);
    }
    return store.adoptBytes(std::make_unique<std::string>(std::move(bytes)));
  }
  }
}

FailureOr<llvm::StringRef>
Loader::decodeExternal(const onnx::TensorProto &tensor, uint64_t numBytes,
                       llvm::StringRef what) {
  std::string location;
  std::optional<uint64_t> offset, length;
  for (const onnx::StringStringEntryProto &entry : tensor.external_data()) {
    if (entry.key() == "location") {
      location = entry.value();
      continue;
    }
    if (entry.key() != "offset" && entry.key() != "length")
      continue; // "checksum" and unknown keys carry nothing we need.
    std::optional<uint64_t> value = parseDecimal(entry.value());
    if (!value)
      return emitError(namedLoc(what))
             << what << ": external data " << entry.key() << " '"
             << entry.value() << "' is not a non-negative integer";
    (entry.key() == "offset" ? offset : length) = value;
  }
  return externalData.read(namedLoc(what), tensor.name(), location, offset,
                           length, numBytes);
}

FailureOr<OnnxTensorData> Loader::decodeTensor(const onnx::TensorProto &tensor,
                                               onnx::TensorProto *mutableTensor,
                                               llvm::StringRef what) {
  OnnxTensorData data;
  data.name = tensor.name();
  data.onnxType = tensor.data_type();
  data.dtype = dtypeOf(data.onnxType);
  if (tensor.has_segment())
    return emitError(namedLoc(what)) << what
                                     << " is segmented, which is not "
                                        "supported";
  uint64_t count = 1;
  for (int64_t dim : tensor.dims()) {
    if (dim < 0)
      return emitError(namedLoc(what))
             << what << " has negative dimension " << dim;
    data.shape.push_back(dim);
    if (__builtin_mul_overflow(count, static_cast<uint64_t>(dim), &count) ||
        count > (1ull << 56))
      return emitError(namedLoc(what)) << what << " is too large to address";
  }
  // Element types without a DType (strings, int4, ...) keep no bytes; a
  // pattern that needs such a tensor reports it.
  if (!data.dtype)
    return data;
  uint64_t numBytes = count * dtypeByteSize(*data.dtype);

  if (tensor.data_location() == onnx::TensorProto_DataLocation_EXTERNAL) {
    FailureOr<llvm::StringRef> bytes = decodeExternal(tensor, numBytes, what);
    if (failed(bytes))
      return failure();
    data.bytes = *bytes;
    return data;
  }
  if (tensor.has_raw_data()) {
    if (tensor.raw_data().size() != numBytes)
      return emitError(namedLoc(what))
             << what << ": raw_data holds " << tensor.raw_data().size()
             << " bytes but shape [" << llvm::ArrayRef<int64_t>(data.shape)
             << "] of " << dtypeName(*data.dtype) << " needs " << numBytes;
    data.bytes = mutableTensor ? store.adoptBytes(std::unique_ptr<std::string>(
                                     mutableTensor->release_raw_data()))
                               : ownCopy(tensor.raw_data());
    return data;
  }
  FailureOr<llvm::StringRef> bytes =
      decodeTypedField(tensor, *data.dtype, count, what);
  if (failed(bytes))
    return failure();
  data.bytes = *bytes;
  return data;
}

FailureOr<OnnxAttribute>
Loader::convertAttribute(const onnx::AttributeProto &attr,
                         const onnx::NodeProto &node) {
  OnnxAttribute result;
  switch (attr.type()) {
  case onnx::AttributeProto_AttributeType_INT:
    result.kind = OnnxAttribute::Kind::Int;
    result.i = attr.i();
    break;
  case onnx::AttributeProto_AttributeType_FLOAT:
    result.kind = OnnxAttribute::Kind::Float;
    result.f = attr.f();
    break;
  case onnx::AttributeProto_AttributeType_STRING:
    result.kind = OnnxAttribute::Kind::String;
    result.s = attr.s();
    break;
  case onnx::AttributeProto_AttributeType_INTS:
    result.kind = OnnxAttribute::Kind::Ints;
    result.ints.assign(attr.ints().begin(), attr.ints().end());
    break;
  case onnx::AttributeProto_AttributeType_FLOATS:
    result.kind = OnnxAttribute::Kind::Floats;
    result.floats.assign(attr.floats().begin(), attr.floats().end());
    break;
  case onnx::AttributeProto_AttributeType_TENSOR: {
    std::string what =
        "attribute '" + attr.name() + "' of node '" + node.name() + "'";
    FailureOr<OnnxTensorData> tensor = decodeTensor(attr.t(), nullptr, what);
    if (failed(tensor))
      return failure();
    result.kind = OnnxAttribute::Kind::Tensor;
    result.tensor = std::make_shared<OnnxTensorData>(std::move(*tensor));
    break;
  }
  default:
    // Subgraphs, sparse tensors, type protos: no pattern accepts them, so
    // the node holding one is reported as unsupported by the raiser.
    break;
  }
  return result;
}

LogicalResult Loader::addConstantNode(const onnx::NodeProto &node,
                                      OnnxGraph &graph) {
  Location loc = namedLoc(node.name());
  if (node.output_size() != 1 || node.attribute_size() != 1)
    return emitError(loc) << "Constant node '" << node.name()
                          << "' must have one output and one attribute";
  const onnx::AttributeProto &attr = node.attribute(0);
  FailureOr<OnnxAttribute> value = convertAttribute(attr, node);
  if (failed(value))
    return failure();

  OnnxTensorData data;
  auto scalarBytes = [&](const auto &values, DType dtype,
                         llvm::SmallVector<int64_t, 4> shape) {
    data.dtype = dtype;
    data.onnxType = dtype == DType::F32 ? kFloat : kInt64;
    data.shape = std::move(shape);
    data.bytes =
        ownCopy(llvm::StringRef(reinterpret_cast<const char *>(values.data()),
                                values.size() * sizeof(values[0])));
  };
  if (attr.name() == "value" && value->tensor) {
    data = *value->tensor;
  } else if (attr.name() == "value_float") {
    std::vector<float> values = {static_cast<float>(value->f)};
    scalarBytes(values, DType::F32, {});
  } else if (attr.name() == "value_floats") {
    std::vector<float> values(value->floats.begin(), value->floats.end());
    scalarBytes(values, DType::F32, {int64_t(values.size())});
  } else if (attr.name() == "value_int") {
    std::vector<int64_t> values = {value->i};
    scalarBytes(values, DType::I64, {});
  } else if (attr.name() == "value_ints") {
    std::vector<int64_t> values(value->ints.begin(), value->ints.end());
    scalarBytes(values, DType::I64, {int64_t(values.size())});
  } else {
    return emitError(loc) << "Constant node '" << node.name()
                          << "': attribute '" << attr.name()
                          << "' is not supported";
  }
  data.name = node.output(0);
  graph.constants[data.name] = std::move(data);
  return success();
}

OnnxValueInfo Loader::convertValueInfo(const onnx::ValueInfoProto &info) {
  OnnxValueInfo result;
  result.name = info.name();
  if (!info.type().has_tensor_type())
    return result;
  const onnx::TypeProto_Tensor &tensorType = info.type().tensor_type();
  result.onnxType = tensorType.elem_type();
  if (!tensorType.has_shape())
    return result;
  result.hasShape = true;
  for (const onnx::TensorShapeProto_Dimension &dim : tensorType.shape().dim())
    result.dims.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
  return result;
}

FailureOr<OnnxGraph> Loader::load() {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return emitError(fileLoc())
           << "cannot open: " << buffer.getError().message();
  llvm::StringRef bytes = (*buffer)->getBuffer();
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    return emitError(fileLoc())
           << "ONNX protobuf is " << bytes.size()
           << " bytes; protobuf cannot parse messages over 2 GiB, so large "
              "models must keep their weights in external data";

  onnx::ModelProto model;
  // Hand-written test graphs are protobuf text format (`.onnxtxt`).
  if (llvm::StringRef(path).ends_with(".onnxtxt")) {
    if (!google::protobuf::TextFormat::ParseFromString(bytes.str(), &model))
      return emitError(fileLoc())
             << "not a valid ONNX model in protobuf text format";
  } else if (!model.ParseFromArray(bytes.data(),
                                   static_cast<int>(bytes.size()))) {
    return emitError(fileLoc())
           << "not a valid ONNX protobuf (truncated or corrupt file)";
  }
  buffer->reset();
  if (!model.has_graph() || model.ir_version() <= 0)
    return emitError(fileLoc())
           << "not an ONNX model: missing ir_version or graph (truncated or "
              "corrupt file?)";

  OnnxGraph graph;
  graph.path = path;
  graph.folder = llvm::sys::path::parent_path(path).str();
  for (const onnx::OperatorSetIdProto &opset : model.opset_import())
    if (opset.domain().empty() || opset.domain() == "ai.onnx")
      graph.opsetVersion = opset.version();
  if (graph.opsetVersion == 0)
    return emitError(fileLoc()) << "model imports no default-domain opset";
  if (graph.opsetVersion < kMinOnnxOpset || graph.opsetVersion > kMaxOnnxOpset)
    return emitError(fileLoc())
           << "opset " << graph.opsetVersion << " is outside the supported "
           << "range " << kMinOnnxOpset << ".." << kMaxOnnxOpset;

  onnx::GraphProto *protoGraph = model.mutable_graph();
  for (onnx::TensorProto &initializer : *protoGraph->mutable_initializer()) {
    std::string what = "initializer '" + initializer.name() + "'";
    FailureOr<OnnxTensorData> data =
        decodeTensor(initializer, &initializer, what);
    if (failed(data))
      return failure();
    graph.constants[data->name] = std::move(*data);
  }
  if (protoGraph->sparse_initializer_size() != 0)
    return emitError(fileLoc()) << "sparse initializers are not supported";

  for (const onnx::ValueInfoProto &input : protoGraph->input())
    if (!graph.constants.count(input.name()))
      graph.inputs.push_back(convertValueInfo(input));
  for (const onnx::ValueInfoProto &output : protoGraph->output())
    graph.outputs.push_back(convertValueInfo(output));

  for (const onnx::NodeProto &protoNode : protoGraph->node()) {
    bool defaultDomain =
        protoNode.domain().empty() || protoNode.domain() == "ai.onnx";
    if (defaultDomain && protoNode.op_type() == "Constant") {
      if (failed(addConstantNode(protoNode, graph)))
        return failure();
      continue;
    }
    OnnxNode node;
    node.index = graph.nodes.size();
    node.name = protoNode.name();
    node.opType = protoNode.op_type();
    node.domain = defaultDomain ? "" : protoNode.domain();
    node.inputs.assign(protoNode.input().begin(), protoNode.input().end());
    node.outputs.assign(protoNode.output().begin(), protoNode.output().end());
    for (const onnx::AttributeProto &attr : protoNode.attribute()) {
      FailureOr<OnnxAttribute> converted = convertAttribute(attr, protoNode);
      if (failed(converted))
        return failure();
      node.attributes[attr.name()] = std::move(*converted);
    }
    std::string problem = arityProblem(node);
    if (!problem.empty())
      return emitError(namedLoc(node.displayName()))
             << "node '" << node.displayName() << "' (" << node.opType << ") "
             << problem;
    graph.nodes.push_back(std::move(node));
  }

  std::string undefined = graph.firstUndefinedInput();
  if (!undefined.empty())
    return emitError(fileLoc())
           << "value '" << undefined
           << "' is used before any node, initializer or input defines it "
              "(the graph must be topologically sorted)";
  return graph;
}

} // namespace

FailureOr<OnnxGraph> qtc::loadOnnxGraph(MLIRContext &context,
                                        llvm::StringRef path,
                                        WeightStore &store) {
  return Loader(context, path, store).load();
}
