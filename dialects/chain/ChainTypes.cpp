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

namespace qtc::chain {

int64_t rowWidth(Type rows) {
  if (auto t = dyn_cast<TokensType>(rows))
    return t.getWidth();
  return cast<LogitRowsType>(rows).getWidth();
}

Type withRowWidth(Type rows, int64_t width) {
  if (isa<TokensType>(rows))
    return TokensType::get(rows.getContext(), width);
  return LogitRowsType::get(rows.getContext(), width);
}

} // namespace qtc::chain
