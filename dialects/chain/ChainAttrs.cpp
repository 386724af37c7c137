//===- ChainAttrs.cpp - chain attributes ----------------------------------===//

#include "dialects/chain/ChainAttrs.h"

#include "dialects/chain/ChainDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace qtc::chain;

#define GET_ATTRDEF_CLASSES
#include "dialects/chain/ChainAttrs.cpp.inc"

void ChainDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/chain/ChainAttrs.cpp.inc"
      >();
}
