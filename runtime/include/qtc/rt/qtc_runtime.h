/*===- qtc_runtime.h - C API of the qtc runtime ----------------------------===
 *
 * A C wrapper over qtc::rt::Engine (qtc/rt/Engine.h) for host applications
 * and other languages. Functions return QTC_OK or an error code; the message
 * of the calling thread's last error is qtc_last_error(). Engines are not
 * thread-safe; use one per thread or serialize calls.
 *
 *   qtc_engine_options options;
 *   qtc_engine_options_init(&options);
 *   qtc_engine *engine;
 *   if (qtc_engine_create("model.qtc", &options, &engine) != QTC_OK)
 *     fprintf(stderr, "%s\n", qtc_last_error());
 *
 *===----------------------------------------------------------------------===*/
#ifndef QTC_RUNTIME_H
#define QTC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define QTC_API __declspec(dllexport)
#else
#define QTC_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Mirrors qtc::rt::StatusCode. */
typedef enum qtc_status {
  QTC_OK = 0,
  QTC_INVALID_ARGUMENT = 1,
  QTC_DATA_LOSS = 2,
  QTC_NOT_FOUND = 3,
  QTC_RESOURCE_EXHAUSTED = 4,
  QTC_UNAVAILABLE = 5,
  QTC_FAILED_PRECONDITION = 6,
  QTC_INTERNAL = 7
} qtc_status;

typedef enum qtc_backend_kind {
  QTC_BACKEND_AUTO = 0,
  QTC_BACKEND_HOST = 1,
  QTC_BACKEND_CUDA = 2
} qtc_backend_kind;

/* Mirrors qtc::rt::LoadFormat: the artifact's weights, or generated ones
 * (for benchmarks of models whose weights cannot be carried). */
typedef enum qtc_load_format {
  QTC_LOAD_FORMAT_AUTO = 0,
  QTC_LOAD_FORMAT_DUMMY = 1
} qtc_load_format;

typedef struct qtc_engine qtc_engine;

typedef struct qtc_engine_options {
  qtc_backend_kind backend;
  int num_kv_blocks;        /* 0: from kv_memory_bytes */
  uint64_t kv_memory_bytes; /* 0: the engine's default */
  int max_tokens_per_call;
  int device_ordinal;
  int host_threads;         /* 0: up to 2 */
  qtc_load_format load_format;
  uint64_t dummy_weight_seed; /* QTC_LOAD_FORMAT_DUMMY: seeds the values */
} qtc_engine_options;

/* qtc::rt::SamplingOptions: fill with qtc_sampling_init, then set fields. */
typedef struct qtc_sampling {
  int greedy;               /* nonzero: argmax (after penalties, when set) */
  float temperature;
  int top_k;                /* 0: whole vocabulary */
  uint64_t seed;            /* token t of a request draws from (seed, t) only */
  float top_p;              /* 1: off */
  float min_p;              /* 0: off */
  float repetition_penalty; /* 1: off; as vLLM's */
  float presence_penalty;   /* 0: off */
  float frequency_penalty;  /* 0: off */
} qtc_sampling;

/* Fills the defaults of qtc::rt::EngineOptions / SamplingOptions. */
QTC_API void qtc_engine_options_init(qtc_engine_options *options);
QTC_API void qtc_sampling_init(qtc_sampling *sampling);

/* The message of this thread's last failed call ("" if none). */
QTC_API const char *qtc_last_error(void);

/* options may be NULL (defaults). On success *engine must be destroyed. */
QTC_API qtc_status qtc_engine_create(const char *artifact_path, const qtc_engine_options *options,
                                     qtc_engine **engine);
QTC_API void qtc_engine_destroy(qtc_engine *engine);
/* "host" or "cuda"; valid while the engine lives. */
QTC_API const char *qtc_engine_backend_name(const qtc_engine *engine);
QTC_API int qtc_engine_vocab_size(const qtc_engine *engine);

/* Continues num_prompts prompts (token ids, bos included) together by up to
 * max_new_tokens each. out_tokens holds num_prompts * max_new_tokens ids,
 * row p for prompt p; out_counts[p] receives how many row p holds. */
QTC_API qtc_status qtc_generate(qtc_engine *engine, const int32_t *const *prompts,
                                const int32_t *prompt_lengths, int num_prompts,
                                int max_new_tokens, const qtc_sampling *sampling,
                                int stop_at_eos, int32_t *out_tokens, int32_t *out_counts);

/* qtc_generate with samples_per_prompt sequences per prompt, prefilled once
 * (vLLM's n; see qtc::rt::GenerateOptions::samplesPerPrompt). out_tokens holds
 * num_prompts * samples_per_prompt * max_new_tokens ids: row p * samples + j
 * for sample j of prompt p, and out_counts as many counts. */
QTC_API qtc_status qtc_generate_samples(qtc_engine *engine, const int32_t *const *prompts,
                                        const int32_t *prompt_lengths, int num_prompts,
                                        int samples_per_prompt, int max_new_tokens,
                                        const qtc_sampling *sampling, int stop_at_eos,
                                        int32_t *out_tokens, int32_t *out_counts);

/* Turns automatic prefix caching on or off (off drops what is cached); see
 * qtc::rt::EngineOptions::prefixCaching. */
QTC_API qtc_status qtc_engine_set_prefix_caching(qtc_engine *engine, int enable);
/* KV blocks the prefix cache holds now. */
QTC_API int qtc_engine_prefix_cached_blocks(const qtc_engine *engine);

/* Continuous batching (qtc::rt::Engine::addRequest / step / abortRequest):
 * requests join and leave between steps; each step runs one backend call
 * over every running request. */
typedef int64_t qtc_request_id;

typedef enum qtc_finish_reason {
  QTC_FINISH_NONE = 0, /* still running */
  QTC_FINISH_LENGTH = 1,
  QTC_FINISH_EOS = 2,
  QTC_FINISH_ABORTED = 3,
  QTC_FINISH_STOP = 4 /* a stop token or stop string (qtc_request_options) */
} qtc_finish_reason;

typedef struct qtc_request_output {
  qtc_request_id id;
  int32_t token;             /* the token this step generated */
  qtc_finish_reason finish;  /* QTC_FINISH_NONE: more tokens follow */
  int64_t generated_tokens;  /* so far, this one included */
} qtc_request_output;

/* Queues a request (token ids, bos included); sampling may be NULL (greedy). */
QTC_API qtc_status qtc_add_request(qtc_engine *engine, const int32_t *prompt, int prompt_length,
                                   int max_new_tokens, const qtc_sampling *sampling,
                                   int stop_at_eos, qtc_request_id *out_id);
/* Runs one step. outputs must hold qtc_engine_max_running(engine) entries
 * (one per running request at most); *out_count receives how many it wrote. */
QTC_API qtc_status qtc_step(qtc_engine *engine, qtc_request_output *outputs, int capacity,
                            int *out_count);
/* Request options beyond qtc_add_request's arguments (qtc::rt::RequestOptions):
 * stop token ids, stop strings, text, logprobs and a per-token callback. The
 * object is opaque and set through functions, so options can be added
 * without changing the ABI; qtc_add_request_with_options copies it, so one
 * object may serve many requests and be destroyed after adding them.
 *
 *   qtc_request_options *request;
 *   qtc_request_options_create(&request);        (32 tokens, greedy, stop at eos)
 *   qtc_request_options_set_max_new_tokens(request, 64);
 *   const char *stops[] = {"\n\n"};
 *   qtc_request_options_set_stop_strings(request, stops, 1);
 *   qtc_request_options_set_logprobs(request, 5);
 *   qtc_add_request_with_options(engine, ids, n, request, &id);
 *   qtc_request_options_destroy(request);
 */
typedef struct qtc_request_options qtc_request_options;

/* One of the most likely tokens and its log-probability. */
typedef struct qtc_token_logprob {
  int32_t id;
  float logprob;
} qtc_token_logprob;

/* A request's output of one step, with what its options asked for: given
 * to the request's callback during qtc_step, and by qtc_step_output after
 * it. The library owns it; fields are only ever added at the end, and
 * struct_size (the library's sizeof) says which are there. */
typedef struct qtc_token_output {
  size_t struct_size;
  qtc_request_id id;
  int32_t token;            /* generated this step; -1: none */
  qtc_finish_reason finish; /* QTC_FINISH_NONE: more tokens follow */
  int64_t generated_tokens; /* so far, this one included */
  /* With detokenize or stop strings: the text this step adds (UTF-8, NUL-
   * terminated, text_length bytes). Text that may begin a stop string is
   * held back until it cannot; a stop string and what follows it, and the
   * text of a stop token, are never given. "" otherwise. */
  const char *text;
  size_t text_length;
  /* With logprobs >= 0: log softmax of the model's logits at the token, and
   * of the num_top_logprobs most likely tokens (most likely first, lower id
   * first on ties); num_top_logprobs 0 and top_logprobs NULL otherwise. */
  float logprob;
  int num_top_logprobs;
  const qtc_token_logprob *top_logprobs;
} qtc_token_output;

/* Called inside qtc_step with each output of the request it was set on,
 * before qtc_step returns; the output is valid during the call only.
 * Return nonzero to go on, 0 to cancel the request: it finishes with
 * QTC_FINISH_ABORTED in this step's outputs and its KV blocks are freed.
 * It must not call functions on the engine that runs it. */
typedef int (*qtc_token_callback)(const qtc_token_output *output, void *user_data);

/* Defaults (qtc::rt::RequestOptions'): 32 new tokens, greedy, stop at eos,
 * no stop tokens or strings, no text, no logprobs, no callback. */
QTC_API qtc_status qtc_request_options_create(qtc_request_options **out_options);
QTC_API void qtc_request_options_destroy(qtc_request_options *options);
QTC_API qtc_status qtc_request_options_set_max_new_tokens(qtc_request_options *options,
                                                          int max_new_tokens);
/* Copies *sampling; NULL: greedy. */
QTC_API qtc_status qtc_request_options_set_sampling(qtc_request_options *options,
                                                    const qtc_sampling *sampling);
QTC_API qtc_status qtc_request_options_set_stop_at_eos(qtc_request_options *options,
                                                       int stop_at_eos);
/* Replaces the stop token ids (count 0: none). The request finishes with
 * QTC_FINISH_STOP after generating one; the token is kept in its tokens. */
QTC_API qtc_status qtc_request_options_set_stop_token_ids(qtc_request_options *options,
                                                          const int32_t *ids, int count);
/* Replaces the stop strings (NUL-terminated UTF-8, none empty; count 0:
 * none). The request finishes with QTC_FINISH_STOP when its detokenized
 * output contains one, across token boundaries; needs the artifact's
 * tokenizer (qtc_add_request_with_options fails without one). */
QTC_API qtc_status qtc_request_options_set_stop_strings(qtc_request_options *options,
                                                        const char *const *strings, int count);
/* nonzero: fill qtc_token_output's text (always on with stop strings). */
QTC_API qtc_status qtc_request_options_set_detokenize(qtc_request_options *options,
                                                      int detokenize);
/* top >= 0: each token's log-probability and the top most likely tokens'
 * (vLLM's logprobs; at most the vocabulary's size); -1 (default): none. */
QTC_API qtc_status qtc_request_options_set_logprobs(qtc_request_options *options, int top);
/* NULL callback: none. user_data is passed to it as given. */
QTC_API qtc_status qtc_request_options_set_callback(qtc_request_options *options,
                                                    qtc_token_callback callback,
                                                    void *user_data);

/* qtc_add_request with the options of `options` (NULL: the defaults). */
QTC_API qtc_status qtc_add_request_with_options(qtc_engine *engine, const int32_t *prompt,
                                                int prompt_length,
                                                const qtc_request_options *options,
                                                qtc_request_id *out_id);

/* Output `index` of the last qtc_step, with its text and logprobs; NULL when
 * index is not below that step's count. Valid until the next qtc_step or
 * qtc_engine_destroy. */
QTC_API const qtc_token_output *qtc_step_output(const qtc_engine *engine, int index);

/* Ends a waiting or running request, freeing its KV blocks. */
QTC_API qtc_status qtc_abort_request(qtc_engine *engine, qtc_request_id id);
/* Requests waiting or running. */
QTC_API int qtc_engine_unfinished_requests(const qtc_engine *engine);
/* Requests running at once (default 64), and changing it (>= 1). */
QTC_API int qtc_engine_max_running(const qtc_engine *engine);
QTC_API qtc_status qtc_engine_set_max_running(qtc_engine *engine, int count);
/* nonzero: admit requests when their prompt fits and preempt the newest when
 * the KV cache runs out (recomputed later); 0 (default): admit only when the
 * prompt plus max_new_tokens fit. See qtc::rt::EngineOptions::capacityPolicy. */
QTC_API qtc_status qtc_engine_set_preemption(qtc_engine *engine, int enable);
/* Requests preempted since the engine was created. */
QTC_API int64_t qtc_engine_preemptions(const qtc_engine *engine);

/* KV cache blocks in the engine's pool, and those free now (blocks the
 * prefix cache holds count as used). */
QTC_API int qtc_engine_kv_blocks(const qtc_engine *engine);
QTC_API int qtc_engine_free_kv_blocks(const qtc_engine *engine);

/* Perplexity over the first max_tokens (0: all) of tokens in non-overlapping
 * windows of `window` tokens. */
QTC_API qtc_status qtc_perplexity(qtc_engine *engine, const int32_t *tokens, int64_t num_tokens,
                                  int window, int64_t max_tokens, double *out_perplexity);

/* For each of the n positions, the argmax next token (out_argmax[n]) and
 * log p(ids[i+1] | ids[..i]) (out_logprobs[n-1]; may be NULL). */
QTC_API qtc_status qtc_score(qtc_engine *engine, const int32_t *ids, int n, int32_t *out_argmax,
                             float *out_logprobs);

/* The f32 logits after each of the n positions: out_logits holds
 * n * qtc_engine_vocab_size(engine) floats, row i for position i. */
QTC_API qtc_status qtc_score_logits(qtc_engine *engine, const int32_t *ids, int n,
                                    float *out_logits);

/* Tokenizes text as [bos] + pieces into out_ids (capacity ids); *out_count
 * receives the number of ids, which may exceed capacity (then call again). */
QTC_API qtc_status qtc_encode(qtc_engine *engine, const char *text, int32_t *out_ids,
                              int capacity, int *out_count);

/* Detokenizes n ids into out_text (capacity bytes, NUL-terminated, cut to
 * fit); *out_length receives the text's full length in bytes, which may be
 * capacity or more (then call again with length + 1). */
QTC_API qtc_status qtc_decode(qtc_engine *engine, const int32_t *ids, int n, char *out_text,
                              size_t capacity, size_t *out_length);

/* The runtime library's version, "major.minor.patch". */
QTC_API const char *qtc_runtime_version(void);

#ifdef __cplusplus
}
#endif

#endif /* QTC_RUNTIME_H */
