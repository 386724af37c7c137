//===- ChainDialect.cpp - chain dialect registration ----------------------===//

#include "dialects/chain/ChainDialect.h"

#include "dialects/chain/ChainOps.h"
#include "dialects/qnt/QntDialect.h"
#include "dialects/tfm/TfmDialect.h"

using namespace qtc::chain;

#include "dialects/chain/ChainDialect.cpp.inc"

void ChainDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/chain/ChainOps.cpp.inc"
      >();
  registerTypes();
  registerAttributes();
}
