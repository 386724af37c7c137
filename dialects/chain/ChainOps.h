//===- ChainOps.h - chain operations ----------------------------*- C++ -*-===//

#ifndef QTC_DIALECTS_CHAIN_CHAINOPS_H
#define QTC_DIALECTS_CHAIN_CHAINOPS_H

#include "dialects/chain/ChainAttrs.h"
#include "dialects/chain/ChainDialect.h"
#include "dialects/chain/ChainTypes.h"
#include "dialects/qnt/QntAttrs.h"
#include "dialects/tfm/TfmAttrs.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/RegionKindInterface.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace qtc::chain {

// The paged KV cache: appends write it and attention reads it.
struct KvCacheResource
    : public mlir::SideEffects::Resource::Base<KvCacheResource> {
  llvm::StringRef getName() final { return "chain.kv_cache"; }
};

} // namespace qtc::chain

#define GET_OP_CLASSES
#include "dialects/chain/ChainOps.h.inc"

#endif // QTC_DIALECTS_CHAIN_CHAINOPS_H
