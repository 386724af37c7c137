/* serve-c: loads a .qtc artifact and serves one request per prompt through
 * continuous batching (qtc_add_request / qtc_step): the requests run
 * together, each step giving every running request its next token.
 *
 *   serve-c MODEL.qtc [-n N] [--backend host|cuda|auto] PROMPT...
 *
 * Prints, per request in the order given, "request I: id,id,..." and its
 * text, to compare with `qtc-run MODEL.qtc --prompt PROMPT -n N`. */
#include "qtc/rt/qtc_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kMaxPrompts = 64, kMaxPromptIds = 4096 };

static int fail(const char *what) {
  fprintf(stderr, "%s: %s\n", what, qtc_last_error());
  return 1;
}

int main(int argc, char **argv) {
  const char *artifact = NULL;
  const char *prompts[kMaxPrompts];
  int num_prompts = 0, max_new_tokens = 16;
  qtc_engine_options options;
  qtc_engine_options_init(&options);
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "-n") && i + 1 < argc) {
      max_new_tokens = atoi(argv[++i]);
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
    fprintf(stderr, "usage: serve-c MODEL.qtc [-n N] [--backend host|cuda|auto] PROMPT...\n");
    return 2;
  }

  qtc_engine *engine = NULL;
  if (qtc_engine_create(artifact, &options, &engine) != QTC_OK)
    return fail("qtc_engine_create");
  fprintf(stderr, "qtc runtime %s on %s\n", qtc_runtime_version(),
          qtc_engine_backend_name(engine));

  qtc_request_id ids[kMaxPrompts];
  int32_t *tokens = calloc((size_t)num_prompts * max_new_tokens, sizeof(int32_t));
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
    /* NULL sampling: greedy, the same default as qtc-run. */
    if (qtc_add_request(engine, prompt_ids, n, max_new_tokens, NULL, 1, &ids[p]) != QTC_OK)
      return fail("qtc_add_request");
  }

  const int capacity = qtc_engine_max_running(engine);
  qtc_request_output *outputs = calloc((size_t)capacity, sizeof(qtc_request_output));
  int steps = 0;
  while (qtc_engine_unfinished_requests(engine) > 0) {
    int n = 0;
    if (qtc_step(engine, outputs, capacity, &n) != QTC_OK)
      return fail("qtc_step");
    ++steps;
    for (int i = 0; i < n; ++i) {
      for (int p = 0; p < num_prompts; ++p) {
        if (ids[p] == outputs[i].id && outputs[i].token >= 0 && counts[p] < max_new_tokens)
          tokens[p * max_new_tokens + counts[p]++] = outputs[i].token;
      }
    }
  }
  fprintf(stderr, "%d requests in %d steps\n", num_prompts, steps);

  char text[4096];
  for (int p = 0; p < num_prompts; ++p) {
    printf("request %d:", p);
    for (int i = 0; i < counts[p]; ++i)
      printf("%s%d", i ? "," : " ", tokens[p * max_new_tokens + i]);
    size_t length = 0;
    if (qtc_decode(engine, &tokens[p * max_new_tokens], counts[p], text, sizeof text, &length) !=
        QTC_OK)
      return fail("qtc_decode");
    printf("\n  %s\n", text);
  }
  free(outputs);
  free(tokens);
  qtc_engine_destroy(engine);
  return 0;
}
