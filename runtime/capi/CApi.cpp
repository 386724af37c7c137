//===- CApi.cpp - C API of the qtc runtime --------------------------------===//

#include "qtc/rt/qtc_runtime.h"

#include "qtc/rt/Engine.h"
#include "qtc/rt/Version.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <vector>

using namespace qtc::rt;

struct qtc_engine {
  std::unique_ptr<Engine> engine;
  std::string backendName;
  // The last qtc_step's outputs, for qtc_step_output: the C++ ones (which
  // own the text) and their C views.
  std::vector<RequestOutput> lastOutputs;
  std::vector<std::vector<qtc_token_logprob>> lastTopLogprobs;
  std::vector<qtc_token_output> lastViews;
};

struct qtc_request_options {
  RequestOptions options;
  qtc_token_callback callback = nullptr;
  void *userData = nullptr;
};

namespace {

thread_local std::string lastError;

qtc_status fail(const Status &status) {
  lastError = status.toString();
  return static_cast<qtc_status>(status.code());
}

qtc_status fail(qtc_status code, const char *message) {
  lastError = message;
  return code;
}

qtc_status succeed() {
  lastError.clear();
  return QTC_OK;
}

// No C++ exception may cross the C boundary: allocation failures and the
// like become error codes.
template <typename Body>
qtc_status guarded(Body &&body) {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return fail(QTC_RESOURCE_EXHAUSTED, "out of memory");
  } catch (const std::exception &error) {
    lastError = std::string("internal error: ") + error.what();
    return QTC_INTERNAL;
  }
}

// NULL: the defaults (greedy).
SamplingOptions samplingFrom(const qtc_sampling *sampling) {
  SamplingOptions options;
  if (sampling) {
    options.greedy = sampling->greedy != 0;
    options.temperature = sampling->temperature;
    options.topK = sampling->top_k;
    options.seed = sampling->seed;
    options.topP = sampling->top_p;
    options.minP = sampling->min_p;
    options.repetitionPenalty = sampling->repetition_penalty;
    options.presencePenalty = sampling->presence_penalty;
    options.frequencyPenalty = sampling->frequency_penalty;
  }
  return options;
}

qtc_finish_reason finishFrom(FinishReason reason) {
  switch (reason) {
  case FinishReason::kNone: return QTC_FINISH_NONE;
  case FinishReason::kLength: return QTC_FINISH_LENGTH;
  case FinishReason::kEos: return QTC_FINISH_EOS;
  case FinishReason::kAborted: return QTC_FINISH_ABORTED;
  case FinishReason::kStop: return QTC_FINISH_STOP;
  }
  return QTC_FINISH_NONE;
}

// The C view of `out`; it points into `out` and `top`, which must outlive it.
qtc_token_output viewOf(const RequestOutput &out, std::vector<qtc_token_logprob> &top) {
  top.clear();
  for (const TokenLogprob &t : out.topLogprobs)
    top.push_back({t.id, t.logprob});
  qtc_token_output view{};
  view.struct_size = sizeof(qtc_token_output);
  view.id = out.id;
  view.token = out.newTokens.empty() ? -1 : out.newTokens.back();
  view.finish = finishFrom(out.finish);
  view.generated_tokens = out.generatedTokens;
  view.text = out.newText.c_str();
  view.text_length = out.newText.size();
  view.logprob = out.logprob;
  view.num_top_logprobs = static_cast<int>(top.size());
  view.top_logprobs = top.empty() ? nullptr : top.data();
  return view;
}

StatusOr<RequestId> addRequest(qtc_engine *engine, const int32_t *prompt, int promptLength,
                               const qtc_request_options &request) {
  RequestOptions options = request.options;
  if (request.callback) {
    const qtc_token_callback callback = request.callback;
    void *const userData = request.userData;
    options.onToken = [callback, userData](const RequestOutput &out) {
      std::vector<qtc_token_logprob> top;
      const qtc_token_output view = viewOf(out, top);
      return callback(&view, userData) != 0;
    };
  }
  return engine->engine->addRequest(std::vector<int32_t>(prompt, prompt + promptLength), options);
}

} // namespace

extern "C" {

void qtc_engine_options_init(qtc_engine_options *options) {
  if (!options)
    return;
  EngineOptions defaults;
  options->backend = QTC_BACKEND_AUTO;
  options->num_kv_blocks = defaults.numKvBlocks;
  options->kv_memory_bytes = defaults.kvMemoryBytes;
  options->max_tokens_per_call = defaults.maxTokensPerCall;
  options->device_ordinal = defaults.deviceOrdinal;
  options->host_threads = defaults.hostThreads;
  options->load_format = QTC_LOAD_FORMAT_AUTO;
  options->dummy_weight_seed = defaults.dummyWeightSeed;
}

void qtc_sampling_init(qtc_sampling *sampling) {
  if (!sampling)
    return;
  SamplingOptions defaults;
  sampling->greedy = defaults.greedy ? 1 : 0;
  sampling->temperature = defaults.temperature;
  sampling->top_k = defaults.topK;
  sampling->seed = defaults.seed;
  sampling->top_p = defaults.topP;
  sampling->min_p = defaults.minP;
  sampling->repetition_penalty = defaults.repetitionPenalty;
  sampling->presence_penalty = defaults.presencePenalty;
  sampling->frequency_penalty = defaults.frequencyPenalty;
}

const char *qtc_last_error(void) { return lastError.c_str(); }

qtc_status qtc_engine_create(const char *artifact_path, const qtc_engine_options *options,
                             qtc_engine **engine) {
  return guarded([&] {
    if (!artifact_path || !engine)
      return fail(QTC_INVALID_ARGUMENT, "qtc_engine_create: null argument");
    *engine = nullptr;
    EngineOptions engineOptions;
    if (options) {
      switch (options->backend) {
      case QTC_BACKEND_AUTO: engineOptions.backend = BackendKind::kAuto; break;
      case QTC_BACKEND_HOST: engineOptions.backend = BackendKind::kHost; break;
      case QTC_BACKEND_CUDA: engineOptions.backend = BackendKind::kCuda; break;
      default: return fail(QTC_INVALID_ARGUMENT, "qtc_engine_create: unknown backend kind");
      }
      engineOptions.numKvBlocks = options->num_kv_blocks;
      engineOptions.kvMemoryBytes = options->kv_memory_bytes;
      engineOptions.maxTokensPerCall = options->max_tokens_per_call;
      engineOptions.deviceOrdinal = options->device_ordinal;
      engineOptions.hostThreads = options->host_threads;
      switch (options->load_format) {
      case QTC_LOAD_FORMAT_AUTO: engineOptions.loadFormat = LoadFormat::kAuto; break;
      case QTC_LOAD_FORMAT_DUMMY: engineOptions.loadFormat = LoadFormat::kDummy; break;
      default: return fail(QTC_INVALID_ARGUMENT, "qtc_engine_create: unknown load format");
      }
      engineOptions.dummyWeightSeed = options->dummy_weight_seed;
    }
    StatusOr<std::unique_ptr<Engine>> created = Engine::create(artifact_path, engineOptions);
    if (!created)
      return fail(created.status());
    auto *handle = new (std::nothrow) qtc_engine;
    if (!handle)
      return fail(QTC_RESOURCE_EXHAUSTED, "qtc_engine_create: out of memory");
    handle->engine = std::move(*created);
    handle->backendName = handle->engine->backendName();
    *engine = handle;
    return succeed();
  });
}

void qtc_engine_destroy(qtc_engine *engine) { delete engine; }

const char *qtc_engine_backend_name(const qtc_engine *engine) {
  return engine ? engine->backendName.c_str() : "";
}

int qtc_engine_vocab_size(const qtc_engine *engine) {
  return engine ? engine->engine->artifact().config().vocab_size() : 0;
}

qtc_status qtc_generate_samples(qtc_engine *engine, const int32_t *const *prompts,
                                const int32_t *prompt_lengths, int num_prompts,
                                int samples_per_prompt, int max_new_tokens,
                                const qtc_sampling *sampling, int stop_at_eos,
                                int32_t *out_tokens, int32_t *out_counts) {
  return guarded([&] {
    if (!engine || !prompts || !prompt_lengths || num_prompts <= 0 || !out_counts ||
        (max_new_tokens > 0 && !out_tokens))
      return fail(QTC_INVALID_ARGUMENT, "qtc_generate: null or empty argument");
    std::vector<std::vector<int32_t>> batch(num_prompts);
    for (int p = 0; p < num_prompts; ++p) {
      if (!prompts[p] || prompt_lengths[p] <= 0)
        return fail(QTC_INVALID_ARGUMENT, "qtc_generate: empty prompt");
      batch[p].assign(prompts[p], prompts[p] + prompt_lengths[p]);
    }
    GenerateOptions options;
    options.maxNewTokens = max_new_tokens;
    options.stopAtEos = stop_at_eos != 0;
    options.samplesPerPrompt = samples_per_prompt;
    options.sampling = samplingFrom(sampling);
    StatusOr<GenerateResult> result = engine->engine->generate(batch, options);
    if (!result)
      return fail(result.status());
    for (size_t row = 0; row < result->tokens.size(); ++row) {
      const std::vector<int32_t> &tokens = result->tokens[row];
      out_counts[row] = static_cast<int32_t>(tokens.size());
      if (!tokens.empty())
        std::memcpy(out_tokens + row * static_cast<size_t>(max_new_tokens), tokens.data(),
                    tokens.size() * sizeof(int32_t));
    }
    return succeed();
  });
}

qtc_status qtc_generate(qtc_engine *engine, const int32_t *const *prompts,
                        const int32_t *prompt_lengths, int num_prompts, int max_new_tokens,
                        const qtc_sampling *sampling, int stop_at_eos, int32_t *out_tokens,
                        int32_t *out_counts) {
  return qtc_generate_samples(engine, prompts, prompt_lengths, num_prompts, 1, max_new_tokens,
                              sampling, stop_at_eos, out_tokens, out_counts);
}

qtc_status qtc_engine_set_prefix_caching(qtc_engine *engine, int enable) {
  return guarded([&] {
    if (!engine)
      return fail(QTC_INVALID_ARGUMENT, "qtc_engine_set_prefix_caching: null engine");
    engine->engine->setPrefixCaching(enable != 0);
    return succeed();
  });
}

int qtc_engine_prefix_cached_blocks(const qtc_engine *engine) {
  return engine ? engine->engine->numPrefixCachedBlocks() : 0;
}

qtc_status qtc_add_request(qtc_engine *engine, const int32_t *prompt, int prompt_length,
                           int max_new_tokens, const qtc_sampling *sampling, int stop_at_eos,
                           qtc_request_id *out_id) {
  return guarded([&] {
    if (!engine || !prompt || prompt_length <= 0 || !out_id)
      return fail(QTC_INVALID_ARGUMENT, "qtc_add_request: null or empty argument");
    qtc_request_options request;
    request.options.maxNewTokens = max_new_tokens;
    request.options.stopAtEos = stop_at_eos != 0;
    request.options.sampling = samplingFrom(sampling);
    StatusOr<RequestId> id = addRequest(engine, prompt, prompt_length, request);
    if (!id)
      return fail(id.status());
    *out_id = *id;
    return succeed();
  });
}

qtc_status qtc_request_options_create(qtc_request_options **out_options) {
  return guarded([&] {
    if (!out_options)
      return fail(QTC_INVALID_ARGUMENT, "qtc_request_options_create: null argument");
    *out_options = new qtc_request_options;
    return succeed();
  });
}

void qtc_request_options_destroy(qtc_request_options *options) { delete options; }

qtc_status qtc_request_options_set_max_new_tokens(qtc_request_options *options,
                                                  int max_new_tokens) {
  if (!options)
    return fail(QTC_INVALID_ARGUMENT, "qtc_request_options_set_max_new_tokens: null options");
  if (max_new_tokens < 1)
    return fail(QTC_INVALID_ARGUMENT,
                "qtc_request_options_set_max_new_tokens: must be at least 1");
  options->options.maxNewTokens = max_new_tokens;
  return succeed();
}

qtc_status qtc_request_options_set_sampling(qtc_request_options *options,
                                            const qtc_sampling *sampling) {
  if (!options)
    return fail(QTC_INVALID_ARGUMENT, "qtc_request_options_set_sampling: null options");
  options->options.sampling = samplingFrom(sampling);
  return succeed();
}

qtc_status qtc_request_options_set_stop_at_eos(qtc_request_options *options, int stop_at_eos) {
  if (!options)
    return fail(QTC_INVALID_ARGUMENT, "qtc_request_options_set_stop_at_eos: null options");
  options->options.stopAtEos = stop_at_eos != 0;
  return succeed();
}

qtc_status qtc_request_options_set_stop_token_ids(qtc_request_options *options,
                                                  const int32_t *ids, int count) {
  return guarded([&] {
    if (!options || count < 0 || (count > 0 && !ids))
      return fail(QTC_INVALID_ARGUMENT, "qtc_request_options_set_stop_token_ids: null argument "
                                        "or negative count");
    options->options.stopTokenIds.assign(ids, ids + count);
    return succeed();
  });
}

qtc_status qtc_request_options_set_stop_strings(qtc_request_options *options,
                                                const char *const *strings, int count) {
  return guarded([&] {
    if (!options || count < 0 || (count > 0 && !strings))
      return fail(QTC_INVALID_ARGUMENT, "qtc_request_options_set_stop_strings: null argument "
                                        "or negative count");
    std::vector<std::string> stops;
    for (int i = 0; i < count; ++i) {
      if (!strings[i] || !*strings[i])
        return fail(QTC_INVALID_ARGUMENT, ("qtc_request_options_set_stop_strings: string " +
                                           std::to_string(i) + " is null or empty")
                                              .c_str());
      stops.emplace_back(strings[i]);
    }
    options->options.stopStrings = std::move(stops);
    return succeed();
  });
}

qtc_status qtc_request_options_set_detokenize(qtc_request_options *options, int detokenize) {
  if (!options)
    return fail(QTC_INVALID_ARGUMENT, "qtc_request_options_set_detokenize: null options");
  options->options.detokenize = detokenize != 0;
  return succeed();
}

qtc_status qtc_request_options_set_logprobs(qtc_request_options *options, int top) {
  if (!options)
    return fail(QTC_INVALID_ARGUMENT, "qtc_request_options_set_logprobs: null options");
  if (top < -1)
    return fail(QTC_INVALID_ARGUMENT,
                "qtc_request_options_set_logprobs: top must be -1 (off) or at least 0");
  options->options.logprobs = top;
  return succeed();
}

qtc_status qtc_request_options_set_callback(qtc_request_options *options,
                                            qtc_token_callback callback, void *user_data) {
  if (!options)
    return fail(QTC_INVALID_ARGUMENT, "qtc_request_options_set_callback: null options");
  options->callback = callback;
  options->userData = user_data;
  return succeed();
}

qtc_status qtc_add_request_with_options(qtc_engine *engine, const int32_t *prompt,
                                        int prompt_length, const qtc_request_options *options,
                                        qtc_request_id *out_id) {
  return guarded([&] {
    if (!engine || !prompt || prompt_length <= 0 || !out_id)
      return fail(QTC_INVALID_ARGUMENT, "qtc_add_request_with_options: null or empty argument");
    StatusOr<RequestId> id =
        addRequest(engine, prompt, prompt_length, options ? *options : qtc_request_options{});
    if (!id)
      return fail(id.status());
    *out_id = *id;
    return succeed();
  });
}

qtc_status qtc_step(qtc_engine *engine, qtc_request_output *outputs, int capacity,
                    int *out_count) {
  return guarded([&] {
    if (!engine || !outputs || !out_count)
      return fail(QTC_INVALID_ARGUMENT, "qtc_step: null argument");
    // Checked before the step, so that no output is ever dropped.
    if (capacity < engine->engine->maxRunningRequests())
      return fail(QTC_INVALID_ARGUMENT,
                  ("qtc_step: room for " + std::to_string(capacity) +
                   " outputs, but up to " +
                   std::to_string(engine->engine->maxRunningRequests()) +
                   " requests run at once (qtc_engine_max_running)")
                      .c_str());
    engine->lastOutputs.clear();
    engine->lastTopLogprobs.clear();
    engine->lastViews.clear();
    StatusOr<std::vector<RequestOutput>> result = engine->engine->step();
    if (!result)
      return fail(result.status());
    engine->lastOutputs = std::move(*result);
    const size_t count = engine->lastOutputs.size();
    engine->lastTopLogprobs.resize(count);
    for (size_t i = 0; i < count; ++i) {
      const RequestOutput &out = engine->lastOutputs[i];
      engine->lastViews.push_back(viewOf(out, engine->lastTopLogprobs[i]));
      outputs[i].id = out.id;
      outputs[i].token = engine->lastViews[i].token;
      outputs[i].finish = engine->lastViews[i].finish;
      outputs[i].generated_tokens = out.generatedTokens;
    }
    *out_count = static_cast<int>(count);
    return succeed();
  });
}

const qtc_token_output *qtc_step_output(const qtc_engine *engine, int index) {
  if (!engine || index < 0 || static_cast<size_t>(index) >= engine->lastViews.size())
    return nullptr;
  return &engine->lastViews[index];
}

qtc_status qtc_abort_request(qtc_engine *engine, qtc_request_id id) {
  return guarded([&] {
    if (!engine)
      return fail(QTC_INVALID_ARGUMENT, "qtc_abort_request: null engine");
    Status status = engine->engine->abortRequest(id);
    return status.isOk() ? succeed() : fail(status);
  });
}

int qtc_engine_unfinished_requests(const qtc_engine *engine) {
  return engine ? engine->engine->numWaitingRequests() + engine->engine->numRunningRequests() : 0;
}

int qtc_engine_max_running(const qtc_engine *engine) {
  return engine ? engine->engine->maxRunningRequests() : 0;
}

qtc_status qtc_engine_set_max_running(qtc_engine *engine, int count) {
  return guarded([&] {
    if (!engine)
      return fail(QTC_INVALID_ARGUMENT, "qtc_engine_set_max_running: null engine");
    Status status = engine->engine->setMaxRunningRequests(count);
    return status.isOk() ? succeed() : fail(status);
  });
}

qtc_status qtc_engine_set_preemption(qtc_engine *engine, int enable) {
  return guarded([&] {
    if (!engine)
      return fail(QTC_INVALID_ARGUMENT, "qtc_engine_set_preemption: null engine");
    engine->engine->setCapacityPolicy(enable ? EngineOptions::CapacityPolicy::kMaxUtilization
                                             : EngineOptions::CapacityPolicy::kGuaranteedNoEvict);
    return succeed();
  });
}

int64_t qtc_engine_preemptions(const qtc_engine *engine) {
  return engine ? engine->engine->numPreemptions() : 0;
}

int qtc_engine_kv_blocks(const qtc_engine *engine) {
  return engine ? engine->engine->numKvBlocks() : 0;
}

int qtc_engine_free_kv_blocks(const qtc_engine *engine) {
  return engine ? engine->engine->numFreeKvBlocks() : 0;
}

qtc_status qtc_perplexity(qtc_engine *engine, const int32_t *tokens, int64_t num_tokens,
                          int window, int64_t max_tokens, double *out_perplexity) {
  return guarded([&] {
    if (!engine || !tokens || num_tokens <= 0 || !out_perplexity)
      return fail(QTC_INVALID_ARGUMENT, "qtc_perplexity: null or empty argument");
    PerplexityOptions options;
    options.window = window;
    options.maxTokens = max_tokens;
    StatusOr<PerplexityResult> result =
        engine->engine->perplexity(std::vector<int32_t>(tokens, tokens + num_tokens), options);
    if (!result)
      return fail(result.status());
    *out_perplexity = result->perplexity;
    return succeed();
  });
}

qtc_status qtc_score(qtc_engine *engine, const int32_t *ids, int n, int32_t *out_argmax,
                     float *out_logprobs) {
  return guarded([&] {
    if (!engine || !ids || n <= 0 || !out_argmax)
      return fail(QTC_INVALID_ARGUMENT, "qtc_score: null or empty argument");
    StatusOr<ScoreResult> result = engine->engine->score(std::vector<int32_t>(ids, ids + n));
    if (!result)
      return fail(result.status());
    std::memcpy(out_argmax, result->argmax.data(), result->argmax.size() * sizeof(int32_t));
    if (out_logprobs && !result->logProbs.empty())
      std::memcpy(out_logprobs, result->logProbs.data(), result->logProbs.size() * sizeof(float));
    return succeed();
  });
}

qtc_status qtc_score_logits(qtc_engine *engine, const int32_t *ids, int n, float *out_logits) {
  return guarded([&] {
    if (!engine || !ids || n <= 0 || !out_logits)
      return fail(QTC_INVALID_ARGUMENT, "qtc_score_logits: null or empty argument");
    ScoreOptions options;
    options.keepLogits = true;
    StatusOr<ScoreResult> result =
        engine->engine->score(std::vector<int32_t>(ids, ids + n), options);
    if (!result)
      return fail(result.status());
    std::memcpy(out_logits, result->logits.data(), result->logits.size() * sizeof(float));
    return succeed();
  });
}

qtc_status qtc_encode(qtc_engine *engine, const char *text, int32_t *out_ids, int capacity,
                      int *out_count) {
  return guarded([&] {
    if (!engine || !text || !out_count || capacity < 0 || (capacity > 0 && !out_ids))
      return fail(QTC_INVALID_ARGUMENT, "qtc_encode: null argument");
    StatusOr<std::vector<int32_t>> ids = engine->engine->encode(text);
    if (!ids)
      return fail(ids.status());
    *out_count = static_cast<int>(ids->size());
    const size_t copied = std::min<size_t>(ids->size(), static_cast<size_t>(capacity));
    if (copied)
      std::memcpy(out_ids, ids->data(), copied * sizeof(int32_t));
    return succeed();
  });
}

qtc_status qtc_decode(qtc_engine *engine, const int32_t *ids, int n, char *out_text,
                      size_t capacity, size_t *out_length) {
  return guarded([&] {
    if (!engine || n < 0 || (n > 0 && !ids) || !out_length || (capacity > 0 && !out_text))
      return fail(QTC_INVALID_ARGUMENT, "qtc_decode: null argument");
    StatusOr<std::string> text = engine->engine->decode(std::vector<int32_t>(ids, ids + n));
    if (!text)
      return fail(text.status());
    *out_length = text->size();
    if (capacity > 0) {
      const size_t copied = std::min(text->size(), capacity - 1);
      std::memcpy(out_text, text->data(), copied);
      out_text[copied] = '\0';
    }
    return succeed();
  });
}

const char *qtc_runtime_version(void) { return runtimeVersion(); }

} // extern "C"
