//===- EngineRequests.cpp - Continuous batching of the Engine's requests --===//
//
// addRequest/step/abortRequest (Engine.h). Each step is one backend call:
// a decode token for every running request whose prompt is prefilled, then
// prompt chunks of running requests and of waiting requests admitted now,
// within maxTokensPerCall tokens. Admission is first come first served; a
// request that does not fit yet waits (and holds up those behind it, so that
// large requests are not starved). kGuaranteedNoEvict reserves each
// request's worst case (prompt + maxNewTokens) in the KV pool at admission,
// so appends of running requests cannot fail for lack of blocks and nothing
// is ever preempted. kMaxUtilization admits on the prompt alone and, when a
// step's appends do not fit, preempts the newest running requests (last in,
// first out, so the oldest always progress) and prefills them again later.
//
//===----------------------------------------------------------------------===//

#include "kv/BlockAllocator.h"
#include "kv/PrefixCache.h"
#include "qtc/rt/Engine.h"
#include "qtc/rt/Tokenizer.h"
#include "scheduler/BatchBuilder.h"
#include "scheduler/RequestQueue.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace qtc::rt {
namespace {

// The token's log-probability and the `top` most likely ones', from the raw logits.
void fillLogprobs(const float *logits, int vocab, int32_t token, int top, RequestOutput &out) {
  double maxLogit = logits[0];
  for (int i = 1; i < vocab; ++i)
    maxLogit = std::max(maxLogit, static_cast<double>(logits[i]));
  double sum = 0;
  for (int i = 0; i < vocab; ++i)
    sum += std::exp(static_cast<double>(logits[i]) - maxLogit);
  const double logZ = maxLogit + std::log(sum);
  out.logprob = static_cast<float>(logits[token] - logZ);
  std::vector<int32_t> order(vocab);
  for (int i = 0; i < vocab; ++i)
    order[i] = i;
  std::partial_sort(order.begin(), order.begin() + top, order.end(), [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  for (int i = 0; i < top; ++i)
    out.topLogprobs.push_back({order[i], static_cast<float>(logits[order[i]] - logZ)});
}

} // namespace

const char *finishReasonName(FinishReason reason) {
  switch (reason) {
  case FinishReason::kNone:
    return "";
  case FinishReason::kLength:
    return "length";
  case FinishReason::kEos:
    return "eos";
  case FinishReason::kAborted:
    return "aborted";
  case FinishReason::kStop:
    return "stop";
  }
  return "";
}

int64_t Engine::numPreemptions() const { return requests_->preemptions; }
int Engine::numWaitingRequests() const { return static_cast<int>(requests_->waiting.size()); }
int Engine::numRunningRequests() const { return static_cast<int>(requests_->running.size()); }

Status Engine::setMaxRunningRequests(int count) {
  if (count < 1)
    return invalidArgument("maxRunningRequests must be at least 1, got " + std::to_string(count));
  options_.maxRunningRequests = count;
  return Status::ok();
}

StatusOr<RequestId> Engine::addRequest(std::vector<int32_t> prompt,
                                       const RequestOptions &options) {
  const fb::ModelConfig &config = artifact_->config();
  QTC_RT_RETURN_IF_ERROR(checkIds(prompt, "request prompt"));
  if (options.maxNewTokens < 1)
    return invalidArgument("request: maxNewTokens must be at least 1, got " +
                           std::to_string(options.maxNewTokens));
  QTC_RT_RETURN_IF_ERROR(checkSampling(options.sampling, "request"));
  if (!options.stopTokenIds.empty())
    QTC_RT_RETURN_IF_ERROR(checkIds(options.stopTokenIds, "request stopTokenIds"));
  for (const std::string &stop : options.stopStrings)
    if (stop.empty())
      return invalidArgument("request: a stop string is empty");
  if ((options.detokenize || !options.stopStrings.empty()) && !tokenizer_)
    return tokenizerError_.isOk() ? failedPrecondition("request: stop strings and text need a "
                                                       "tokenizer, and the artifact has none")
                                  : tokenizerError_;
  if (options.logprobs > config.vocab_size())
    return invalidArgument("request: logprobs " + std::to_string(options.logprobs) +
                           " exceeds the vocabulary");
  const int64_t length = static_cast<int64_t>(prompt.size()) + options.maxNewTokens - 1;
  if (length > config.max_positions())
    return invalidArgument("request of " + std::to_string(prompt.size()) + " tokens plus " +
                           std::to_string(options.maxNewTokens) +
                           " new ones exceeds the model's " +
                           std::to_string(config.max_positions()) + " positions");
  const int64_t blocks = allocator_->blocksFor(length);
  if (blocks > allocator_->numBlocks())
    return resourceExhausted("request needs " + std::to_string(blocks) +
                             " KV blocks, more than the pool's " +
                             std::to_string(allocator_->numBlocks()));
  const RequestId id = requests_->nextId++;
  requests_->waiting.emplace_back(id, std::move(prompt), options, blocks);
  return id;
}

void Engine::retireRequest(size_t runningIndex) {
  std::vector<Requests::Request> &running = requests_->running;
  if (allocator_->contains(running[runningIndex].seq))
    (void)allocator_->freeSequence(running[runningIndex].seq);
  running.erase(running.begin() + static_cast<std::ptrdiff_t>(runningIndex));
}

Status Engine::abortRequest(RequestId id) {
  std::deque<Requests::Request> &waiting = requests_->waiting;
  for (auto it = waiting.begin(); it != waiting.end(); ++it)
    if (it->id == id) {
      waiting.erase(it);
      return Status::ok();
    }
  std::vector<Requests::Request> &running = requests_->running;
  for (size_t i = 0; i < running.size(); ++i)
    if (running[i].id == id) {
      retireRequest(i);
      return Status::ok();
    }
  return notFound("no request " + std::to_string(id) + " (finished, aborted or never added)");
}

void Engine::preemptRequest(size_t runningIndex) {
  std::vector<Requests::Request> &running = requests_->running;
  Requests::Request r = std::move(running[runningIndex]);
  running.erase(running.begin() + static_cast<std::ptrdiff_t>(runningIndex));
  (void)allocator_->freeSequence(r.seq);
  r.seq = -1;
  r.prefilled = 0;
  r.context = r.prompt;
  r.context.insert(r.context.end(), r.tokens.begin(), r.tokens.end());
  ++requests_->preemptions;
  requests_->waiting.push_front(std::move(r));
}

int64_t Engine::blocksToAppend(const std::vector<SequenceChunk> &chunks) const {
  int64_t blocks = 0;
  for (const SequenceChunk &chunk : chunks)
    blocks += std::max<int64_t>(0, allocator_->blocksFor(allocator_->length(chunk.seq) + chunk.count) -
                                       static_cast<int64_t>(allocator_->blockTable(chunk.seq).size()));
  return blocks;
}

void Engine::admitRequests() {
  const int blockSize = allocator_->blockSize();
  const bool reserveWorstCase =
      options_.capacityPolicy == EngineOptions::CapacityPolicy::kGuaranteedNoEvict;
  // What the running requests may still append (kGuaranteedNoEvict), or one
  // block each for their next tokens (kMaxUtilization). generate() or score()
  // run between steps may have left prefix-cached blocks in the pool: make
  // room for this first.
  int64_t reserved = 0;
  for (const Requests::Request &r : requests_->running)
    reserved += reserveWorstCase ? r.worstCaseBlocks - static_cast<int64_t>(
                                                          allocator_->blockTable(r.seq).size())
                                 : 1;
  (void)makeRoom(reserved);
  while (!requests_->waiting.empty() &&
         static_cast<int>(requests_->running.size()) < options_.maxRunningRequests) {
    Requests::Request &r = requests_->waiting.front();
    std::vector<int32_t> cached;
    if (prefixCache_) // at least the context's last token is prefilled: its logits come next
      cached = prefixCache_->match(r.context, (static_cast<int>(r.context.size()) - 1) / blockSize);
    // The sequence takes its references to the cached blocks first, so that
    // making room cannot evict them.
    StatusOr<BlockAllocator::SeqId> seq =
        cached.empty() ? StatusOr<BlockAllocator::SeqId>(allocator_->createSequence())
                       : allocator_->createSequenceFrom(cached);
    if (!seq)
      break;
    const int64_t need =
        (reserveWorstCase ? r.worstCaseBlocks
                          : allocator_->blocksFor(static_cast<int64_t>(r.context.size()))) -
        static_cast<int64_t>(cached.size());
    if (!makeRoom(reserved + need)) {
      (void)allocator_->freeSequence(*seq);
      break;
    }
    reserved += need;
    r.seq = *seq;
    r.prefilled = static_cast<int>(cached.size()) * blockSize;
    if (r.tokens.empty()) // a preempted request reports its first admission's
      r.cachedPromptTokens = r.prefilled;
    requests_->running.push_back(std::move(r));
    requests_->waiting.pop_front();
  }
}

StatusOr<std::vector<RequestOutput>> Engine::step() {
  admitRequests();
  std::vector<Requests::Request> &running = requests_->running;
  std::vector<SequenceChunk> chunks;
  std::vector<size_t> chunkRequest; // running index per chunk
  size_t decodes = 0;
  auto plan = [&] {
    chunks.clear();
    chunkRequest.clear();
    for (size_t i = 0; i < running.size(); ++i) {
      Requests::Request &r = running[i];
      if (!r.prefillDone())
        continue;
      const int position = static_cast<int>(r.prompt.size() + r.tokens.size()) - 1;
      chunks.push_back({r.seq, &r.tokens.back(), 1, position, SequenceChunk::Logits::kLast});
      chunkRequest.push_back(i);
    }
    int budget = options_.maxTokensPerCall - static_cast<int>(chunks.size());
    decodes = chunks.size();
    for (size_t i = 0; i < running.size() && budget > 0; ++i) {
      Requests::Request &r = running[i];
      if (r.prefillDone())
        continue;
      const int size = static_cast<int>(r.context.size());
      const int count = std::min(size - r.prefilled, budget);
      const bool last = r.prefilled + count == size;
      chunks.push_back({r.seq, r.context.data() + r.prefilled, count, r.prefilled,
                        last ? SequenceChunk::Logits::kLast : SequenceChunk::Logits::kNone});
      chunkRequest.push_back(i);
      budget -= count;
    }
  };
  plan();
  // kMaxUtilization: preempt the newest until this step's appends fit (the
  // oldest alone always fits: addRequest refused anything larger than the
  // pool).
  if (options_.capacityPolicy == EngineOptions::CapacityPolicy::kMaxUtilization)
    while (running.size() > 1 && !makeRoom(blocksToAppend(chunks))) {
      preemptRequest(running.size() - 1);
      plan();
    }
  std::vector<RequestOutput> outputs;
  if (chunks.empty())
    return outputs;
  const bool decodeOnly = chunks.size() == decodes; // the CUDA backend replays a graph

  // Greedy rows come back as ids (picked where the logits are) unless a
  // sampled request shares the call; then every row's logits come back and
  // greedy ones take the same argmax here (GreedyArgmax.h).
  bool allGreedy = true;
  for (size_t c = 0; c < chunks.size(); ++c)
    allGreedy &= running[chunkRequest[c]].options.sampling.argmaxOnly() &&
                 running[chunkRequest[c]].options.logprobs < 0;
  std::vector<int32_t> ids;
  std::vector<float> logits;
  Status status = allGreedy ? runChunksGreedy(chunks, decodeOnly, ids)
                            : runChunks(chunks, decodeOnly, logits);
  if (!status.isOk()) {
    // The failed call's requests cannot go on (their KV is half written);
    // each has one chunk in it.
    std::vector<size_t> failed = chunkRequest;
    std::sort(failed.begin(), failed.end());
    std::string ended;
    for (size_t i : failed)
      ended += (ended.empty() ? "" : ", ") + std::to_string(running[i].id);
    for (size_t k = failed.size(); k-- > 0;)
      retireRequest(failed[k]);
    return status.withContext("step (requests " + ended + " ended)");
  }

  const int vocab = artifact_->config().vocab_size();
  const int blockSize = allocator_->blockSize();
  std::vector<bool> finished(running.size(), false);
  size_t row = 0;
  for (size_t c = 0; c < chunks.size(); ++c) {
    Requests::Request &r = running[chunkRequest[c]];
    if (c >= decodes) {
      r.prefilled += chunks[c].count;
      if (r.prefillDone() && prefixCache_ && r.context.size() == r.prompt.size())
        QTC_RT_RETURN_IF_ERROR(prefixCache_->insert(r.prompt, allocator_->blockTable(r.seq),
                                                    static_cast<int>(r.prompt.size()) / blockSize));
    }
    if (chunks[c].logits == SequenceChunk::Logits::kNone)
      continue;
    const float *rowLogits = allGreedy ? nullptr : logits.data() + row * static_cast<size_t>(vocab);
    const int32_t token =
        allGreedy ? ids[row] : r.sampler.next(rowLogits, vocab, r.prompt, r.tokens);
    ++row;
    r.tokens.push_back(token);
    RequestOutput out;
    out.id = r.id;
    out.newTokens = {token};
    out.generatedTokens = static_cast<int64_t>(r.tokens.size());
    out.cachedPromptTokens = r.cachedPromptTokens;
    if (r.options.logprobs >= 0)
      fillLogprobs(rowLogits, vocab, token, r.options.logprobs, out);
    const std::vector<int32_t> &stops = r.options.stopTokenIds;
    if (r.options.stopAtEos && token == artifact_->config().eos_token_id())
      out.finish = FinishReason::kEos;
    else if (std::find(stops.begin(), stops.end(), token) != stops.end())
      out.finish = FinishReason::kStop;
    else if (static_cast<int>(r.tokens.size()) >= r.options.maxNewTokens)
      out.finish = FinishReason::kLength;
    if (r.options.detokenize || !r.options.stopStrings.empty()) {
      // A stop token's text is not part of the output (as in vLLM).
      const bool stopToken = out.finish == FinishReason::kStop;
      StatusOr<std::string> text = tokenizer_->decode(
          std::vector<int32_t>(r.tokens.begin(), r.tokens.end() - (stopToken ? 1 : 0)));
      if (!text)
        return text.status().withContext("step (request " + std::to_string(r.id) + ")");
      bool stopped = false;
      out.newText = r.text.advance(*text, out.finished(), stopped);
      if (stopped)
        out.finish = FinishReason::kStop;
    }
    if (r.options.onToken && !r.options.onToken(out) && !out.finished())
      out.finish = FinishReason::kAborted;
    finished[chunkRequest[c]] = out.finished();
    outputs.push_back(std::move(out));
  }
  for (size_t i = running.size(); i-- > 0;)
    if (finished[i])
      retireRequest(i);
  return outputs;
}

} // namespace qtc::rt
