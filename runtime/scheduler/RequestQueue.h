//===- RequestQueue.h - Requests of the Engine's continuous batching ------===//
//
// What the Engine keeps per request between step() calls: the prompt, the
// tokens generated so far, its KV sequence and how much of its context (the
// prompt, and after a preemption the prompt and the generated tokens) that
// holds, and its sampler, which a preemption keeps. Waiting requests have no sequence yet; running
// ones are kept in admission order, which is also the order their prefills
// are served in.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_SCHEDULER_REQUESTQUEUE_H
#define QTC_RT_SCHEDULER_REQUESTQUEUE_H

#include "kv/BlockAllocator.h"
#include "qtc/rt/Engine.h"
#include "scheduler/OutputText.h"
#include "scheduler/Sampler.h"

#include <deque>
#include <vector>

namespace qtc::rt {

struct Engine::Requests {
  struct Request {
    Request(RequestId id, std::vector<int32_t> prompt, const RequestOptions &options,
            int64_t worstCaseBlocks)
        : id(id), prompt(std::move(prompt)), options(options), worstCaseBlocks(worstCaseBlocks),
          sampler(options.sampling, /*stream=*/0), text(options.stopStrings) {
      context = this->prompt;
    }
    bool prefillDone() const { return prefilled == static_cast<int>(context.size()); }

    RequestId id;
    std::vector<int32_t> prompt;
    RequestOptions options;
    // KV blocks at prompt + maxNewTokens - 1 tokens (the last token is
    // returned, never fed back): what admission reserves.
    int64_t worstCaseBlocks;
    Sampler sampler;
    OutputText text; // with detokenize or stop strings
    std::vector<int32_t> tokens; // generated so far
    // What a prefill covers: the prompt, after a preemption also `tokens`
    // (the last prefilled row's logits then give the next token).
    std::vector<int32_t> context;
    BlockAllocator::SeqId seq = -1;
    int prefilled = 0; // context tokens in the sequence (cached ones included)
    int64_t cachedPromptTokens = 0;
  };

  std::deque<Request> waiting;
  std::vector<Request> running;
  RequestId nextId = 0;
  int64_t preemptions = 0;
};

} // namespace qtc::rt

#endif // QTC_RT_SCHEDULER_REQUESTQUEUE_H
