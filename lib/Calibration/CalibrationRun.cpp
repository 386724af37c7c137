//===- CalibrationRun.cpp - Run a plan on the host backend, observing linears ===//

#include "CalibrationRun.h"

#include "qtc/Artifact/ArtifactWriter.h"
#include "qtc/rt/Artifact.h"
#include "qtc/rt/Backend.h"
#include "qtc/rt/GreedyArgmax.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <random>

using namespace mlir;

namespace qtc {
namespace {

constexpr int kMaxSequencesPerCall = 64;
constexpr int kMaxTokensPerCall = 2048;

class StatisticsObserver final : public rt::LinearInputObserver {
public:
  void observeLinearInput(int stepIndex, const float *rows, int numRows,
                          int width) override {
    std::shared_ptr<quant::ActivationStatistics> &stats = steps[stepIndex];
    if (!stats)
      stats = std::make_shared<quant::ActivationStatistics>(width);
    stats->accumulate(rows, numRows);
  }
  StepStatistics steps;
};

// The plan in a host backend with KV room for `sequences` of `seqLen`.
struct HostRun {
  std::unique_ptr<rt::Artifact> artifact;
  std::unique_ptr<rt::Backend> backend;
  StatisticsObserver observer;
  int blocksPerSeq = 0;
  int blockSize = 16;
};

FailureOr<std::unique_ptr<HostRun>>
startHostRun(const artifact::ArtifactContents &contents, int64_t seqLen,
             Location loc) {
  std::string bytes;
  llvm::raw_string_ostream os(bytes);
  if (llvm::Error e = artifact::serializeArtifact(contents, os))
    return emitError(loc) << "calibration plan: " << llvm::toString(std::move(e));
  os.flush();
  auto run = std::make_unique<HostRun>();
  auto artifact = rt::Artifact::fromBytes(
      std::vector<uint8_t>(bytes.begin(), bytes.end()), "calibration plan");
  if (!artifact)
    return emitError(loc) << "calibration plan: " << artifact.status().message();
  run->artifact = std::move(*artifact);
  run->blockSize = run->artifact->kvCache().block_size();
  run->blocksPerSeq =
      static_cast<int>((seqLen + run->blockSize - 1) / run->blockSize);
  rt::BackendOptions options;
  options.maxTokensPerCall = kMaxTokensPerCall;
  options.numKvBlocks = run->blocksPerSeq * kMaxSequencesPerCall;
  run->backend = rt::createHostBackend();
  if (rt::Status s = run->backend->prepare(*run->artifact, options); !s.ok())
    return emitError(loc) << "calibration: " << s.message();
  if (rt::Status s = run->backend->setLinearInputObserver(&run->observer); !s.ok())
    return emitError(loc) << "calibration: " << s.message();
  return run;
}

// One call's arrays: new tokens of up to kMaxSequencesPerCall sequences,
// sequence i owning blocks [i * blocksPerSeq, (i + 1) * blocksPerSeq).
struct Batch {
  std::vector<int32_t> ids, positions, tokenSeq, seqLens, blockTables, logitRows;
  int numSeqs = 0;

  // Adds the next sequence, whose tokens from position `from` on are new in
  // this call; its last token's logits are wanted.
  void addSequence(const std::vector<int32_t> &tokens, size_t from) {
    for (size_t p = from; p < tokens.size(); ++p) {
      ids.push_back(tokens[p]);
      positions.push_back(static_cast<int32_t>(p));
      tokenSeq.push_back(numSeqs);
    }
    seqLens.push_back(static_cast<int32_t>(tokens.size()));
    logitRows.push_back(static_cast<int32_t>(ids.size()) - 1);
    ++numSeqs;
  }

  rt::BatchView view(int blocksPerSeq) {
    blockTables.resize(static_cast<size_t>(numSeqs) * blocksPerSeq);
    for (size_t i = 0; i < blockTables.size(); ++i)
      blockTables[i] = static_cast<int32_t>(i);
    rt::BatchView b;
    b.numTokens = static_cast<int>(ids.size());
    b.numSeqs = numSeqs;
    b.tokenIds = ids.data();
    b.positions = positions.data();
    b.tokenSeq = tokenSeq.data();
    b.seqLens = seqLens.data();
    b.blockTables = blockTables.data();
    b.maxBlocksPerSeq = blocksPerSeq;
    b.logitRows = logitRows.data();
    b.numLogitRows = static_cast<int>(logitRows.size());
    return b;
  }
};

// Samples from softmax(logits) (temperature 1), never `excluded` ids.
int32_t sample(const float *logits, int vocab, ArrayRef<int32_t> excluded,
               std::mt19937_64 &rng) {
  float max = -INFINITY;
  for (int i = 0; i < vocab; ++i)
    if (!llvm::is_contained(excluded, i))
      max = std::max(max, logits[i]);
  std::vector<double> cumulative(vocab);
  double total = 0;
  for (int i = 0; i < vocab; ++i) {
    if (!llvm::is_contained(excluded, i) && std::isfinite(logits[i]))
      total += std::exp(static_cast<double>(logits[i]) - max);
    cumulative[i] = total;
  }
  double u = std::uniform_real_distribution<double>(0.0, total)(rng);
  auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u);
  return static_cast<int32_t>(std::min<ptrdiff_t>(it - cumulative.begin(), vocab - 1));
}

// What the backend's cache saw, per layer and kv head.
void readKvAbsMax(const rt::Backend &backend, KvAbsMax *kv) {
  if (!kv)
    return;
  kv->keys.clear();
  kv->values.clear();
  for (const rt::KvLayerNumerics &n : backend.kvNumerics()) {
    kv->keys.push_back(n.keyAbsMax);
    kv->values.push_back(n.valueAbsMax);
  }
}

} // namespace

FailureOr<StepStatistics>
observeSequences(const artifact::ArtifactContents &contents,
                 const TokenSequences &sequences, Location loc, KvAbsMax *kv) {
  int64_t longest = 0;
  for (const auto &s : sequences)
    longest = std::max<int64_t>(longest, s.size());
  FailureOr<std::unique_ptr<HostRun>> run = startHostRun(contents, longest, loc);
  if (failed(run))
    return failure();
  HostRun &r = **run;
  for (size_t next = 0; next < sequences.size();) {
    Batch batch;
    while (next < sequences.size() && batch.numSeqs < kMaxSequencesPerCall &&
           batch.ids.size() + sequences[next].size() <= kMaxTokensPerCall)
      batch.addSequence(sequences[next++], 0);
    if (batch.numSeqs == 0)
      return emitError(loc) << "calibration sequence of "
                            << sequences[next].size()
                            << " tokens exceeds one call's " << kMaxTokensPerCall;
    std::vector<int32_t> unused;
    if (rt::Status s = r.backend->forwardGreedy(batch.view(r.blocksPerSeq), unused);
        !s.ok())
      return emitError(loc) << "calibration run: " << s.message();
  }
  readKvAbsMax(*r.backend, kv);
  return std::move(r.observer.steps);
}

FailureOr<StepStatistics>
observeSampling(const artifact::ArtifactContents &contents,
                const SamplingOptions &options, TokenSequences &tokens,
                Location loc, KvAbsMax *kv) {
  FailureOr<std::unique_ptr<HostRun>> run =
      startHostRun(contents, options.seqLen, loc);
  if (failed(run))
    return failure();
  HostRun &r = **run;
  const int vocab = contents.config.vocabSize;
  const int32_t bos = contents.config.bosTokenId, eos = contents.config.eosTokenId;
  SmallVector<int32_t, 2> special;
  for (int32_t id : {bos, eos})
    if (id >= 0 && id < vocab)
      special.push_back(id);
  std::mt19937_64 rng(options.seed);
  tokens.clear();

  for (int64_t first = 0; first < options.sequences; first += kMaxSequencesPerCall) {
    const int numSeqs = static_cast<int>(
        std::min<int64_t>(kMaxSequencesPerCall, options.sequences - first));
    std::vector<std::vector<int32_t>> seqs(numSeqs);
    for (auto &seq : seqs) {
      if (bos >= 0)
        seq.push_back(bos);
      int32_t start;
      do {
        start = std::uniform_int_distribution<int32_t>(0, vocab - 1)(rng);
      } while (llvm::is_contained(special, start));
      seq.push_back(start);
    }
    // The first call prefills what each sequence has; every later call
    // feeds the token just chosen.
    size_t fed = 0;
    while (static_cast<int64_t>(seqs[0].size()) <= options.seqLen) {
      Batch batch;
      for (const std::vector<int32_t> &seq : seqs)
        batch.addSequence(seq, fed);
      fed = seqs[0].size();
      if (static_cast<int64_t>(seqs[0].size()) == options.seqLen) {
        // The last token goes through the linears too; its logits are not needed.
        std::vector<int32_t> unused;
        if (rt::Status s = r.backend->forwardGreedy(batch.view(r.blocksPerSeq), unused);
            !s.ok())
          return emitError(loc) << "calibration sampling: " << s.message();
        break;
      }
      std::vector<float> logits;
      if (rt::Status s = r.backend->forward(batch.view(r.blocksPerSeq), logits);
          !s.ok())
        return emitError(loc) << "calibration sampling: " << s.message();
      const int generated = static_cast<int>(seqs[0].size()) - (bos >= 0 ? 2 : 1);
      for (int s = 0; s < numSeqs; ++s) {
        const float *row = logits.data() + static_cast<size_t>(s) * vocab;
        int32_t next;
        if (generated < options.greedyTokens) {
          std::vector<float> masked(row, row + vocab);
          for (int32_t id : special)
            masked[id] = -INFINITY;
          next = rt::greedyArgmax(masked.data(), vocab);
        } else {
          next = sample(row, vocab, special, rng);
        }
        seqs[s].push_back(next);
      }
    }
    for (auto &seq : seqs)
      tokens.push_back(std::move(seq));
  }
  readKvAbsMax(*r.backend, kv);
  return std::move(r.observer.steps);
}

} // namespace qtc
