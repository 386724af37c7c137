//===- TinyModel.h - A small random Llama for pipeline tests --------------===//
#ifndef QTC_TEST_UNIT_PIPELINE_TINYMODEL_H
#define QTC_TEST_UNIT_PIPELINE_TINYMODEL_H

#include "qtc/Import/WeightStore.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>

namespace qtc::test {

// A one-layer Llama (vocab 32, hidden 16, 2 heads of 8, 1 KV head, MLP 24)
// in the canonical tfm form, with random f16 weights in `weights`.
struct TinyModel {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  WeightStore weights;
};

TinyModel buildTinyModel(mlir::MLIRContext &context, unsigned seed = 1);

// The model's IR text, for tests that edit it before parsing.
std::string tinyModelSource();

} // namespace qtc::test

#endif // QTC_TEST_UNIT_PIPELINE_TINYMODEL_H
