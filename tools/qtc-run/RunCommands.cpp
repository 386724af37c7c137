//===- RunCommands.cpp - What qtc-run does in each mode -------------------===//

#include "RunCommands.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <fstream>
#include <iostream>
#include <iterator>

namespace qtc::run {
namespace {

using nlohmann::json;
using rt::Status;
using rt::StatusOr;

struct TopLogits {
  std::vector<int32_t> ids;
  std::vector<float> logits;
};

// The k largest logits of each row of a [rows, vocab] matrix, largest first
// (ties: lower id first).
std::vector<TopLogits> topLogitsPerRow(const std::vector<float> &logits, int vocab, int k) {
  std::vector<TopLogits> out;
  k = std::min(k, vocab);
  std::vector<int32_t> order(vocab);
  for (size_t row = 0; vocab > 0 && (row + 1) * vocab <= logits.size(); ++row) {
    const float *x = logits.data() + row * vocab;
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int32_t a, int32_t b) { return x[a] > x[b] || (x[a] == x[b] && a < b); });
    TopLogits t;
    for (int i = 0; i < k; ++i) {
      t.ids.push_back(order[i]);
      t.logits.push_back(x[order[i]]);
    }
    out.push_back(std::move(t));
  }
  return out;
}

StatusOr<std::vector<int32_t>> readTokenFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return rt::notFound("cannot open token file '" + path + "'");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() % 4 != 0)
    return rt::invalidArgument("token file '" + path + "' has " + std::to_string(bytes.size()) +
                               " bytes, not a whole number of int32 tokens");
  std::vector<int32_t> tokens(bytes.size() / 4);
  for (size_t i = 0; i < tokens.size(); ++i) {
    const auto *b = reinterpret_cast<const unsigned char *>(bytes.data() + 4 * i);
    tokens[i] = static_cast<int32_t>(uint32_t(b[0]) | uint32_t(b[1]) << 8 |
                                     uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24);
  }
  return tokens;
}

} // namespace

void printJson(const json &object) {
  // Replace invalid UTF-8 (a partial multi-byte piece) rather than throw.
  std::cout << object.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
}

const char *weightsSource(const rt::Artifact &artifact) {
  if (artifact.dummyWeights())
    return "dummy";
  return artifact.weightsFilePath().empty() ? "artifact" : "file";
}

json baseJson(const rt::Engine &engine) {
  json out;
  out["backend"] = engine.backendName();
  if (!engine.backendNote().empty())
    out["backend_note"] = engine.backendNote();
  out["weights"] = weightsSource(engine.artifact());
  if (!engine.artifact().weightsFilePath().empty())
    out["weights_file"] = engine.artifact().weightsFilePath();
  return out;
}

void printBackend(const rt::Engine &engine) {
  std::cout << "backend: " << engine.backendName() << "\n";
  if (!engine.backendNote().empty())
    std::cout << "  (" << engine.backendNote() << ")\n";
  if (engine.artifact().dummyWeights())
    std::cout << "weights: dummy (generated; the tokens say nothing about the model)\n";
  else if (!engine.artifact().weightsFilePath().empty())
    std::cout << "weights: " << engine.artifact().weightsFilePath() << "\n";
}

static StatusOr<std::vector<int32_t>> promptIds(const rt::Engine &engine,
                                                const RunOptions &options) {
  if (options.promptIds)
    return *options.promptIds;
  return engine.encode(*options.prompt);
}

// Text of `ids`, or empty when the artifact has no tokenizer.
StatusOr<std::string> textOf(const rt::Engine &engine, const std::vector<int32_t> &ids) {
  if (!engine.tokenizer())
    return std::string();
  return engine.decode(ids);
}

Status printContinuation(const rt::Engine &engine, const std::vector<int32_t> &prompt,
                         const std::vector<int32_t> &tokens) {
  if (!engine.tokenizer()) {
    for (size_t t = 0; t < tokens.size(); ++t)
      std::cout << (t ? "," : "") << tokens[t];
    return Status::ok();
  }
  // Decoded with the prompt, so the first new piece keeps its space.
  std::vector<int32_t> all = prompt;
  all.insert(all.end(), tokens.begin(), tokens.end());
  StatusOr<std::string> text = engine.decode(all);
  if (!text)
    return text.status();
  std::cout << *text;
  return Status::ok();
}

// The prompts of a generate: --prompts-file's non-empty lines, each encoded,
// or the one prompt; then --batch copies of each.
StatusOr<std::vector<std::vector<int32_t>>> generatePrompts(const rt::Engine &engine,
                                                            const RunOptions &options) {
  std::vector<std::vector<int32_t>> prompts;
  if (!options.promptsFile.empty()) {
    std::ifstream in(options.promptsFile);
    if (!in)
      return rt::notFound("cannot open prompts file '" + options.promptsFile + "'");
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      if (line.empty())
        continue;
      StatusOr<std::vector<int32_t>> ids = engine.encode(line);
      if (!ids)
        return ids.status().withContext(options.promptsFile + ":" + std::to_string(number));
      prompts.push_back(std::move(*ids));
    }
    if (prompts.empty())
      return rt::invalidArgument("prompts file '" + options.promptsFile + "' has no prompt");
  } else {
    StatusOr<std::vector<int32_t>> prompt = promptIds(engine, options);
    if (!prompt)
      return prompt.status();
    prompts.push_back(std::move(*prompt));
  }
  std::vector<std::vector<int32_t>> copies;
  for (const std::vector<int32_t> &prompt : prompts)
    for (int b = 0; b < options.batch; ++b)
      copies.push_back(prompt);
  return copies;
}

Status runGenerate(rt::Engine &engine, const RunOptions &options) {
  StatusOr<std::vector<std::vector<int32_t>>> prompts = generatePrompts(engine, options);
  if (!prompts)
    return prompts.status();
  rt::GenerateOptions generate;
  generate.maxNewTokens = options.maxNewTokens;
  generate.sampling = options.sampling;
  generate.stopAtEos = !options.ignoreEos;
  generate.samplesPerPrompt = options.samples;
  StatusOr<rt::GenerateResult> result = engine.generate(*prompts, generate);
  if (!result)
    return result.status();
  // Sequence i continues prompt i / samples.
  auto promptOf = [&](size_t i) -> const std::vector<int32_t> & {
    return (*prompts)[i / static_cast<size_t>(options.samples)];
  };

  std::vector<std::string> texts;
  for (const std::vector<int32_t> &tokens : result->tokens) {
    StatusOr<std::string> text = textOf(engine, tokens);
    if (!text)
      return text.status();
    texts.push_back(*text);
  }
  // Tokens actually prefilled: those from the prefix cache took no time.
  const double prefillRate =
      result->prefillSeconds > 0
          ? (result->promptTokens - result->cachedPromptTokens) / result->prefillSeconds
          : 0.0;
  const double decodeRate =
      result->decodeSeconds > 0
          ? (result->generatedTokens - static_cast<int64_t>(result->tokens.size())) /
                result->decodeSeconds
          : 0.0;
  if (options.json) {
    json out = baseJson(engine);
    out["mode"] = "generate";
    out["prompt_ids"] = prompts->front();
    out["tokens"] = result->tokens[0];
    out["text"] = texts[0];
    out["batch"] = options.batch;
    out["samples"] = options.samples;
    out["prompts"] = prompts->size();
    json sequences = json::array();
    for (size_t i = 0; i < result->tokens.size(); ++i)
      sequences.push_back({{"prompt", i / static_cast<size_t>(options.samples)},
                           {"tokens", result->tokens[i]},
                           {"text", texts[i]}});
    out["sequences"] = sequences;
    out["generated_tokens"] = result->generatedTokens;
    out["cached_prompt_tokens"] = result->cachedPromptTokens;
    out["tokens_per_s"] = result->tokensPerSecond();
    out["prefill_tokens_per_s"] = prefillRate;
    out["decode_tokens_per_s"] = decodeRate;
    printJson(out);
    return Status::ok();
  }
  printBackend(engine);
  if (prompts->size() == 1)
    std::cout << "prompt: " << prompts->front().size() << " tokens";
  else
    std::cout << "prompts: " << prompts->size();
  if (options.batch > 1)
    std::cout << " (" << options.batch << " copies each)";
  if (options.samples > 1)
    std::cout << ", " << options.samples << " samples each (one prefill per prompt)";
  if (result->cachedPromptTokens > 0)
    std::cout << ", " << result->cachedPromptTokens << " prompt tokens from the prefix cache";
  std::cout << "\n";
  for (size_t i = 0; i < result->tokens.size(); ++i) {
    if (result->tokens.size() > 1)
      std::cout << "[" << i << "] ";
    QTC_RT_RETURN_IF_ERROR(printContinuation(engine, promptOf(i), result->tokens[i]));
    std::cout << "\n";
  }
  std::printf("generated %lld tokens in %.3f s: %.1f tokens/s (prefill %.1f tokens/s, "
              "decode %.1f tokens/s)\n",
              static_cast<long long>(result->generatedTokens),
              result->prefillSeconds + result->decodeSeconds, result->tokensPerSecond(),
              prefillRate, decodeRate);
  return Status::ok();
}

Status runScore(rt::Engine &engine, const RunOptions &options) {
  StatusOr<std::vector<int32_t>> ids = promptIds(engine, options);
  if (!ids)
    return ids.status();
  rt::ScoreOptions scoreOptions;
  scoreOptions.keepLogits = options.topLogits > 0;
  StatusOr<rt::ScoreResult> result = engine.score(*ids, scoreOptions);
  if (!result)
    return result.status();
  std::vector<TopLogits> top;
  if (options.topLogits > 0)
    top = topLogitsPerRow(result->logits, engine.artifact().config().vocab_size(),
                          options.topLogits);
  if (options.json) {
    json out = baseJson(engine);
    out["mode"] = "score";
    out["ids"] = *ids;
    out["argmax"] = result->argmax;
    out["logprobs"] = result->logProbs;
    if (!top.empty()) {
      json rows = json::array();
      for (const TopLogits &row : top)
        rows.push_back({{"ids", row.ids}, {"logits", row.logits}});
      out["top_logits"] = rows;
    }
    out["tokens_per_s"] = result->tokensPerSecond();
    printJson(out);
    return Status::ok();
  }
  printBackend(engine);
  std::printf("%8s %8s %8s %12s\n", "position", "id", "argmax", "logprob(next)");
  for (size_t i = 0; i < ids->size(); ++i) {
    std::printf("%8zu %8d %8d", i, (*ids)[i], result->argmax[i]);
    if (i < result->logProbs.size())
      std::printf(" %12.5f", result->logProbs[i]);
    for (size_t k = 0; i < top.size() && k < top[i].ids.size(); ++k)
      std::printf("  %d:%.4f", top[i].ids[k], top[i].logits[k]);
    std::printf("\n");
  }
  std::printf("scored %zu tokens in %.3f s: %.1f tokens/s\n", ids->size(), result->seconds,
              result->tokensPerSecond());
  return Status::ok();
}

Status runPerplexity(rt::Engine &engine, const RunOptions &options) {
  StatusOr<std::vector<int32_t>> tokens = readTokenFile(options.pplPath);
  if (!tokens)
    return tokens.status();
  rt::PerplexityOptions ppl;
  ppl.window = options.window;
  ppl.maxTokens = options.maxTokens;
  StatusOr<rt::PerplexityResult> result = engine.perplexity(*tokens, ppl);
  if (!result)
    return result.status();
  if (options.json) {
    json out = baseJson(engine);
    out["mode"] = "ppl";
    out["ppl"] = result->perplexity;
    out["mean_nll"] = result->meanNll;
    out["window"] = options.window;
    out["windows"] = result->windows;
    out["predicted_tokens"] = result->predictedTokens;
    out["processed_tokens"] = result->processedTokens;
    out["tokens_per_s"] = result->tokensPerSecond();
    // What the cache's dtype did to the keys and values (host backend).
    std::vector<rt::KvLayerNumerics> kv = engine.kvNumerics();
    if (!kv.empty()) {
      json layers = json::array();
      for (size_t l = 0; l < kv.size(); ++l)
        layers.push_back({{"layer", l},
                          {"key_sqnr_db", kv[l].keySqnrDb},
                          {"value_sqnr_db", kv[l].valueSqnrDb},
                          {"key_max_abs_error", kv[l].keyMaxAbsError},
                          {"value_max_abs_error", kv[l].valueMaxAbsError}});
      out["kv_dtype"] = rt::fb::EnumNameKvDType(engine.artifact().kvCache().dtype());
      out["kv_numerics"] = layers;
    }
    printJson(out);
    return Status::ok();
  }
  printBackend(engine);
  std::printf("perplexity %.4f (mean NLL %.5f) over %lld predicted tokens in %d windows of "
              "%d\n",
              result->perplexity, result->meanNll,
              static_cast<long long>(result->predictedTokens), result->windows, options.window);
  std::printf("processed %lld tokens in %.3f s: %.1f tokens/s\n",
              static_cast<long long>(result->processedTokens), result->seconds,
              result->tokensPerSecond());
  std::vector<rt::KvLayerNumerics> kv = engine.kvNumerics();
  if (!kv.empty()) {
    double key = INFINITY, value = INFINITY;
    for (const rt::KvLayerNumerics &layer : kv) {
      key = std::min(key, layer.keySqnrDb);
      value = std::min(value, layer.valueSqnrDb);
    }
    std::printf("kv cache %s: SQNR of the stored keys >= %.1f dB, values >= %.1f dB "
                "(%zu layers)\n",
                rt::fb::EnumNameKvDType(engine.artifact().kvCache().dtype()), key, value,
                kv.size());
  }
  return Status::ok();
}

} // namespace qtc::run
