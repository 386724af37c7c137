//===- OnnxNodeImport.cpp - ONNX graphs to onnx.node, one op per node -----===//
//
// Nothing is interpreted here: each node becomes an `onnx.node` with its op
// type, domain and attributes, located at the node's name; the conversion
// pass gives the nodes their meaning.
//
//===----------------------------------------------------------------------===//

#include "OnnxModelLoader.h"
#include "qtc/Import/OnnxImport.h"

#include "dialects/onnx/OnnxOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Diagnostics.h"

using namespace mlir;
using namespace qtc;

namespace {

// Element types the importer knows; others are refused at their tensor.
Type elementTypeOf(MLIRContext &context, int32_t onnxType) {
  Builder b(&context);
  switch (onnxType) {
  case 1:
    return b.getF32Type();
  case 2:
    return b.getIntegerType(8, /*isSigned=*/false);
  case 3:
    return b.getIntegerType(8);
  case 4:
    return b.getIntegerType(16, /*isSigned=*/false);
  case 5:
    return b.getIntegerType(16);
  case 6:
    return b.getIntegerType(32);
  case 7:
    return b.getIntegerType(64);
  case 9:
    return b.getI1Type();
  case 10:
    return b.getF16Type();
  case 11:
    return b.getF64Type();
  case 12:
    return b.getIntegerType(32, /*isSigned=*/false);
  case 13:
    return b.getIntegerType(64, /*isSigned=*/false);
  case 16:
    return b.getBF16Type();
  case 17:
    return Float8E4M3FNType::get(&context);
  case 19:
    return Float8E5M2Type::get(&context);
  default:
    return {};
  }
}

class NodeImporter {
public:
  NodeImporter(MLIRContext &context, const OnnxGraph &graph)
      : context(context), graph(graph), builder(&context),
        fileLoc(FileLineColLoc::get(&context, graph.path, 0, 0)) {}

  FailureOr<OwningOpRef<ModuleOp>> run();

private:
  Location nameLoc(StringRef name) {
    return NameLoc::get(StringAttr::get(&context, name), fileLoc);
  }
  FailureOr<Value> constant(StringRef name, const OnnxTensorData &data);
  FailureOr<Attribute> elements(const OnnxTensorData &data, StringRef name,
                                bool allowResource);
  FailureOr<Attribute> attribute(const OnnxAttribute &attr, StringRef key,
                                 const OnnxNode &node);
  FailureOr<Value> lookup(StringRef name, const OnnxNode &node);

  MLIRContext &context;
  const OnnxGraph &graph;
  OpBuilder builder;
  Location fileLoc;
  llvm::StringMap<Value> values;
};

FailureOr<Attribute> NodeImporter::elements(const OnnxTensorData &data,
                                            StringRef name,
                                            bool allowResource) {
  Type et = elementTypeOf(context, data.onnxType);
  if (!et)
    return emitError(nameLoc(name))
           << "tensor '" << name << "' has ONNX element type "
           << data.onnxType << ", which the importer does not read";
  auto type = RankedTensorType::get(data.shape, et);
  int64_t count = data.numElements();
  size_t width = et.isInteger(1) ? 1 : et.getIntOrFloatBitWidth() / 8;
  if (data.bytes.size() != size_t(count) * width)
    return emitError(nameLoc(name))
           << "tensor '" << name << "' holds " << data.bytes.size()
           << " bytes for " << count << " elements";
  // Weights (float tensors beyond a scalar) and large integer tensors view
  // the store's bytes; the rest is small enough to hold in the IR.
  if (allowResource &&
      ((isa<FloatType>(et) && count > 1) || count > 4096)) {
    AsmResourceBlob blob = UnmanagedAsmResourceBlob::allocateWithAlign(
        ArrayRef<char>(data.bytes.data(), data.bytes.size()), /*align=*/1);
    return Attribute(DenseResourceElementsAttr::get(type, name, std::move(blob)));
  }
  if (et.isInteger(1)) {
    SmallVector<bool> bits;
    for (char c : data.bytes)
      bits.push_back(c != 0);
    return Attribute(DenseElementsAttr::get(type, bits));
  }
  bool splat = false;
  if (!DenseElementsAttr::isValidRawBuffer(
          type, ArrayRef<char>(data.bytes.data(), data.bytes.size()), splat))
    return emitError(nameLoc(name)) << "tensor '" << name << "' cannot be read";
  return Attribute(DenseElementsAttr::getFromRawBuffer(
      type, ArrayRef<char>(data.bytes.data(), data.bytes.size())));
}

FailureOr<Value> NodeImporter::constant(StringRef name,
                                        const OnnxTensorData &data) {
  FailureOr<Attribute> value = elements(data, name, /*allowResource=*/true);
  if (failed(value))
    return failure();
  auto elementsAttr = cast<ElementsAttr>(*value);
  return onnxir::ConstantOp::create(builder, nameLoc(name),
                                    elementsAttr.getType(), elementsAttr)
      .getResult();
}

FailureOr<Value> NodeImporter::lookup(StringRef name, const OnnxNode &node) {
  auto found = values.find(name);
  if (found != values.end())
    return found->second;
  if (const OnnxTensorData *data = graph.constant(name)) {
    FailureOr<Value> value = constant(name, *data);
    if (succeeded(value))
      values[name] = *value;
    return value;
  }
  return emitError(nameLoc(node.displayName()))
         << "ONNX node '" << node.displayName() << "' (" << node.opType
         << ") reads '" << name << "', which nothing defines";
}

FailureOr<Attribute> NodeImporter::attribute(const OnnxAttribute &attr,
                                             StringRef key,
                                             const OnnxNode &node) {
  Builder &b = builder;
  switch (attr.kind) {
  case OnnxAttribute::Kind::Int:
    return Attribute(b.getI64IntegerAttr(attr.i));
  case OnnxAttribute::Kind::Float:
    return Attribute(b.getF32FloatAttr(float(attr.f)));
  case OnnxAttribute::Kind::String:
    return Attribute(b.getStringAttr(attr.s));
  case OnnxAttribute::Kind::Ints:
    return Attribute(b.getI64ArrayAttr(attr.ints));
  case OnnxAttribute::Kind::Floats: {
    SmallVector<Attribute> floats;
    for (double f : attr.floats)
      floats.push_back(b.getF32FloatAttr(float(f)));
    return Attribute(b.getArrayAttr(floats));
  }
  case OnnxAttribute::Kind::Tensor:
    if (!attr.tensor)
      break;
    return elements(*attr.tensor, node.displayName() + "." + key.str(),
                    /*allowResource=*/false);
  case OnnxAttribute::Kind::Unsupported:
    break;
  }
  // Graph-valued and other attributes no conversion reads.
  return Attribute(b.getUnitAttr());
}

FailureOr<OwningOpRef<ModuleOp>> NodeImporter::run() {
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  (*module)->setAttr("onnx.opset", builder.getI64IntegerAttr(graph.opsetVersion));

  SmallVector<Type> argTypes;
  for (const OnnxValueInfo &input : graph.inputs) {
    Type et = elementTypeOf(context, input.onnxType);
    if (!et)
      return emitError(nameLoc(input.name))
             << "graph input '" << input.name << "' has ONNX element type "
             << input.onnxType << ", which the importer does not read";
    SmallVector<int64_t> dims;
    for (int64_t d : input.dims)
      dims.push_back(d < 0 ? ShapedType::kDynamic : d);
    argTypes.push_back(input.hasShape ? Type(RankedTensorType::get(dims, et))
                                      : Type(UnrankedTensorType::get(et)));
  }
  Type valueType = onnxir::ValueType::get(&context);
  SmallVector<Type> resultTypes(graph.outputs.size(), valueType);
  builder.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(builder, fileLoc, "main",
                                   builder.getFunctionType(argTypes, resultTypes));
  Block *body = func.addEntryBlock();
  for (auto [input, arg] : llvm::zip(graph.inputs, body->getArguments()))
    values[input.name] = arg;
  SmallVector<Attribute> argNames;
  for (const OnnxValueInfo &input : graph.inputs)
    argNames.push_back(builder.getStringAttr(input.name));
  func->setAttr("onnx.input_names", builder.getArrayAttr(argNames));
  builder.setInsertionPointToEnd(body);

  for (const OnnxNode &node : graph.nodes) {
    SmallVector<Value> operands;
    for (const std::string &input : node.inputs) {
      if (input.empty()) {
        operands.push_back(onnxir::AbsentOp::create(builder, fileLoc, builder.getNoneType()));
        continue;
      }
      FailureOr<Value> value = lookup(input, node);
      if (failed(value))
        return failure();
      operands.push_back(*value);
    }
    SmallVector<NamedAttribute> attrs;
    for (const auto &entry : node.attributes) {
      FailureOr<Attribute> value =
          attribute(entry.second, entry.first(), node);
      if (failed(value))
        return failure();
      attrs.push_back(builder.getNamedAttr(entry.first(), *value));
    }
    SmallVector<Type> types(node.outputs.size(), valueType);
    auto op = onnxir::NodeOp::create(
        builder, nameLoc(node.displayName()), types, operands,
        builder.getStringAttr(node.opType), builder.getStringAttr(node.domain),
        builder.getDictionaryAttr(attrs));
    for (auto [name, result] : llvm::zip(node.outputs, op.getResults()))
      if (!name.empty())
        values[name] = result;
  }

  SmallVector<Value> results;
  for (const OnnxValueInfo &output : graph.outputs) {
    auto found = values.find(output.name);
    if (found == values.end()) {
      // A graph output that is an initializer or an input.
      OnnxNode none;
      none.name = output.name;
      FailureOr<Value> value = lookup(output.name, none);
      if (failed(value))
        return failure();
      results.push_back(*value);
    } else {
      results.push_back(found->second);
    }
  }
  func::ReturnOp::create(builder, fileLoc, results);
  func.setFunctionType(builder.getFunctionType(
      argTypes, ValueRange(results).getTypes()));
  return module;
}

} // namespace

FailureOr<OwningOpRef<ModuleOp>>
qtc::importOnnxNodes(MLIRContext &context, StringRef path,
                     WeightStore &weights) {
  context.loadDialect<onnxir::OnnxDialect, func::FuncDialect>();
  FailureOr<OnnxGraph> graph = loadOnnxGraph(context, path, weights);
  if (failed(graph))
    return failure();
  return NodeImporter(context, *graph).run();
}
