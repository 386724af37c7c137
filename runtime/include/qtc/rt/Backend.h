//===- Backend.h - Execution backends (host, cuda) ------------------------===//
//
// A backend executes an artifact's plan for one batch. It owns its copies of
// the weights, the activation slots and the storage of the paged KV cache; the
// bookkeeping of KV blocks (which sequence owns which block) lives in
// kv/BlockAllocator and reaches the backend as block tables in a BatchView.
//
// Both backends implement every StepKind of runtime/schema/artifact.fbs with the
// same semantics; the host backend is the numerics oracle for the CUDA one.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_BACKEND_H
#define QTC_RT_BACKEND_H

#include "qtc/rt/Status.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qtc::rt {

class Artifact; // qtc/rt/Artifact.h: a loaded and verified artifact.

// One forward call: a set of new tokens, each belonging to a sequence at a
// position. Prefill (many tokens of a sequence) and decode (one token per
// sequence) are the same call; `decodeOnly` tells a backend it may pick its
// decode kernels. All arrays are host memory owned by the caller.
struct BatchView {
  int numTokens = 0;
  int numSeqs = 0;
  const int32_t *tokenIds = nullptr;  // [numTokens]
  const int32_t *positions = nullptr; // [numTokens] position within its sequence
  const int32_t *tokenSeq = nullptr;  // [numTokens] index into the batch's sequences
  // [numSeqs] context length after this call (cached tokens + new tokens).
  const int32_t *seqLens = nullptr;
  // [numSeqs * maxBlocksPerSeq] physical KV block ids, row per sequence.
  const int32_t *blockTables = nullptr;
  int maxBlocksPerSeq = 0;
  // Token rows whose logits are wanted (e.g. the last token of each sequence).
  const int32_t *logitRows = nullptr;
  int numLogitRows = 0;
  bool decodeOnly = false;
};

struct BackendOptions {
  int maxTokensPerCall = 2048;  // activation slots are sized for this
  int numKvBlocks = 0;          // physical KV blocks per layer
  int deviceOrdinal = 0;        // cuda only
  int hostThreads = 0;          // host only: threads per large step (0: up to 2)
};

// What storing keys and values in the KV cache's dtype did to those written
// so far in one layer: the numerics record of a quantized cache.
struct KvLayerNumerics {
  double keySqnrDb = 0, valueSqnrDb = 0;
  float keyMaxAbsError = 0, valueMaxAbsError = 0;
  int64_t values = 0; // keys (and as many values) written
  // The largest |key| and |value| written, per kv head (calibrates fp8 scales).
  std::vector<float> keyAbsMax, valueAbsMax;
};

// Sees the input rows of every Linear step just before the step runs: the
// compiler's calibration collects activation statistics through it (per
// linear input: X^T X for GPTQ, channel ranges for AWQ and SmoothQuant).
// Rows are f32, row-major [rows, width]; the pointer is valid during the call.
class LinearInputObserver {
public:
  virtual ~LinearInputObserver() = default;
  virtual void observeLinearInput(int stepIndex, const float *rows, int numRows,
                                  int width) = 0;
};

class Backend {
public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Uploads weights, loads kernels and allocates slots and KV storage. The
  // artifact outlives the backend.
  virtual Status prepare(const Artifact &artifact,
                         const BackendOptions &options) = 0;
  // Runs the plan for `batch`; writes numLogitRows x vocab fp32 logits.
  virtual Status forward(const BatchView &batch, std::vector<float> &logits) = 0;
  // Runs the plan for `batch` like forward() and writes, per logit row, the
  // greedy token: the argmax of the row forward() would have returned, by
  // the tie rule of qtc/rt/GreedyArgmax.h. Only numLogitRows ids leave the
  // backend: the CUDA backend runs the artifact's argmax_rows kernel on the
  // device (Plan.argmax_kernel_ids) and copies back the ids alone.
  virtual Status forwardGreedy(const BatchView &batch, std::vector<int32_t> &ids) = 0;
  // Copies one physical KV block (all layers) to another: copy-on-write.
  virtual Status copyKvBlock(int srcBlock, int dstBlock) = 0;
  // Per layer, since prepare(); empty where the backend cannot observe it
  // (the host backend measures it; the CUDA kernels do not).
  virtual std::vector<KvLayerNumerics> kvNumerics() const { return {}; }
  // Installs (or with nullptr removes) an observer of Linear inputs. The host
  // backend supports it; a backend that does not returns kFailedPrecondition.
  virtual Status setLinearInputObserver(LinearInputObserver *observer) {
    (void)observer;
    return failedPrecondition(name() + " backend: linear-input observers are not supported");
  }
};

std::unique_ptr<Backend> createHostBackend();
// Fails with kUnavailable when libcuda.so.1 or a GPU is missing.
StatusOr<std::unique_ptr<Backend>> createCudaBackend();

} // namespace qtc::rt

#endif // QTC_RT_BACKEND_H
