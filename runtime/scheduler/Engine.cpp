//===- Engine.cpp - Loads an artifact and runs requests on a backend ------===//

#include "qtc/rt/Engine.h"

#include "kv/BlockAllocator.h"
#include "kv/PrefixCache.h"
#include "qtc/rt/Backend.h"
#include "qtc/rt/GreedyArgmax.h"
#include "qtc/rt/KvMemory.h"
#include "qtc/rt/Tokenizer.h"
#include "scheduler/BatchBuilder.h"
#include "scheduler/RequestQueue.h"
#include "scheduler/Sampler.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace qtc::rt {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double rate(double count, double seconds) { return seconds > 0 ? count / seconds : 0.0; }

// Frees the sequences a call created on every path out of it.
class SequenceScope {
public:
  explicit SequenceScope(BlockAllocator &allocator) : allocator_(allocator) {}
  ~SequenceScope() {
    for (BlockAllocator::SeqId seq : seqs_)
      if (allocator_.contains(seq))
        (void)allocator_.freeSequence(seq);
  }
  BlockAllocator::SeqId create() {
    seqs_.push_back(allocator_.createSequence());
    return seqs_.back();
  }
  StatusOr<BlockAllocator::SeqId> createFrom(const std::vector<int32_t> &blocks) {
    StatusOr<BlockAllocator::SeqId> seq = allocator_.createSequenceFrom(blocks);
    if (seq)
      seqs_.push_back(*seq);
    return seq;
  }
  StatusOr<BlockAllocator::SeqId> fork(BlockAllocator::SeqId parent) {
    StatusOr<BlockAllocator::SeqId> child = allocator_.fork(parent);
    if (child)
      seqs_.push_back(*child);
    return child;
  }

private:
  BlockAllocator &allocator_;
  std::vector<BlockAllocator::SeqId> seqs_;
};

uint64_t kvBytesPerBlock(const Artifact &artifact) { return kvBlockBytes(artifact.kvCache()); }

StatusOr<int> kvPoolBlocks(const Artifact &artifact, const EngineOptions &options) {
  const int blockSize = artifact.kvCache().block_size();
  const uint64_t perBlock = kvBytesPerBlock(artifact);
  const int64_t perSequence = (artifact.config().max_positions() + blockSize - 1) / blockSize;
  if (options.numKvBlocks < 0)
    return invalidArgument("numKvBlocks is negative");
  if (options.numKvBlocks > 0)
    return options.numKvBlocks;
  if (options.kvMemoryBytes > 0) {
    uint64_t blocks = options.kvMemoryBytes / perBlock;
    if (blocks == 0)
      return invalidArgument("a KV budget of " + std::to_string(options.kvMemoryBytes) +
                             " bytes holds no block (one takes " + std::to_string(perBlock) +
                             " bytes)");
    return static_cast<int>(std::min<uint64_t>(blocks, 1u << 30));
  }
  const uint64_t defaultBudget = uint64_t(1) << 30;
  int64_t blocks = std::min<int64_t>(8 * perSequence, defaultBudget / perBlock);
  return static_cast<int>(std::max<int64_t>(blocks, perSequence));
}

} // namespace

const char *backendKindName(BackendKind kind) {
  switch (kind) {
  case BackendKind::kAuto: return "auto";
  case BackendKind::kHost: return "host";
  case BackendKind::kCuda: return "cuda";
  }
  return "unknown";
}

StatusOr<BackendKind> parseBackendKind(std::string_view name) {
  if (name == "auto")
    return BackendKind::kAuto;
  if (name == "host")
    return BackendKind::kHost;
  if (name == "cuda")
    return BackendKind::kCuda;
  return invalidArgument("unknown backend '" + std::string(name) +
                         "' (expected auto, host or cuda)");
}

double GenerateResult::tokensPerSecond() const {
  return rate(static_cast<double>(generatedTokens), prefillSeconds + decodeSeconds);
}
double ScoreResult::tokensPerSecond() const {
  return rate(static_cast<double>(argmax.size()), seconds);
}
double PerplexityResult::tokensPerSecond() const {
  return rate(static_cast<double>(processedTokens), seconds);
}

Engine::Engine() = default;
Engine::~Engine() = default;

std::string Engine::backendName() const { return backend_->name(); }
int Engine::numKvBlocks() const { return allocator_->numBlocks(); }
int Engine::numFreeKvBlocks() const { return allocator_->numFreeBlocks(); }
std::vector<KvLayerNumerics> Engine::kvNumerics() const { return backend_->kvNumerics(); }
bool Engine::makeRoom(int64_t blocks) {
  if (blocks > allocator_->numFreeBlocks() && prefixCache_)
    prefixCache_->evict(static_cast<int>(blocks - allocator_->numFreeBlocks()));
  return blocks <= allocator_->numFreeBlocks();
}

int Engine::numPrefixCachedBlocks() const { return prefixCache_ ? prefixCache_->size() : 0; }
void Engine::setPrefixCaching(bool enable) {
  if (enable && !prefixCache_)
    prefixCache_ = std::make_unique<PrefixCache>(*allocator_);
  else if (!enable)
    prefixCache_.reset();
  options_.prefixCaching = enable;
}

void Engine::clearPrefixCache() {
  if (prefixCache_)
    prefixCache_->clear();
}

StatusOr<std::unique_ptr<Engine>> Engine::create(const std::string &artifactPath,
                                                 const EngineOptions &options) {
  LoadOptions load;
  load.format = options.loadFormat;
  load.dummySeed = options.dummyWeightSeed;
  StatusOr<std::unique_ptr<Artifact>> artifact = Artifact::open(artifactPath, load);
  if (!artifact)
    return artifact.status();
  return create(std::move(*artifact), options);
}

StatusOr<std::unique_ptr<Engine>> Engine::create(std::unique_ptr<Artifact> artifact,
                                                 const EngineOptions &options) {
  if (!artifact)
    return invalidArgument("Engine::create: no artifact");
  if (options.maxTokensPerCall <= 0)
    return invalidArgument("maxTokensPerCall must be positive");
  if (options.maxRunningRequests < 1)
    return invalidArgument("maxRunningRequests must be at least 1");
  if (options.loadFormat == LoadFormat::kDummy && !artifact->dummyWeights())
    return failedPrecondition(artifact->name() +
                              ": dummy weights asked for, but the artifact was opened with "
                              "its weights (open it with LoadFormat::kDummy)");
  std::unique_ptr<Engine> engine(new Engine());
  engine->options_ = options;
  engine->requests_ = std::make_unique<Requests>();
  engine->artifact_ = std::move(artifact);
  const Artifact &a = *engine->artifact_;

  StatusOr<int> blocks = kvPoolBlocks(a, options);
  if (!blocks)
    return blocks.status();
  BackendOptions backendOptions;
  backendOptions.maxTokensPerCall = options.maxTokensPerCall;
  backendOptions.numKvBlocks = *blocks;
  backendOptions.deviceOrdinal = options.deviceOrdinal;
  backendOptions.hostThreads = options.hostThreads;

  if (options.backend != BackendKind::kHost) {
    StatusOr<std::unique_ptr<Backend>> cuda = createCudaBackend();
    Status status = cuda ? (*cuda)->prepare(a, backendOptions) : cuda.status();
    if (status.isOk()) {
      engine->backend_ = std::move(*cuda);
    } else if (options.backend == BackendKind::kCuda) {
      return status.withContext("cuda backend");
    } else {
      engine->backendNote_ = "cuda backend not used: " + status.toString();
    }
  }
  if (!engine->backend_) {
    engine->backend_ = createHostBackend();
    QTC_RT_RETURN_IF_ERROR(engine->backend_->prepare(a, backendOptions).withContext("host backend"));
  }
  engine->allocator_ = std::make_unique<BlockAllocator>(*blocks, a.kvCache().block_size());
  if (options.prefixCaching)
    engine->prefixCache_ = std::make_unique<PrefixCache>(*engine->allocator_);

  if (!a.tokenizerModel().empty()) {
    auto tokenizer = Tokenizer::fromSerializedModel(a.tokenizerModel(), a.config().bos_token_id());
    if (tokenizer) {
      engine->tokenizer_ = std::move(*tokenizer);
    } else if (tokenizer.status().code() == StatusCode::kUnavailable) {
      // SentencePiece cannot run in this process (plugin missing): the
      // engine still serves token ids, and encode/decode say why not text.
      engine->tokenizerError_ = tokenizer.status().withContext(a.name());
    } else {
      return tokenizer.status().withContext(a.name()); // a damaged model
    }
  }
  return engine;
}

StatusOr<std::vector<int32_t>> Engine::encode(const std::string &text) const {
  if (!tokenizerError_.isOk())
    return tokenizerError_;
  if (!tokenizer_)
    return failedPrecondition(artifact_->name() + " carries no tokenizer; pass token ids");
  return tokenizer_->encode(text);
}

StatusOr<std::string> Engine::decode(const std::vector<int32_t> &ids) const {
  if (!tokenizerError_.isOk())
    return tokenizerError_;
  if (!tokenizer_)
    return failedPrecondition(artifact_->name() + " carries no tokenizer");
  return tokenizer_->decode(ids);
}

Status Engine::checkIds(const std::vector<int32_t> &ids, const char *what) const {
  const int vocab = artifact_->config().vocab_size();
  if (ids.empty())
    return invalidArgument(std::string(what) + " is empty");
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      return invalidArgument(std::string(what) + ": token " + std::to_string(i) + " has id " +
                             std::to_string(ids[i]) + " outside the vocabulary of " +
                             std::to_string(vocab));
  return Status::ok();
}

Status Engine::checkSampling(const SamplingOptions &sampling, const char *what) const {
  if (!sampling.greedy && (!(sampling.temperature > 0) || !std::isfinite(sampling.temperature)))
    return invalidArgument(std::string(what) + ": temperature must be positive");
  if (sampling.topK < 0)
    return invalidArgument(std::string(what) + ": topK is negative");
  if (!(sampling.topP > 0 && sampling.topP <= 1))
    return invalidArgument(std::string(what) + ": topP must be in (0, 1]");
  if (!(sampling.minP >= 0 && sampling.minP <= 1))
    return invalidArgument(std::string(what) + ": minP must be in [0, 1]");
  if (!(sampling.repetitionPenalty > 0) || !std::isfinite(sampling.repetitionPenalty))
    return invalidArgument(std::string(what) + ": repetitionPenalty must be positive");
  if (!std::isfinite(sampling.presencePenalty) || !std::isfinite(sampling.frequencyPenalty))
    return invalidArgument(std::string(what) + ": presence and frequency penalties must be finite");
  return Status::ok();
}

Status Engine::prepareChunks(const std::vector<SequenceChunk> &chunks, bool decodeOnly,
                             BatchBuilder &builder) {
  std::vector<std::pair<BlockAllocator::SeqId, int>> requests;
  requests.reserve(chunks.size());
  for (const SequenceChunk &chunk : chunks)
    requests.emplace_back(chunk.seq, chunk.count);
  StatusOr<std::vector<BlockCopy>> copies = allocator_->append(requests);
  if (!copies)
    return copies.status();
  for (const BlockCopy &copy : *copies)
    QTC_RT_RETURN_IF_ERROR(backend_->copyKvBlock(copy.src, copy.dst));
  builder.build(*allocator_, chunks, decodeOnly);
  return Status::ok();
}

Status Engine::runChunks(const std::vector<SequenceChunk> &chunks, bool decodeOnly,
                         std::vector<float> &logits) {
  BatchBuilder builder;
  QTC_RT_RETURN_IF_ERROR(prepareChunks(chunks, decodeOnly, builder));
  return backend_->forward(builder.view(), logits);
}

Status Engine::runChunksGreedy(const std::vector<SequenceChunk> &chunks, bool decodeOnly,
                               std::vector<int32_t> &ids) {
  BatchBuilder builder;
  QTC_RT_RETURN_IF_ERROR(prepareChunks(chunks, decodeOnly, builder));
  return backend_->forwardGreedy(builder.view(), ids);
}

StatusOr<GenerateResult> Engine::generate(const std::vector<std::vector<int32_t>> &prompts,
                                          const GenerateOptions &options) {
  const fb::ModelConfig &config = artifact_->config();
  const int vocab = config.vocab_size();
  if (prompts.empty())
    return invalidArgument("generate: no prompts");
  if (options.maxNewTokens < 0)
    return invalidArgument("generate: maxNewTokens is negative");
  if (options.samplesPerPrompt < 1)
    return invalidArgument("generate: samplesPerPrompt must be at least 1, got " +
                           std::to_string(options.samplesPerPrompt));
  QTC_RT_RETURN_IF_ERROR(checkSampling(options.sampling, "generate"));
  const size_t samples = static_cast<size_t>(options.samplesPerPrompt);
  const int blockSize = allocator_->blockSize();
  for (size_t p = 0; p < prompts.size(); ++p) {
    std::string what = "prompt " + std::to_string(p);
    QTC_RT_RETURN_IF_ERROR(checkIds(prompts[p], what.c_str()));
    // The last new token is returned, never fed back.
    const int64_t length =
        static_cast<int64_t>(prompts[p].size()) + std::max(0, options.maxNewTokens - 1);
    if (length > config.max_positions())
      return invalidArgument(what + " of " + std::to_string(prompts[p].size()) + " tokens plus " +
                             std::to_string(options.maxNewTokens) +
                             " new ones exceeds the model's " +
                             std::to_string(config.max_positions()) + " positions");
  }

  const size_t numSeqs = prompts.size() * samples;
  GenerateResult result;
  result.tokens.resize(numSeqs);
  if (options.maxNewTokens == 0)
    return result;

  // Sequence s is sample s % samples of prompt s / samples; each prompt's
  // first sample is prefilled (after what the prefix cache holds), the
  // others are forked from it afterwards.
  auto promptOf = [&](size_t s) -> const std::vector<int32_t> & { return prompts[s / samples]; };
  SequenceScope scope(*allocator_);
  std::vector<BlockAllocator::SeqId> seqs(numSeqs);
  std::vector<bool> created(prompts.size(), false);
  std::vector<int> cachedTokens(prompts.size(), 0);
  // Gives prompt p's first sequence the longest run of cached blocks that
  // starts the prompt (at least its last token is prefilled: its logits
  // start the output). Called before the prefill and again when the prompt
  // starts, when prompts finished earlier in this call may have left more;
  // nothing has been appended to the sequence before then.
  auto attachCached = [&](size_t p) -> Status {
    std::vector<int32_t> cached;
    if (prefixCache_)
      cached = prefixCache_->match(prompts[p], (static_cast<int>(prompts[p].size()) - 1) / blockSize);
    const int tokens = static_cast<int>(cached.size()) * blockSize;
    if (created[p] && tokens <= cachedTokens[p])
      return Status::ok();
    if (created[p])
      QTC_RT_RETURN_IF_ERROR(allocator_->freeSequence(seqs[p * samples]));
    if (cached.empty()) {
      seqs[p * samples] = scope.create();
    } else {
      StatusOr<BlockAllocator::SeqId> seq = scope.createFrom(cached);
      if (!seq)
        return seq.status();
      seqs[p * samples] = *seq;
    }
    created[p] = true;
    result.cachedPromptTokens += tokens - cachedTokens[p];
    cachedTokens[p] = tokens;
    return Status::ok();
  };
  int64_t blocksNeeded = 0;
  for (size_t p = 0; p < prompts.size(); ++p) {
    QTC_RT_RETURN_IF_ERROR(attachCached(p));
    // Samples share the prompt's full blocks and own the rest; the first
    // also shares what came from the cache.
    const int64_t length =
        static_cast<int64_t>(prompts[p].size()) + std::max(0, options.maxNewTokens - 1);
    const int64_t shared = static_cast<int64_t>(prompts[p].size()) / blockSize;
    blocksNeeded += allocator_->blocksFor(length) - cachedTokens[p] / blockSize +
                    static_cast<int64_t>(samples - 1) * (allocator_->blocksFor(length) - shared);
  }
  if (!makeRoom(blocksNeeded))
    return resourceExhausted("KV cache full: generating for " + std::to_string(prompts.size()) +
                             " prompts" +
                             (samples > 1 ? " x " + std::to_string(samples) + " samples" : "") +
                             " needs " + std::to_string(blocksNeeded) + " blocks, but " +
                             std::to_string(allocator_->numFreeBlocks()) + " of " +
                             std::to_string(allocator_->numBlocks()) + " are free");

  std::vector<Sampler> samplers;
  samplers.reserve(numSeqs);
  for (size_t s = 0; s < numSeqs; ++s)
    samplers.emplace_back(options.sampling, s);
  for (const std::vector<int32_t> &prompt : prompts)
    result.promptTokens += static_cast<int64_t>(prompt.size());
  std::vector<bool> live(numSeqs, true);
  // Greedy calls bring back token ids only (the backend takes the argmax
  // where the logits are); sampling needs the logits.
  const bool greedy = options.sampling.argmaxOnly();
  std::vector<float> logits;
  std::vector<int32_t> greedyIds;
  auto run = [&](const std::vector<SequenceChunk> &chunks, bool decodeOnly) {
    return greedy ? runChunksGreedy(chunks, decodeOnly, greedyIds)
                  : runChunks(chunks, decodeOnly, logits);
  };
  // Takes the token of row `row` of the last call for sequence `s`.
  auto accept = [&](size_t s, size_t row) {
    int32_t token = greedy ? greedyIds[row] : samplers[s].next(logits.data() + row * vocab, vocab,
                                                               prompts[s / samples], result.tokens[s]);
    result.tokens[s].push_back(token);
    ++result.generatedTokens;
    if (static_cast<int>(result.tokens[s].size()) >= options.maxNewTokens ||
        (options.stopAtEos && token == config.eos_token_id()))
      live[s] = false;
  };

  // With the prefix cache, a call ends before a prompt whose first block is
  // that of one already in it, so that it can reuse that one's blocks in the
  // next call.
  auto firstBlockShared = [&](size_t p, size_t q) {
    const std::vector<int32_t> &a = prompts[p], &b = prompts[q];
    return static_cast<int>(a.size()) > blockSize && static_cast<int>(b.size()) > blockSize &&
           std::equal(a.begin(), a.begin() + blockSize, b.begin());
  };

  // Prefill: prompts packed into calls of at most maxTokensPerCall tokens,
  // long prompts split across calls. A finished prompt's samples fork its
  // sequence and draw their first tokens from its last row.
  const int budget = options_.maxTokensPerCall;
  Clock::time_point start = Clock::now();
  size_t prompt = 0;
  bool fresh = true; // `prompt` has not started its prefill
  int offset = 0;
  while (prompt < prompts.size()) {
    std::vector<SequenceChunk> chunks;
    std::vector<size_t> finishing, inCall;
    int tokens = 0;
    while (prompt < prompts.size() && tokens < budget) {
      if (fresh && prefixCache_ && !inCall.empty()) {
        bool shares = false;
        for (size_t q : inCall)
          shares |= firstBlockShared(prompt, q);
        if (shares)
          break;
      }
      if (fresh) {
        if (prefixCache_)
          QTC_RT_RETURN_IF_ERROR(attachCached(prompt));
        offset = cachedTokens[prompt];
      }
      fresh = false;
      inCall.push_back(prompt);
      const int size = static_cast<int>(prompts[prompt].size());
      const int count = std::min(size - offset, budget - tokens);
      const bool last = offset + count == size;
      chunks.push_back({seqs[prompt * samples], prompts[prompt].data() + offset, count, offset,
                        last ? SequenceChunk::Logits::kLast : SequenceChunk::Logits::kNone});
      tokens += count;
      if (last) {
        finishing.push_back(prompt++);
        fresh = true;
      } else {
        offset += count;
      }
    }
    QTC_RT_RETURN_IF_ERROR(run(chunks, /*decodeOnly=*/false));
    for (size_t i = 0; i < finishing.size(); ++i) {
      const size_t first = finishing[i] * samples;
      if (prefixCache_) {
        const std::vector<int32_t> &tokens = prompts[finishing[i]];
        QTC_RT_RETURN_IF_ERROR(prefixCache_->insert(
            tokens, allocator_->blockTable(seqs[first]),
            static_cast<int>(tokens.size()) / blockSize));
      }
      for (size_t j = 0; j < samples; ++j) {
        if (j > 0) {
          StatusOr<BlockAllocator::SeqId> child = scope.fork(seqs[first]);
          if (!child)
            return child.status();
          seqs[first + j] = *child;
        }
        accept(first + j, i);
      }
    }
  }
  result.prefillSeconds = secondsSince(start);

  // Decode: one token per live sequence per step.
  start = Clock::now();
  while (true) {
    std::vector<size_t> active;
    for (size_t s = 0; s < numSeqs; ++s)
      if (live[s])
        active.push_back(s);
    if (active.empty())
      break;
    for (size_t first = 0; first < active.size(); first += budget) {
      const size_t last = std::min(active.size(), first + budget);
      std::vector<SequenceChunk> chunks;
      for (size_t i = first; i < last; ++i) {
        const size_t s = active[i];
        const int position = static_cast<int>(promptOf(s).size() + result.tokens[s].size()) - 1;
        chunks.push_back({seqs[s], &result.tokens[s].back(), 1, position,
                          SequenceChunk::Logits::kLast});
      }
      QTC_RT_RETURN_IF_ERROR(run(chunks, /*decodeOnly=*/true));
      for (size_t i = first; i < last; ++i)
        accept(active[i], i - first);
    }
  }
  result.decodeSeconds = secondsSince(start);
  return result;
}

StatusOr<ScoreResult> Engine::score(const std::vector<int32_t> &ids, const ScoreOptions &options) {
  const fb::ModelConfig &config = artifact_->config();
  const int vocab = config.vocab_size();
  QTC_RT_RETURN_IF_ERROR(checkIds(ids, "score input"));
  const int n = static_cast<int>(std::min<size_t>(ids.size(), INT32_MAX));
  if (ids.size() > static_cast<size_t>(config.max_positions()))
    return invalidArgument("score input of " + std::to_string(ids.size()) +
                           " tokens exceeds the model's " +
                           std::to_string(config.max_positions()) + " positions");
  if (!makeRoom(allocator_->blocksFor(n)))
    return resourceExhausted("KV cache full: scoring " + std::to_string(n) + " tokens needs " +
                             std::to_string(allocator_->blocksFor(n)) + " blocks, but " +
                             std::to_string(allocator_->numFreeBlocks()) + " are free");

  ScoreResult result;
  result.argmax.reserve(n);
  result.logProbs.reserve(n - 1);
  if (options.keepLogits)
    result.logits.reserve(static_cast<size_t>(n) * vocab);
  SequenceScope scope(*allocator_);
  const BlockAllocator::SeqId seq = scope.create();
  Clock::time_point start = Clock::now();
  std::vector<float> logits;
  for (int offset = 0; offset < n; offset += options_.maxTokensPerCall) {
    const int count = std::min(options_.maxTokensPerCall, n - offset);
    QTC_RT_RETURN_IF_ERROR(runChunks({{seq, ids.data() + offset, count, offset,
                                       SequenceChunk::Logits::kAll}},
                                     /*decodeOnly=*/false, logits));
    for (int i = 0; i < count; ++i) {
      const float *row = logits.data() + static_cast<size_t>(i) * vocab;
      const int position = offset + i;
      result.argmax.push_back(greedyArgmax(row, vocab));
      if (position + 1 < n)
        result.logProbs.push_back(
            static_cast<float>(logProbability(row, vocab, ids[position + 1])));
    }
    if (options.keepLogits)
      result.logits.insert(result.logits.end(), logits.begin(), logits.end());
  }
  result.seconds = secondsSince(start);
  return result;
}

StatusOr<PerplexityResult> Engine::perplexity(const std::vector<int32_t> &tokens,
                                              const PerplexityOptions &options) {
  const fb::ModelConfig &config = artifact_->config();
  const int vocab = config.vocab_size();
  if (options.window < 2 || options.window > config.max_positions())
    return invalidArgument("perplexity window " + std::to_string(options.window) +
                           " must be in [2, " + std::to_string(config.max_positions()) + "]");
  if (options.maxTokens < 0)
    return invalidArgument("perplexity: maxTokens is negative");
  const int64_t total = options.maxTokens > 0
                            ? std::min<int64_t>(options.maxTokens, tokens.size())
                            : static_cast<int64_t>(tokens.size());
  if (total < 2)
    return invalidArgument("perplexity needs at least 2 tokens");
  QTC_RT_RETURN_IF_ERROR(checkIds(std::vector<int32_t>(tokens.begin(), tokens.begin() + total),
                                  "perplexity input"));
  if (!makeRoom(allocator_->blocksFor(options.window)))
    return resourceExhausted("KV cache full: a window of " + std::to_string(options.window) +
                             " tokens needs " +
                             std::to_string(allocator_->blocksFor(options.window)) +
                             " blocks, but " + std::to_string(allocator_->numFreeBlocks()) +
                             " are free");

  struct Window {
    int64_t begin;
    int length;
  };
  std::vector<Window> windows;
  for (int64_t begin = 0; begin < total; begin += options.window) {
    const int length = static_cast<int>(std::min<int64_t>(options.window, total - begin));
    if (length >= 2) // a single token predicts nothing
      windows.push_back({begin, length});
  }

  PerplexityResult result;
  result.windows = static_cast<int>(windows.size());
  double nllSum = 0;
  SequenceScope scope(*allocator_);
  std::vector<BlockAllocator::SeqId> seqs(windows.size(), -1);
  const int budget = options_.maxTokensPerCall;
  Clock::time_point start = Clock::now();
  std::vector<float> logits;
  size_t window = 0;
  int offset = 0;
  while (window < windows.size()) {
    // Pack windows (or their remaining parts) while tokens and KV blocks last.
    std::vector<SequenceChunk> chunks;
    struct Rows {
      size_t window;
      int offset, count;
    };
    std::vector<Rows> rows;
    int tokensInCall = 0;
    int64_t freeBlocks = allocator_->numFreeBlocks();
    while (window < windows.size() && tokensInCall < budget) {
      const Window &w = windows[window];
      const int count = std::min(w.length - offset, budget - tokensInCall);
      const int64_t have = seqs[window] >= 0 ? allocator_->blockTable(seqs[window]).size() : 0;
      const int64_t need = allocator_->blocksFor(offset + count) - have;
      if (need > freeBlocks)
        break; // the next call has the blocks of the windows finished now
      freeBlocks -= need;
      if (seqs[window] < 0)
        seqs[window] = scope.create();
      chunks.push_back({seqs[window], tokens.data() + w.begin + offset, count, offset,
                        SequenceChunk::Logits::kAll});
      rows.push_back({window, offset, count});
      tokensInCall += count;
      if (offset + count == w.length) {
        ++window;
        offset = 0;
      } else {
        offset += count;
      }
    }
    if (chunks.empty())
      return internalError("perplexity: no KV blocks for the next window");
    QTC_RT_RETURN_IF_ERROR(runChunks(chunks, /*decodeOnly=*/false, logits));
    size_t row = 0;
    for (const Rows &r : rows) {
      const Window &w = windows[r.window];
      for (int i = 0; i < r.count; ++i, ++row) {
        const int position = r.offset + i;
        if (position + 1 >= w.length)
          continue;
        nllSum -= logProbability(logits.data() + row * vocab, vocab,
                                 tokens[w.begin + position + 1]);
        ++result.predictedTokens;
      }
      result.processedTokens += r.count;
      if (r.offset + r.count == w.length)
        QTC_RT_RETURN_IF_ERROR(allocator_->freeSequence(seqs[r.window]));
    }
  }
  result.seconds = secondsSince(start);
  result.meanNll = nllSum / static_cast<double>(result.predictedTokens);
  result.perplexity = std::exp(result.meanNll);
  return result;
}

} // namespace qtc::rt
