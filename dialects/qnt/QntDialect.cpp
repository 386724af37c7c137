//===- QntDialect.cpp - qnt dialect registration --------------------------===//

#include "dialects/qnt/QntDialect.h"

#include "dialects/qnt/QntOps.h"

using namespace qtc::qnt;

#include "dialects/qnt/QntDialect.cpp.inc"

void QntDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/qnt/QntOps.cpp.inc"
      >();
  registerAttributes();
  registerTypes();
}
