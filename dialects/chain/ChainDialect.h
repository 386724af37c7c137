//===- ChainDialect.h - The kernel-chain dialect ----------------*- C++ -*-===//

#ifndef QTC_DIALECTS_CHAIN_CHAINDIALECT_H
#define QTC_DIALECTS_CHAIN_CHAINDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dialects/chain/ChainDialect.h.inc"

#endif // QTC_DIALECTS_CHAIN_CHAINDIALECT_H
