//===- CalibrationRun.h - Run a plan on the host backend, observing linears ===//
//
// The runtime is the one numerics oracle, so calibration runs the model there:
// the plan of the model as it stands goes to the host backend, which shows
// every Linear step's input rows to an observer that accumulates them per
// step.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_LIB_CALIBRATION_CALIBRATIONRUN_H
#define QTC_LIB_CALIBRATION_CALIBRATIONRUN_H

#include "CalibrationTokens.h"

#include "qtc/Artifact/ArtifactContents.h"
#include "qtc/Quant/ActivationStatistics.h"

#include "mlir/IR/Location.h"

#include <map>
#include <memory>
#include <vector>

namespace qtc {

// Per Linear step index, the statistics of its input.
using StepStatistics =
    std::map<int, std::shared_ptr<quant::ActivationStatistics>>;

struct SamplingOptions {
  int64_t sequences = 32;
  int64_t seqLen = 256;
  uint64_t seed = 0;
  int greedyTokens = 3; // after the random first token, as LLM-QAT does
};

// The largest |key| and |value| the run cached, [layer][kv head].
struct KvAbsMax {
  std::vector<std::vector<float>> keys, values;
};

// Runs `contents`' plan (serialized in memory) on the host backend over
// `sequences`, accumulating the input of every Linear step (and, where `kv`
// is given, the cached keys' and values' ranges).
mlir::FailureOr<StepStatistics>
observeSequences(const artifact::ArtifactContents &contents,
                 const TokenSequences &sequences, mlir::Location loc,
                 KvAbsMax *kv = nullptr);

// Lets the model write `options.sequences` sequences of its own (data-free
// calibration), accumulating Linear inputs as it generates. Returns the
// statistics; `tokens` receives what was generated.
mlir::FailureOr<StepStatistics>
observeSampling(const artifact::ArtifactContents &contents,
                const SamplingOptions &options, TokenSequences &tokens,
                mlir::Location loc, KvAbsMax *kv = nullptr);

} // namespace qtc

#endif // QTC_LIB_CALIBRATION_CALIBRATIONRUN_H
