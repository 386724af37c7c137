//===- ChainTypes.cpp - chain types ---------------------------------------===//

#include "dialects/chain/ChainTypes.h"

#include "dialects/chain/ChainDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace qtc::chain;

#define GET_TYPEDEF_CLASSES
#include "dialects/chain/ChainTypes.cpp.inc"

void ChainDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/chain/ChainTypes.cpp.inc"
      >();
}

static LogicalResult verifyWidth(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t width) {
  if (width <= 0)
    return emitError() << "row width must be positive (got " << width << ")";
  return success();
}

LogicalResult TokensType::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t width) {
  return verifyWidth(emitError, width);
}

LogicalResult LogitRowsType::verify(function_ref<InFlightDiagnostic()> emitError,
                                    int64_t width) {
  return verifyWidth(emitError, width);
}

LogicalResult QuantizedTokensType::verify(function_ref<InFlightDiagnostic()> emitError,
                                          int64_t width, qtc::qnt::EncodingAttr encoding) {
  if (failed(verifyWidth(emitError, width)))
    return failure();
  if (!isRowQuantization(encoding))
    return emitError() << "quantized rows are int8 or f8e4m3 codes per token with f32 "
                          "scales, not "
                       << encoding;
  return success();
}

namespace qtc::chain {

int64_t rowWidth(Type rows) {
  if (auto t = dyn_cast<TokensType>(rows))
    return t.getWidth();
  if (auto q = dyn_cast<QuantizedTokensType>(rows))
    return q.getWidth();
  return cast<LogitRowsType>(rows).getWidth();
}

qnt::EncodingAttr rowEncoding(Type rows) {
  if (auto q = dyn_cast<QuantizedTokensType>(rows))
    return q.getEncoding();
  return {};
}

bool isRowQuantization(qnt::EncodingAttr e) {
  return e &&
         (e.getFormat() == qnt::Format::i8 || e.getFormat() == qnt::Format::f8e4m3) &&
         e.getGranularity() == qnt::Granularity::per_token && e.getScaleType().isF32();
}

Type withRowWidth(Type rows, int64_t width) {
  if (isa<TokensType>(rows))
    return TokensType::get(rows.getContext(), width);
  return LogitRowsType::get(rows.getContext(), width);
}

} // namespace qtc::chain
