//===- BatchValidation.h - Checks a forward call's batch ------------------===//
//
// Every backend checks a BatchView before it runs a kernel on it: kernels
// index the KV pool, the slots and the vocabulary with the batch's numbers,
// so one bad entry would read or write out of bounds. One check shared by
// the host and CUDA backends keeps their accepted inputs identical.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_BATCHVALIDATION_H
#define QTC_RT_BATCHVALIDATION_H

#include "qtc/rt/Backend.h"
#include "qtc/rt/Status.h"

namespace qtc::rt {

// What a batch is checked against: the backend's sizes and the model's.
struct BatchLimits {
  int maxTokens = 0;    // BackendOptions::maxTokensPerCall
  int numKvBlocks = 0;  // physical KV blocks per layer
  int blockSize = 0;    // KV block size in tokens
  int vocabSize = 0;
  int maxPositions = 0;
};

// Rejects, naming the entry at fault: a token count outside [1, maxTokens],
// no sequence or no block per sequence, a logit-row count outside
// [0, maxTokens], a missing array, a sequence length outside its block table
// or the model's positions, a block-table entry outside the KV pool, a token
// id outside the vocabulary, a token of a sequence outside the batch, a
// position outside its sequence's length, and a logit row outside the batch.
Status validateBatch(const BatchView &batch, const BatchLimits &limits);

} // namespace qtc::rt

#endif // QTC_RT_BATCHVALIDATION_H
