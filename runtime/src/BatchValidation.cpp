//===- BatchValidation.cpp - Checks a forward call's batch ----------------===//

#include "qtc/rt/BatchValidation.h"

#include <string>

namespace qtc::rt {

Status validateBatch(const BatchView &b, const BatchLimits &limits) {
  auto str = [](long long v) { return std::to_string(v); };
  if (b.numTokens <= 0 || b.numTokens > limits.maxTokens)
    return invalidArgument("batch has " + str(b.numTokens) + " tokens; the backend takes 1 to " +
                           str(limits.maxTokens));
  if (b.numSeqs <= 0 || b.maxBlocksPerSeq <= 0)
    return invalidArgument("batch needs at least one sequence and one block per sequence (has " +
                           str(b.numSeqs) + " sequences, " + str(b.maxBlocksPerSeq) +
                           " blocks per sequence)");
  if (b.numLogitRows < 0 || b.numLogitRows > limits.maxTokens)
    return invalidArgument("batch asks for " + str(b.numLogitRows) + " logit rows; at most " +
                           str(limits.maxTokens));
  const char *missing = !b.tokenIds                          ? "tokenIds"
                        : !b.positions                       ? "positions"
                        : !b.tokenSeq                        ? "tokenSeq"
                        : !b.seqLens                         ? "seqLens"
                        : !b.blockTables                     ? "blockTables"
                        : b.numLogitRows > 0 && !b.logitRows ? "logitRows"
                                                             : nullptr;
  if (missing)
    return invalidArgument(std::string("batch is missing its ") + missing + " array");
  if (limits.blockSize <= 0)
    return invalidArgument("batch limits have a KV block size of " + str(limits.blockSize));
  const long long capacity = static_cast<long long>(b.maxBlocksPerSeq) * limits.blockSize;
  for (int s = 0; s < b.numSeqs; ++s) {
    const int len = b.seqLens[s];
    if (len <= 0 || len > capacity || len > limits.maxPositions)
      return invalidArgument("sequence " + str(s) + " has length " + str(len) +
                             "; its block table holds " + str(capacity) +
                             " positions and the model " + str(limits.maxPositions));
    for (int i = 0, n = (len + limits.blockSize - 1) / limits.blockSize; i < n; ++i) {
      const int block = b.blockTables[static_cast<size_t>(s) * b.maxBlocksPerSeq + i];
      if (block < 0 || block >= limits.numKvBlocks)
        return invalidArgument("sequence " + str(s) + " maps its block " + str(i) +
                               " to physical block " + str(block) + " of " +
                               str(limits.numKvBlocks));
    }
  }
  for (int t = 0; t < b.numTokens; ++t) {
    if (b.tokenIds[t] < 0 || b.tokenIds[t] >= limits.vocabSize)
      return invalidArgument("token " + str(t) + " has id " + str(b.tokenIds[t]) +
                             " outside the vocabulary of " + str(limits.vocabSize));
    if (b.tokenSeq[t] < 0 || b.tokenSeq[t] >= b.numSeqs)
      return invalidArgument("token " + str(t) + " belongs to sequence " + str(b.tokenSeq[t]) +
                             " of " + str(b.numSeqs));
    if (b.positions[t] < 0 || b.positions[t] >= b.seqLens[b.tokenSeq[t]])
      return invalidArgument("token " + str(t) + " is at position " + str(b.positions[t]) +
                             ", outside its sequence's length " +
                             str(b.seqLens[b.tokenSeq[t]]));
  }
  for (int r = 0; r < b.numLogitRows; ++r)
    if (b.logitRows[r] < 0 || b.logitRows[r] >= b.numTokens)
      return invalidArgument("logit row " + str(r) + " names token " + str(b.logitRows[r]) +
                             " of " + str(b.numTokens));
  return Status::ok();
}

} // namespace qtc::rt
