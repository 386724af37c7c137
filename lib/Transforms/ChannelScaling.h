//===- ChannelScaling.h - Per-channel scales moved between ops --*- C++ -*-===//
//
// AWQ and SmoothQuant both rescale a linear's input channels: the consumers'
// weight columns are multiplied by s and the op producing their input (an
// RMSNorm's scale, or the up projection feeding a SwiGLU) has its output
// channels divided by s, so the fp32 function is unchanged while the
// quantized one is not. The passes differ in how they choose s; finding the
// places and folding s in are the same, and live here.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_LIB_TRANSFORMS_CHANNELSCALING_H
#define QTC_LIB_TRANSFORMS_CHANNELSCALING_H

#include "dialects/tfm/TfmOps.h"
#include "qtc/Import/WeightMatrix.h"
#include "qtc/Quant/ActivationStatistics.h"
#include "qtc/Transforms/WeightContext.h"

#include "mlir/IR/BuiltinOps.h"

namespace qtc {

// A per-channel scale moves between `producer` (whose output channel c is
// divided by s_c) and `consumers` (whose input column c is multiplied by s_c).
struct ScalePair {
  mlir::Operation *producer; // tfm.rms_norm (scale [c]) or the up tfm.linear ([c, in])
  llvm::SmallVector<tfm::LinearOp> consumers;
};

// The tfm.weight behind `v`, or null for a computed value.
tfm::WeightOp storedWeight(mlir::Value v);

// Registers `values` (f32, `handle`'s shape) as a new weight named after
// `handle` with `suffix` (x.awq, then x.awq.2 if x.awq is scaled again),
// points the uses of `handle` by `users` at it and erases `handle` once
// nothing else uses it. `newName` gets the new weight's name.
mlir::LogicalResult replaceWeight(WeightContext &weights, tfm::WeightOp handle,
                                  llvm::ArrayRef<mlir::Operation *> users,
                                  llvm::ArrayRef<float> values, llvm::StringRef suffix,
                                  std::string &newName);

// Every pair of `module` a scale can move through: an RMSNorm whose only
// users are linears reading it (q, k, v; gate, up), and an up projection
// feeding a SwiGLU whose down projection is its only reader. v -> o is left
// alone: under grouped-query attention a v channel feeds several heads.
llvm::SmallVector<ScalePair> findScalePairs(mlir::ModuleOp module);

// The calibration statistics of the input `pair`'s consumers read, checked
// against their width; an error naming `pass` without them.
mlir::FailureOr<const quant::ActivationStatistics *>
pairInputStatistics(WeightContext &weights, ScalePair &pair, llvm::StringRef pass);

// Reads the weights of `pair`'s consumers.
mlir::FailureOr<llvm::SmallVector<WeightMatrix>> readConsumers(WeightContext &weights,
                                                               ScalePair &pair);

// The statistics of an input whose channel c is divided by s_c.
std::shared_ptr<const quant::ActivationStatistics>
smoothedStatistics(const quant::ActivationStatistics &input, llvm::ArrayRef<double> s);

// Folds `s` into `pair`: `scaledConsumers` are the consumers' weights with
// column c already multiplied by s_c (and whatever else the pass did to
// them); the producer's output channels are divided by s. Both are stored
// beside the originals (f32, names suffixed `suffix`) and their tfm.weight
// handles renamed; the consumers' input statistics are re-registered as
// `smoothed` (smoothedStatistics of their input), so later passes (GPTQ)
// see the new input.
mlir::LogicalResult
foldChannelScales(WeightContext &weights, ScalePair &pair,
                  llvm::ArrayRef<WeightMatrix> scaledConsumers, llvm::ArrayRef<double> s,
                  std::shared_ptr<const quant::ActivationStatistics> smoothed,
                  llvm::StringRef pass, llvm::StringRef suffix);

} // namespace qtc

#endif // QTC_LIB_TRANSFORMS_CHANNELSCALING_H
