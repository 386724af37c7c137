//===- Plan.h - From tfm/qnt to the runtime's kernel chains -----*- C++ -*-===//
//
// The stages between the quantized graph and the artifact, each a pass over
// the chain dialect (include/qtc/Transforms/Passes.td) and callable as a
// function here for code that lowers a copy of the model outside a pass
// manager (calibration runs the plan of the model as it stands):
//
//   qtc-lower-to-chain              tfm.model -> chain.plan, op by op
//   qtc-chain-fuse-rope-kv-append   rope(q), rope(k) + kv_append -> rope_kv_append
//   qtc-chain-concat-projections    concat(linear(x)...) -> one linear (q|k|v, gate|up)
//   qtc-chain-fuse-residual         add(r, linear(x)) -> linear(x) residual(r)
//   qtc-chain-gather-logit-rows     gather_rows above the final norm and lm_head
//   qtc-chain-quantize-inputs       a W8A8/FP8 linear's input -> quantize_rows
//   qtc-chain-fuse-norm-quantize    quantize_rows(rms_norm) -> a quantizing rms_norm
//   qtc-chain-pack-weights          chain.tensor per weight, bytes in the store
//   qtc-chain-assign-slots          activation buffers by liveness
//
// `qtc-plan` is that pipeline by name; translateToArtifact() turns its
// result into the artifact's plan and tensors.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_CHAIN_PLAN_H
#define QTC_CHAIN_PLAN_H

#include "dialects/qnt/QntAttrs.h"
#include "qtc/Artifact/ArtifactContents.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/LLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace qtc {

class WeightStore;
namespace chain {
class PlanOp;
} // namespace chain

mlir::LogicalResult lowerToChain(mlir::ModuleOp module);
mlir::LogicalResult fuseRopeKvAppend(chain::PlanOp plan);
mlir::LogicalResult concatProjections(chain::PlanOp plan);
mlir::LogicalResult fuseResidual(chain::PlanOp plan);
mlir::LogicalResult gatherLogitRows(chain::PlanOp plan);
mlir::LogicalResult quantizeInputs(chain::PlanOp plan);
mlir::LogicalResult fuseNormQuantize(chain::PlanOp plan);
mlir::LogicalResult packWeights(chain::PlanOp plan, WeightStore &store);
mlir::LogicalResult assignSlots(chain::PlanOp plan);

// The weight-store key of the bytes behind the chain.tensor `symbol`.
std::string packedTensorKey(llvm::StringRef symbol);

// How the artifact holds a weight of some #qnt.encoding: its WeightFormat
// (int3/int4: Int4Group, int8: Int8Group, fp8: Fp8Channel), the input
// channels one scale spans (in_features for one scale per row) and the
// name reports give it ("int4-g128-sym", "int3-g64-asym",
// "int8-channel-sym", "fp8e4m3-channel").
struct WeightLayout {
  rt::fb::WeightFormat format = rt::fb::WeightFormat::Dense;
  int64_t groupSize = 0;
  std::string name;
};

// The layout of a weight with `inFeatures` inputs in `encoding`, or an
// error at `loc` for an encoding the runtime cannot hold. The packer, the
// translation and kernel selection all ask here.
mlir::FailureOr<WeightLayout> weightLayout(qnt::EncodingAttr encoding,
                                           int64_t inFeatures, mlir::Location loc);

// The artifact's ActivationQuant of a per-token row quantization (int8 or
// fp8 e4m3, chain::isRowQuantization), None for a null encoding.
rt::fb::ActivationQuant activationQuant(qnt::EncodingAttr encoding);

// Adds the stages above, in order, to `pm` (a builtin.module pass manager).
void buildPlanPipeline(mlir::OpPassManager &pm);
// Registers `qtc-plan` for qtc-opt --pass-pipeline and -qtc-plan.
void registerPlanPipeline();

// Runs `stage` on every chain.plan of `module` (what each chain pass does).
mlir::LogicalResult
forEachPlan(mlir::ModuleOp module,
            llvm::function_ref<mlir::LogicalResult(chain::PlanOp)> stage);

// The module's single chain.plan, or an error on the module.
mlir::FailureOr<chain::PlanOp> findPlan(mlir::ModuleOp module);

// Fills contents.config, tensors (views of bytes in `store`, which must
// outlive `contents` or be kept in contents.weightStorage), slots, steps,
// logitsSlot, kvDType, numerics and linearWeightsOfStep from a plan the whole
// pipeline ran on. `stepOps`, when given, receives the op behind each step,
// whose attributes kernel generation reads. Ops that no runtime kernel
// executes (an unfused chain.concat, chain.rope or chain.kv_append) are
// errors at the op.
mlir::LogicalResult translateToArtifact(chain::PlanOp plan,
                                        const WeightStore &store,
                                        artifact::ArtifactContents &contents,
                                        std::vector<mlir::Operation *> *stepOps,
                                        llvm::raw_ostream *progress);

// The plan of `module`'s tfm.model as it stands: lowers a copy through the
// whole pipeline (packing into `store`) and translates it. What calibration
// runs on the host backend.
mlir::LogicalResult buildPlan(mlir::ModuleOp module, WeightStore &store,
                              artifact::ArtifactContents &contents);

} // namespace qtc

#endif // QTC_CHAIN_PLAN_H
