//===- PlanBuilder.h - Lower a tfm/qnt model to an artifact plan ----------===//
//
// Walks the body of a `tfm.model` in order and turns it into the runtime's
// typed kernel chains (runtime/schema/artifact.fbs), packing each weight in
// the layout its kernel reads:
//
//  * linears that share an input and feed one attention (q, k, v) or one
//    swiglu (gate, up) become one Linear over the row-concatenated weight;
//  * a residual `tfm.add` whose operand is a linear's only use becomes that
//    Linear's epilogue;
//  * the two `tfm.rope` ops of an attention become one RopeKvAppend, which
//    rotates q and k in place and appends k and v to the paged KV cache;
//  * rows whose logits are wanted are gathered before the final norm, so the
//    lm_head runs on those rows only.
//
// Activations live in slots reused by liveness. Structures the runtime has no
// chain for get a diagnostic at the op.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_PIPELINE_PLANBUILDER_H
#define QTC_PIPELINE_PLANBUILDER_H

#include "qtc/Artifact/ArtifactContents.h"

#include "mlir/Support/LLVM.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir {
class Operation;
} // namespace mlir

namespace qtc {

class WeightStore;

// Fills contents.config, tensors, slots, steps, logitsSlot and numerics from
// the `tfm.model` op `model`. Kernels are generated afterwards.
mlir::LogicalResult buildPlan(mlir::Operation *model,
                              const WeightStore &weights,
                              artifact::ArtifactContents &contents,
                              llvm::raw_ostream *progress);

} // namespace qtc

#endif // QTC_PIPELINE_PLANBUILDER_H
