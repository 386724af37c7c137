//===- TfmDialect.cpp - tfm dialect registration --------------------------===//

#include "dialects/tfm/TfmDialect.h"

#include "dialects/tfm/TfmOps.h"

using namespace qtc::tfm;

#include "dialects/tfm/TfmDialect.cpp.inc"

void TfmDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/tfm/TfmOps.cpp.inc"
      >();
  registerAttributes();
}
