/* serve-c: loads a .qtc artifact and serves one request per prompt through
 * continuous batching (qtc_add_request / qtc_step): the requests run
 * together, each step giving every running request its next token.
 *
 *   serve-c MODEL.qtc [-n N] [--backend host|cuda|auto] [--stop STR]...
 *           [--logprobs K] PROMPT...
 *
 * Requests carry qtc_request_options: the engine detokenizes their output,
 * and --stop ends a request where its text contains STR (matched across
 * token boundaries; the text stops before it). A per-token callback collects
 * each request's text as it is generated. Prints, per
 * request in the order given, "request I: id,id,...", its text and finish
 * reason, and with --logprobs each token's log-probability and the K most
 * likely tokens'; the ids compare with `qtc-run MODEL.qtc --prompt PROMPT
 * -n N`. */
#include "qtc/rt/qtc_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kMaxPrompts = 64, kMaxPromptIds = 4096, kMaxStops = 8 };

/* What the per-token callback keeps per request. */
typedef struct request_state {
  char *text; /* the text so far, NUL-terminated */
  size_t length;
} request_state;

static const char *finish_name(qtc_finish_reason reason) {
  switch (reason) {
  case QTC_FINISH_LENGTH: return "length";
  case QTC_FINISH_EOS: return "eos";
  case QTC_FINISH_ABORTED: return "aborted";
  case QTC_FINISH_STOP: return "stop";
  default: return "";
  }
}

/* Called inside qtc_step with each token of a request: collects the text
 * the token adds (a server would send it to its client here). */
static int on_token(const qtc_token_output *out, void *user_data) {
  request_state *state = user_data;
  if (out->text_length == 0)
    return 1;
  char *grown = realloc(state->text, state->length + out->text_length + 1);
  if (!grown)
    return 0; /* cancels the request */
  memcpy(grown + state->length, out->text, out->text_length);
  state->length += out->text_length;
  grown[state->length] = '\0';
  state->text = grown;
  return 1;
}

static int fail(const char *what) {
  fprintf(stderr, "%s: %s\n", what, qtc_last_error());
  return 1;
}

int main(int argc, char **argv) {
  const char *artifact = NULL;
  const char *prompts[kMaxPrompts];
  const char *stops[kMaxStops];
  int num_prompts = 0, num_stops = 0, max_new_tokens = 16, logprobs = -1;
  qtc_engine_options options;
  qtc_engine_options_init(&options);
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "-n") && i + 1 < argc) {
      max_new_tokens = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--stop") && i + 1 < argc && num_stops < kMaxStops) {
      stops[num_stops++] = argv[++i];
    } else if (!strcmp(argv[i], "--logprobs") && i + 1 < argc) {
      logprobs = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--backend") && i + 1 < argc) {
      const char *name = argv[++i];
      options.backend = !strcmp(name, "host")   ? QTC_BACKEND_HOST
                        : !strcmp(name, "cuda") ? QTC_BACKEND_CUDA
                                                : QTC_BACKEND_AUTO;
    } else if (!artifact) {
      artifact = argv[i];
    } else if (num_prompts < kMaxPrompts) {
      prompts[num_prompts++] = argv[i];
    }
  }
  if (!artifact || num_prompts == 0 || max_new_tokens <= 0) {
    fprintf(stderr, "usage: serve-c MODEL.qtc [-n N] [--backend host|cuda|auto] [--stop STR]... "
                    "[--logprobs K] PROMPT...\n");
    return 2;
  }

  qtc_engine *engine = NULL;
  if (qtc_engine_create(artifact, &options, &engine) != QTC_OK)
    return fail("qtc_engine_create");
  fprintf(stderr, "qtc runtime %s on %s\n", qtc_runtime_version(),
          qtc_engine_backend_name(engine));

  /* One options object serves every request (each gets its own callback
   * state); qtc_add_request_with_options copies it. The default sampling is
   * greedy, as qtc-run's. */
  qtc_request_options *request = NULL;
  if (qtc_request_options_create(&request) != QTC_OK ||
      qtc_request_options_set_max_new_tokens(request, max_new_tokens) != QTC_OK ||
      qtc_request_options_set_stop_strings(request, stops, num_stops) != QTC_OK ||
      qtc_request_options_set_detokenize(request, 1) != QTC_OK ||
      qtc_request_options_set_logprobs(request, logprobs) != QTC_OK)
    return fail("qtc_request_options");

  qtc_request_id ids[kMaxPrompts];
  request_state states[kMaxPrompts];
  qtc_finish_reason finish[kMaxPrompts];
  int32_t *tokens = calloc((size_t)num_prompts * max_new_tokens, sizeof(int32_t));
  float *token_logprobs = calloc((size_t)num_prompts * max_new_tokens, sizeof(float));
  /* The top alternatives of every token, logprobs of them per token. */
  const int top = logprobs > 0 ? logprobs : 0;
  qtc_token_logprob *tops = calloc((size_t)num_prompts * max_new_tokens * (top ? top : 1),
                                   sizeof(qtc_token_logprob));
  int counts[kMaxPrompts] = {0};
  static int32_t prompt_ids[kMaxPromptIds];
  for (int p = 0; p < num_prompts; ++p) {
    int n = 0;
    if (qtc_encode(engine, prompts[p], prompt_ids, kMaxPromptIds, &n) != QTC_OK)
      return fail("qtc_encode");
    if (n > kMaxPromptIds) {
      fprintf(stderr, "prompt %d is longer than %d tokens\n", p, kMaxPromptIds);
      return 1;
    }
    states[p] = (request_state){NULL, 0};
    finish[p] = QTC_FINISH_NONE;
    if (qtc_request_options_set_callback(request, on_token, &states[p]) != QTC_OK ||
        qtc_add_request_with_options(engine, prompt_ids, n, request, &ids[p]) != QTC_OK)
      return fail("qtc_add_request_with_options");
  }
  qtc_request_options_destroy(request);

  const int capacity = qtc_engine_max_running(engine);
  qtc_request_output *outputs = calloc((size_t)capacity, sizeof(qtc_request_output));
  int steps = 0;
  while (qtc_engine_unfinished_requests(engine) > 0) {
    int n = 0;
    if (qtc_step(engine, outputs, capacity, &n) != QTC_OK)
      return fail("qtc_step");
    ++steps;
    for (int i = 0; i < n; ++i) {
      /* The same output with its logprobs, valid until the next step. */
      const qtc_token_output *out = qtc_step_output(engine, i);
      for (int p = 0; p < num_prompts; ++p) {
        if (ids[p] != out->id || out->token < 0 || counts[p] >= max_new_tokens)
          continue;
        const int at = p * max_new_tokens + counts[p]++;
        tokens[at] = out->token;
        token_logprobs[at] = out->logprob;
        for (int k = 0; k < out->num_top_logprobs && k < top; ++k)
          tops[at * top + k] = out->top_logprobs[k];
        if (out->finish != QTC_FINISH_NONE)
          finish[p] = out->finish;
      }
    }
  }
  fprintf(stderr, "%d requests in %d steps\n", num_prompts, steps);

  for (int p = 0; p < num_prompts; ++p) {
    printf("request %d:", p);
    for (int i = 0; i < counts[p]; ++i)
      printf("%s%d", i ? "," : " ", tokens[p * max_new_tokens + i]);
    printf("\n  %s\n  finish: %s\n", states[p].text ? states[p].text : "", finish_name(finish[p]));
    for (int i = 0; logprobs >= 0 && i < counts[p]; ++i) {
      const int at = p * max_new_tokens + i;
      printf("  logprob %d: %d %.4f |", i, tokens[at], token_logprobs[at]);
      for (int k = 0; k < top; ++k)
        printf(" %d %.4f", tops[at * top + k].id, tops[at * top + k].logprob);
      printf("\n");
    }
    free(states[p].text);
  }
  free(tops);
  free(token_logprobs);
  free(outputs);
  free(tokens);
  qtc_engine_destroy(engine);
  return 0;
}
