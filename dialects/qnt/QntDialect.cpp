//===- QntDialect.cpp - qnt dialect registration --------------------------===//

#include "dialects/qnt/QntDialect.h"

#include "dialects/qnt/QntOps.h"

#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace qtc::qnt;

namespace {

/// Every quantized weight type repeats its encoding; printing it once as an
/// alias named after it (#i4_g128, #u4_g64_asym, #f8e4m3_tensor) keeps
/// quantized IR readable.
struct QntOpAsmInterface : public OpAsmDialectInterface {
  using OpAsmDialectInterface::OpAsmDialectInterface;

  AliasResult getAlias(Attribute attr, raw_ostream &os) const override {
    if (auto encoding = dyn_cast<EncodingAttr>(attr)) {
      os << stringifyFormat(encoding.getFormat());
      switch (encoding.getGranularity()) {
      case Granularity::per_tensor: os << "_tensor"; break;
      case Granularity::per_channel: os << "_channel"; break;
      case Granularity::per_group: os << "_g" << encoding.getGroupSize(); break;
      case Granularity::per_token: os << "_token"; break;
      }
      if (!encoding.getSymmetric())
        os << "_asym";
      return AliasResult::OverridableAlias;
    }
    if (isa<KvSchemeAttr>(attr)) {
      os << "kv_scheme";
      return AliasResult::OverridableAlias;
    }
    return AliasResult::NoAlias;
  }
};

} // namespace

#include "dialects/qnt/QntDialect.cpp.inc"

void QntDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/qnt/QntOps.cpp.inc"
      >();
  registerAttributes();
  registerTypes();
  addInterfaces<QntOpAsmInterface>();
}
