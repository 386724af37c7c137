//===- Engine.h - The qtc runtime's C++ API -------------------------------===//
//
// An Engine owns one loaded artifact, one backend (cuda or host), the paged KV
// cache's block allocator and the tokenizer. Every call runs to completion:
// its sequences are created, batched together (prefill per sequence, packed
// into calls of at most maxTokensPerCall tokens, then decode steps of one
// token per live sequence) and freed before it returns, so a failed call
// leaves the engine as it was. An Engine is not thread-safe.
//
//   auto engine = Engine::create("model.qtc", {});
//   if (!engine) { report(engine.status()); }
//   auto ids = (*engine)->encode("In the beginning");
//   GenerateOptions options;  options.maxNewTokens = 32;
//   auto out = (*engine)->generate({*ids}, options);
//   (*engine)->decode(out->tokens[0]);
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_ENGINE_H
#define QTC_RT_ENGINE_H

#include "qtc/rt/Artifact.h"
#include "qtc/rt/Backend.h"
#include "qtc/rt/Status.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace qtc::rt {

class BatchBuilder;
class BlockAllocator;
class PrefixCache;
class Tokenizer;
struct SequenceChunk;

enum class BackendKind { kAuto, kHost, kCuda };
const char *backendKindName(BackendKind kind);
// "auto", "host" or "cuda".
StatusOr<BackendKind> parseBackendKind(std::string_view name);

struct EngineOptions {
  // kAuto: the CUDA backend when it can be created and prepared, else host.
  BackendKind backend = BackendKind::kAuto;
  // Physical KV blocks; 0 sizes the pool from kvMemoryBytes.
  int numKvBlocks = 0;
  // KV pool budget in bytes of the KV dtype; 0 means room for 8 sequences of
  // max_positions tokens, capped at 1 GiB (and at least one sequence).
  uint64_t kvMemoryBytes = 0;
  // Tokens per backend call: longer prefills are split into chunks.
  int maxTokensPerCall = 2048;
  int deviceOrdinal = 0;
  int hostThreads = 0; // 0: up to 2
  // Keep the full KV blocks of prompts after generate() and reuse them for
  // later prompts that start with the same tokens (vLLM's automatic prefix
  // caching): only the rest is prefilled. Prompts of one call share too: the
  // prefill call is split before a prompt whose first block is that of a
  // prompt already in it. Cached blocks stay out of the free pool until a
  // request needs the room (least recently used go first).
  bool prefixCaching = false;
  // Requests (addRequest/step) decoding or prefilling at once; more wait.
  int maxRunningRequests = 64;
  // When addRequest'ed requests are admitted (TensorRT-LLM's capacity
  // scheduler policies). kGuaranteedNoEvict: once the pool holds the
  // request's prompt plus maxNewTokens beside what running requests may still
  // need; nothing is ever preempted. kMaxUtilization: once the pool holds its
  // prompt now; when a step's tokens do not fit, the most recently admitted
  // requests are preempted (their blocks freed, their prompt and generated
  // tokens prefilled again on readmission, vLLM's recompute preemption).
  enum class CapacityPolicy { kGuaranteedNoEvict, kMaxUtilization };
  CapacityPolicy capacityPolicy = CapacityPolicy::kGuaranteedNoEvict;
  // Where the weights come from (qtc/rt/Artifact.h): the artifact's, or
  // generated (kDummy, for benchmarks of models whose weights cannot be
  // carried; the engine's outputs are then meaningless). create(path) opens
  // the artifact with it; create(artifact) needs an artifact opened alike.
  LoadFormat loadFormat = LoadFormat::kAuto;
  uint64_t dummyWeightSeed = 0; // kDummy: seeds the generated values
};

struct SamplingOptions {
  // Greedy: the largest logit, lowest id on ties (qtc/rt/GreedyArgmax.h).
  // The backend picks it where the logits are (on the GPU for cuda), so
  // only token ids leave it (unless a penalty is set: it then applies to
  // the logits first).
  bool greedy = true;
  // Used when !greedy, in vLLM's order (scheduler/Sampler.h): penalties,
  // logits / temperature, min-p, top-k, top-p, then a draw.
  float temperature = 1.0f;
  int topK = 0;       // the topK most likely tokens (0: all)
  float topP = 1.0f;  // the fewest most likely tokens holding topP of the probability
  float minP = 0.0f;  // tokens at least minP times as likely as the most likely
  // As vLLM defines them: tokens of the prompt or the output so far have
  // positive logits divided by repetitionPenalty and negative ones
  // multiplied; a token's logit loses presencePenalty if it is in the output
  // and frequencyPenalty per time it is. 1, 0, 0: off.
  float repetitionPenalty = 1.0f;
  float presencePenalty = 0.0f;
  float frequencyPenalty = 0.0f;
  // The draw for output token t of sequence i of a call (a request: i = 0)
  // depends only on (seed, i, t), so a request samples the same tokens
  // whatever else runs beside it.
  uint64_t seed = 0;
  bool hasPenalties() const {
    return repetitionPenalty != 1.0f || presencePenalty != 0.0f || frequencyPenalty != 0.0f;
  }
  // Whether token ids alone (the backend's argmax) decide the next token.
  bool argmaxOnly() const { return greedy && !hasPenalties(); }
};

struct GenerateOptions {
  int maxNewTokens = 32;
  SamplingOptions sampling;
  // Sequences per prompt (n in vLLM's SamplingParams): the prompt is
  // prefilled once and its samples share its KV blocks (forked, the partly
  // filled last block copied on first write). Sample j of prompt p is
  // sequence p * samplesPerPrompt + j of the call, for its sampler's seed and
  // in GenerateResult::tokens. Greedy samples are all equal.
  int samplesPerPrompt = 1;
  // Stop a sequence after it generates config.eos_token_id (kept in output).
  bool stopAtEos = true;
};

struct GenerateResult {
  // New tokens, per sequence: prompts.size() * samplesPerPrompt rows.
  std::vector<std::vector<int32_t>> tokens;
  int64_t promptTokens = 0;
  // Prompt tokens whose KV came from the prefix cache (not prefilled).
  int64_t cachedPromptTokens = 0;
  int64_t generatedTokens = 0;
  double prefillSeconds = 0;
  double decodeSeconds = 0;
  // Generated tokens over the whole call's time.
  double tokensPerSecond() const;
};

// Continuous batching (vLLM's add_request/step, TensorRT-LLM's in-flight
// batching). Requests are admitted first come first served under
// EngineOptions::capacityPolicy: by default once the KV pool can hold the
// prompt plus maxNewTokens on top of what the running requests may still
// need, so running requests never run out of blocks; or, with
// kMaxUtilization, as soon as the prompt fits, preempting the newest
// requests when the pool runs out. A request's tokens equal those of
// generate() on its prompt alone with the same options (its sampler is that
// of sequence 0 of such a call) whatever was preempted.
using RequestId = int64_t;

struct RequestOutput;

struct RequestOptions {
  int maxNewTokens = 32;
  SamplingOptions sampling;
  bool stopAtEos = true;
  // Finish (kStop) after generating one of these ids (kept in the tokens;
  // its text is not in newText).
  std::vector<int32_t> stopTokenIds;
  // Finish (kStop) when the output text contains one of these, across token
  // boundaries; the text up to it is emitted, it is not. Needs the tokenizer.
  std::vector<std::string> stopStrings;
  // Fill RequestOutput::newText (always on with stopStrings).
  bool detokenize = false;
  // >= 0: each token's log-probability under the model (log softmax of the
  // raw logits) and this many most likely alternatives (vLLM's logprobs).
  int logprobs = -1;
  // Called in step() with each of this request's outputs before it is
  // returned; false cancels the request (it finishes kAborted, its KV freed).
  std::function<bool(const RequestOutput &)> onToken;
};

enum class FinishReason { kNone, kLength, kEos, kAborted, kStop };
// "", "length", "eos", "aborted", "stop"
const char *finishReasonName(FinishReason reason);

struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0;
};

struct RequestOutput {
  RequestId id = 0;
  std::vector<int32_t> newTokens; // generated by this step (0 or 1 token)
  int64_t generatedTokens = 0;    // so far, this step's included
  int64_t cachedPromptTokens = 0; // prompt tokens that came from the prefix cache
  FinishReason finish = FinishReason::kNone;
  // With detokenize or stopStrings: the text this step adds (see
  // RequestOptions::stopStrings; some may be held back to a later step).
  std::string newText;
  // With logprobs >= 0: the new token's, and the most likely alternatives'.
  float logprob = 0;
  std::vector<TokenLogprob> topLogprobs;
  bool finished() const { return finish != FinishReason::kNone; }
};

struct ScoreOptions {
  bool keepLogits = false; // fill ScoreResult::logits
};

struct ScoreResult {
  // argmax[i]: the most likely token after ids[0..i], for every position.
  std::vector<int32_t> argmax;
  // logProbs[i] = log p(ids[i+1] | ids[0..i]), for the n-1 positions that have a next id.
  std::vector<float> logProbs;
  // [n, vocab] f32 logits, when asked for.
  std::vector<float> logits;
  double seconds = 0;
  double tokensPerSecond() const;
};

struct PerplexityOptions {
  // Non-overlapping windows from the start; in each, every token after the
  // first is predicted from those before it in the window.
  int window = 512;
  int64_t maxTokens = 0; // 0: all tokens
};

struct PerplexityResult {
  double perplexity = 0; // exp(meanNll)
  double meanNll = 0;
  int64_t predictedTokens = 0; // tokens whose probability was scored
  int64_t processedTokens = 0; // tokens run through the model
  int windows = 0;
  double seconds = 0;
  double tokensPerSecond() const;
};

class Engine {
public:
  ~Engine();
  Engine(const Engine &) = delete;
  Engine &operator=(const Engine &) = delete;

  // Loads and verifies the artifact, picks and prepares the backend, sizes
  // the KV pool and loads the tokenizer.
  static StatusOr<std::unique_ptr<Engine>> create(const std::string &artifactPath,
                                                  const EngineOptions &options = {});
  static StatusOr<std::unique_ptr<Engine>> create(std::unique_ptr<Artifact> artifact,
                                                  const EngineOptions &options = {});

  const Artifact &artifact() const { return *artifact_; }
  // "host" or "cuda".
  std::string backendName() const;
  // Why kAuto did not pick cuda; empty otherwise.
  const std::string &backendNote() const { return backendNote_; }
  int numKvBlocks() const;
  int numFreeKvBlocks() const;
  // What the KV cache's dtype did to the keys and values stored since
  // creation, per layer (host backend; empty on cuda): see Backend.h.
  std::vector<KvLayerNumerics> kvNumerics() const;
  // Blocks the prefix cache holds (0 without EngineOptions::prefixCaching),
  // and dropping them all.
  int numPrefixCachedBlocks() const;
  void clearPrefixCache();
  // Turns prefix caching on or off after creation (off drops the cache).
  void setPrefixCaching(bool enable);

  // Null when the artifact carries no tokenizer, or when SentencePiece could
  // not be loaded (tokenizerError() says why; encode/decode return it).
  const Tokenizer *tokenizer() const { return tokenizer_.get(); }
  const Status &tokenizerError() const { return tokenizerError_; }
  // [bos] + pieces.
  StatusOr<std::vector<int32_t>> encode(const std::string &text) const;
  StatusOr<std::string> decode(const std::vector<int32_t> &ids) const;

  // Continues every prompt (token ids, bos included) by up to maxNewTokens.
  StatusOr<GenerateResult> generate(const std::vector<std::vector<int32_t>> &prompts,
                                    const GenerateOptions &options);
  // Next-token argmax and log-probabilities along `ids` (one sequence).
  StatusOr<ScoreResult> score(const std::vector<int32_t> &ids, const ScoreOptions &options = {});
  StatusOr<PerplexityResult> perplexity(const std::vector<int32_t> &tokens,
                                        const PerplexityOptions &options = {});

  // Queues a request (token ids, bos included); it starts in a later step().
  // Errors: bad ids, prompt + maxNewTokens beyond the model's positions, or
  // more KV blocks than the whole pool holds.
  StatusOr<RequestId> addRequest(std::vector<int32_t> prompt, const RequestOptions &options);
  // One backend call: a token for every running request that finished its
  // prefill, then prefill (chunked to maxTokensPerCall) of running requests
  // and of waiting ones admitted now. Returns an output for every request
  // that got a token or finished; finished ones are gone after it. Nothing
  // to run returns no outputs. A failed call ends the requests it ran (their
  // ids are named in the error); the others go on.
  StatusOr<std::vector<RequestOutput>> step();
  // Ends a waiting or running request and frees its KV blocks.
  Status abortRequest(RequestId id);
  int numWaitingRequests() const;
  int numRunningRequests() const;
  int maxRunningRequests() const { return options_.maxRunningRequests; }
  // Requests preempted since creation (kMaxUtilization only).
  int64_t numPreemptions() const;
  // Applies from the next admission; running requests beyond it finish.
  Status setMaxRunningRequests(int count);
  // Applies from the next step (EngineOptions::capacityPolicy).
  void setCapacityPolicy(EngineOptions::CapacityPolicy policy) {
    options_.capacityPolicy = policy;
  }
  bool hasUnfinishedRequests() const { return numWaitingRequests() + numRunningRequests() > 0; }

private:
  struct Requests;
  Engine();
  // Admits waiting requests while the KV pool and maxRunningRequests allow.
  void admitRequests();
  // Ends a running request: its sequence is freed.
  void retireRequest(size_t runningIndex);
  // Frees a running request's blocks and queues it first among the waiting,
  // to prefill its prompt and generated tokens again.
  void preemptRequest(size_t runningIndex);
  // KV blocks that `chunks` need beyond what their sequences hold.
  int64_t blocksToAppend(const std::vector<SequenceChunk> &chunks) const;
  Status checkIds(const std::vector<int32_t> &ids, const char *what) const;
  Status checkSampling(const SamplingOptions &sampling, const char *what) const;
  // Whether `blocks` KV blocks are free, after evicting prefix-cached ones
  // no sequence uses if that is what it takes.
  bool makeRoom(int64_t blocks);
  // Reserves the KV of `chunks` (copying shared blocks first) and lays them
  // out as one backend call in `builder`.
  Status prepareChunks(const std::vector<SequenceChunk> &chunks, bool decodeOnly,
                       BatchBuilder &builder);
  // Runs one backend call over `chunks`; logits come back for the rows the
  // chunks ask for, in chunk order.
  Status runChunks(const std::vector<SequenceChunk> &chunks, bool decodeOnly, std::vector<float> &logits);
  // The same call, returning only each of those rows' greedy token.
  Status runChunksGreedy(const std::vector<SequenceChunk> &chunks, bool decodeOnly,
                         std::vector<int32_t> &ids);

  std::unique_ptr<Artifact> artifact_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<BlockAllocator> allocator_;
  std::unique_ptr<PrefixCache> prefixCache_; // after allocator_: released first
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<Requests> requests_;
  Status tokenizerError_;
  EngineOptions options_;
  std::string backendNote_;
};

} // namespace qtc::rt

#endif // QTC_RT_ENGINE_H
