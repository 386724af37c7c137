//===- CalibratePass.cpp - Activation statistics from the runtime ---------===//

#include "CalibrationRun.h"

#include "dialects/chain/ChainDialect.h"
#include "dialects/tfm/TfmOps.h"
#include "qtc/Chain/Plan.h"
#include "qtc/Transforms/Passes.h"
#include "qtc/Transforms/WeightContext.h"

#include "llvm/Support/Format.h"

#include <chrono>

namespace qtc {
#define GEN_PASS_DEF_CALIBRATE
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {
namespace {

struct CalibratePass : public impl::CalibrateBase<CalibratePass> {
  using CalibrateBase::CalibrateBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<WeightContext *> weightsOr = WeightContext::require(module, "qtc-calibrate");
    if (failed(weightsOr))
      return signalPassFailure();
    WeightContext &weights = **weightsOr;
    auto models = module.getOps<tfm::ModelOp>();
    if (std::distance(models.begin(), models.end()) != 1) {
      module.emitError("qtc-calibrate expects exactly one tfm.model");
      return signalPassFailure();
    }
    tfm::ModelOp model = *models.begin();
    int64_t maxPositions = model.getConfig().getMaxPositions();
    if (tokens <= 0 || seqLen < 2 || (maxPositions > 0 && seqLen > maxPositions)) {
      model.emitError("qtc-calibrate: tokens must be positive and seq-len in [2, ")
          << maxPositions << "] (the model's positions); got tokens " << tokens
          << ", seq-len " << seqLen;
      return signalPassFailure();
    }

    auto start = std::chrono::steady_clock::now();
    artifact::ArtifactContents plan;
    if (failed(buildPlan(module, weights.store(), plan)))
      return signalPassFailure();

    Location loc = model.getLoc();
    CalibrationRecord record;
    TokenSequences sequences;
    FailureOr<StepStatistics> stats = failure();
    KvAbsMax kv;
    if (data.empty()) {
      SamplingOptions sampling;
      sampling.seqLen = seqLen;
      sampling.sequences = std::max<int64_t>(1, tokens / seqLen);
      sampling.seed = seed;
      record.source = "data-free (sampled from the model)";
      stats = observeSampling(plan, sampling, sequences, loc, &kv);
    } else {
      CalibrationTokenOptions options;
      options.seqLen = seqLen;
      options.maxTokens = tokens;
      options.bosId = plan.config.bosTokenId;
      options.vocabSize = plan.config.vocabSize;
      FailureOr<TokenSequences> read =
          readCalibrationTokens(data, tokenizer, options, loc);
      if (failed(read))
        return signalPassFailure();
      sequences = std::move(*read);
      record.source = data;
      stats = observeSequences(plan, sequences, loc, &kv);
    }
    if (failed(stats))
      return signalPassFailure();

    for (auto &[step, stepStats] : *stats) {
      auto names = plan.linearWeightsOfStep.find(step);
      if (names == plan.linearWeightsOfStep.end()) {
        model.emitError("qtc-calibrate: the runtime observed step ")
            << step << ", which computes no linear of the plan";
        return signalPassFailure();
      }
      for (const std::string &name : names->second)
        weights.setInputStatistics(name, stepStats);
    }
    record.sequences = static_cast<int64_t>(sequences.size());
    for (const auto &s : sequences)
      record.tokens += static_cast<int64_t>(s.size());
    record.seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count();
    if (weights.progress) {
      *weights.progress << llvm::format(
          "  calibration: %lld sequences, %lld tokens, %s, %.2f s on the host "
          "backend\n",
          static_cast<long long>(record.sequences),
          static_cast<long long>(record.tokens), record.source.c_str(),
          record.seconds);
      weights.progress->flush();
    }
    weights.calibration = std::move(record);
    weights.kvKeyAbsMax = std::move(kv.keys);
    weights.kvValueAbsMax = std::move(kv.values);
    markAllAnalysesPreserved();
  }
};

} // namespace
} // namespace qtc
