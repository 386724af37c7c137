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
  QTC_FINISH_STOP = 4 /* a stop token or stop string (C++ RequestOptions) */
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
