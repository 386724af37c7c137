//===- PlanPipeline.cpp - The stages from tfm/qnt to a packed chain.plan --===//

#include "qtc/Chain/Plan.h"

#include "dialects/chain/ChainOps.h"
#include "qtc/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace qtc {

void buildPlanPipeline(OpPassManager &pm) {
  pm.addPass(createLowerToChain());
  pm.addPass(createChainFuseRopeKvAppend());
  pm.addPass(createChainConcatProjections());
  pm.addPass(createChainFuseResidual());
  pm.addPass(createChainGatherLogitRows());
  pm.addPass(createChainQuantizeInputs());
  pm.addPass(createChainFuseNormQuantize());
  pm.addPass(createChainPackWeights());
  pm.addPass(createChainAssignSlots());
}

void registerPlanPipeline() {
  PassPipelineRegistration<>(
      "qtc-plan",
      "Lower a quantized tfm.model to the runtime's kernel chains: "
      "qtc-lower-to-chain, the chain fusions, weight packing and slots",
      buildPlanPipeline);
}

LogicalResult forEachPlan(ModuleOp module,
                          function_ref<LogicalResult(chain::PlanOp)> stage) {
  for (chain::PlanOp plan : module.getOps<chain::PlanOp>())
    if (failed(stage(plan)))
      return failure();
  return success();
}

FailureOr<chain::PlanOp> findPlan(ModuleOp module) {
  SmallVector<chain::PlanOp> plans(module.getOps<chain::PlanOp>());
  if (plans.size() != 1)
    return module.emitError("expected exactly one chain.plan, found ")
           << plans.size();
  return plans.front();
}

LogicalResult buildPlan(ModuleOp module, WeightStore &store,
                        artifact::ArtifactContents &contents) {
  // The same stages as the pass pipeline, on a copy, so the caller's IR
  // (a pass's operation) stays as it is.
  OwningOpRef<ModuleOp> copy(module.clone());
  if (failed(lowerToChain(*copy)))
    return failure();
  FailureOr<chain::PlanOp> plan = findPlan(*copy);
  if (failed(plan) || failed(fuseRopeKvAppend(*plan)) ||
      failed(concatProjections(*plan)) || failed(fuseResidual(*plan)) ||
      failed(gatherLogitRows(*plan)) || failed(quantizeInputs(*plan)) ||
      failed(fuseNormQuantize(*plan)) || failed(packWeights(*plan, store)) ||
      failed(assignSlots(*plan)))
    return failure();
  return translateToArtifact(*plan, store, contents, /*stepOps=*/nullptr,
                             /*progress=*/nullptr);
}

} // namespace qtc
