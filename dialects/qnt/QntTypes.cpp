//===- QntTypes.cpp - qnt type parsing and verification -------------------===//

#include "dialects/qnt/QntTypes.h"

#include "dialects/qnt/QntDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace qtc::qnt;

#define GET_TYPEDEF_CLASSES
#include "dialects/qnt/QntTypes.cpp.inc"

void QntDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/qnt/QntTypes.cpp.inc"
      >();
}

// !qnt.weight<768x256, f16, #qnt.encoding<...>>
Type WeightType::parse(AsmParser &parser) {
  SmallVector<int64_t> shape;
  Type elementType;
  EncodingAttr encoding;
  if (parser.parseLess() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/false,
                                /*withTrailingX=*/false) ||
      parser.parseComma() || parser.parseType(elementType) ||
      parser.parseComma() || parser.parseAttribute(encoding) ||
      parser.parseGreater())
    return Type();
  return getChecked([&] { return parser.emitError(parser.getNameLoc()); },
                    parser.getContext(), shape, elementType, encoding);
}

void WeightType::print(AsmPrinter &printer) const {
  printer << "<";
  llvm::interleave(getShape(), printer.getStream(), "x");
  printer << ", " << getElementType() << ", " << getEncoding() << ">";
}

LogicalResult WeightType::verify(function_ref<InFlightDiagnostic()> emitError,
                                 ArrayRef<int64_t> shape, Type elementType,
                                 EncodingAttr encoding) {
  if (shape.size() != 2)
    return emitError() << "quantized weights are [out, in] matrices (got rank "
                       << shape.size() << ")";
  if (llvm::any_of(shape, [](int64_t size) { return size <= 0; }))
    return emitError() << "quantized weight dimensions must be positive";
  if (!isa<FloatType>(elementType))
    return emitError() << "quantized weight element type must be a float "
                          "type (got "
                       << elementType << ")";
  if (encoding.getGranularity() == Granularity::per_token)
    return emitError() << "weights are quantized per_tensor, per_channel or "
                          "per_group, not per_token";
  return encoding.verifyForShape(emitError, shape);
}
