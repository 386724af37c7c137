//===- RunOptions.cpp - Command line of qtc-run ---------------------------===//

#include "RunOptions.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace qtc::run {
namespace {

using rt::invalidArgument;
using rt::Status;
using rt::StatusOr;

StatusOr<int64_t> parseInteger(const std::string &flag, const std::string &text, int64_t min,
                               int64_t max) {
  errno = 0;
  char *end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE || value < min || value > max)
    return invalidArgument(flag + " expects an integer in [" + std::to_string(min) + ", " +
                           std::to_string(max) + "], got '" + text + "'");
  return static_cast<int64_t>(value);
}

StatusOr<double> parseReal(const std::string &flag, const std::string &text) {
  char *end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(value))
    return invalidArgument(flag + " expects a number, got '" + text + "'");
  return value;
}

StatusOr<std::vector<int32_t>> parseIdList(const std::string &text) {
  std::vector<int32_t> ids;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos
                                                                      : comma - start);
    StatusOr<int64_t> id = parseInteger("--prompt-ids", item, 0, INT32_MAX);
    if (!id)
      return id.status();
    ids.push_back(static_cast<int32_t>(*id));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return ids;
}

} // namespace

const char *runUsage() {
  return R"(usage:
  qtc-run MODEL.qtc --prompt TEXT [-n N] [options]         generate from text
  qtc-run MODEL.qtc --prompt-ids 1,5,9 [-n N] [options]    generate from token ids
  qtc-run MODEL.qtc --prompts-file FILE [-n N] [options]   generate for every line of FILE together
  qtc-run MODEL.qtc --prompts-file FILE --continuous [--request-rate R] [options]
                                                           serve every line as a request
                                                           (continuous batching), with latencies
  qtc-run MODEL.qtc --prompt-ids 1,5,9 --score [options]   argmax and log-prob per position
  qtc-run MODEL.qtc --ppl TOKENS.bin [--window 512] [--max-tokens N] [options]
                                                           perplexity of int32 little-endian tokens
  qtc-run MODEL.qtc --info                                 what the artifact holds (config, plan,
                                                           kernels, per-layer numerics)

generation:
  -n, --max-new-tokens N   tokens to generate per sequence (default 32)
  --batch N                generate for N copies of the prompt together (default 1)
  --samples N              N sampled continuations of the prompt, prefilled once and
                           sharing its KV blocks (vLLM's n; needs --temperature)
  --greedy                 pick the most likely token (the default)
  --temperature T          sample from softmax(logits / T) instead
  --top-k K                sample among the K most likely tokens (default: all)
  --top-p P                sample among the fewest most likely tokens holding P of the
                           probability (default 1: all)
  --min-p P                drop tokens less than P times as likely as the most likely
  --repetition-penalty R   vLLM's: logits of prompt and output tokens divided by R (> 0)
                           or multiplied (< 0); also applies to greedy
  --presence-penalty X     subtract X from the logits of tokens in the output
  --frequency-penalty X    subtract X per occurrence in the output
  --seed S                 seed of the sampler (default 0)
  --ignore-eos             keep generating after the end-of-sequence token

continuous batching:
  --continuous             run the prompts as requests: each step decodes every running
                           request and prefills newly admitted ones; reports time to
                           first token, time per output token and latency per request
  --request-rate R         requests arrive as a Poisson process of R per second (seeded by
                           --seed; default: all at once)
  --max-running N          requests running at once, the rest wait (default 64)
  --preempt                admit requests when their prompt fits and preempt the newest
                           when the KV cache runs out (recomputed later), instead of
                           admitting only when prompt + -n tokens fit

engine:
  --backend auto|cuda|host backend to run on (default auto: cuda if available)
  --load-format auto|dummy weights: the artifact's (auto, the default; its weights file
                           when it has one), or generated at a trained model's scale
                           (dummy, as vLLM's: for speed measurements of models whose
                           weights are not here; outputs are meaningless, so --ppl and
                           --score are refused)
  --kv-blocks N            KV cache blocks (default: room for 8 full sequences)
  --prefix-cache           reuse the KV blocks of prompts that start alike (prefix caching)
  --max-tokens-per-call N  tokens per backend call (default 2048)
  --threads N              host backend threads (default: up to 2)

output:
  --top-logits K           with --score: the K largest logits at every position
  --json                   print one JSON object
  --help, --version
)";
}

StatusOr<RunOptions> parseRunOptions(int argc, char **argv) {
  RunOptions options;
  bool sawScore = false, sawGreedy = false, sawTemperature = false, sawN = false;
  bool sawMaxRunning = false, sawPreempt = false;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &arg = args[i];
    auto value = [&]() -> StatusOr<std::string> {
      if (i + 1 >= args.size())
        return invalidArgument(arg + " needs a value");
      return args[++i];
    };
    auto integer = [&](int64_t min, int64_t max) -> StatusOr<int64_t> {
      StatusOr<std::string> text = value();
      if (!text)
        return text.status();
      return parseInteger(arg, *text, min, max);
    };
#define QTC_TAKE(var, expr)                                                    \
  auto var = (expr);                                                           \
  if (!var)                                                                    \
    return var.status();

    if (arg == "--help" || arg == "-h") {
      options.help = true;
    } else if (arg == "--version") {
      options.version = true;
    } else if (arg == "--prompt") {
      QTC_TAKE(text, value());
      options.prompt = *text;
    } else if (arg == "--prompts-file") {
      QTC_TAKE(path, value());
      options.promptsFile = *path;
    } else if (arg == "--prefix-cache") {
      options.engine.prefixCaching = true;
    } else if (arg == "--prompt-ids") {
      QTC_TAKE(text, value());
      QTC_TAKE(ids, parseIdList(*text));
      options.promptIds = *ids;
    } else if (arg == "-n" || arg == "--max-new-tokens") {
      QTC_TAKE(n, integer(0, 1 << 20));
      options.maxNewTokens = static_cast<int>(*n);
      sawN = true;
    } else if (arg == "--batch") {
      QTC_TAKE(n, integer(1, 4096));
      options.batch = static_cast<int>(*n);
    } else if (arg == "--samples") {
      QTC_TAKE(n, integer(1, 4096));
      options.samples = static_cast<int>(*n);
    } else if (arg == "--continuous") {
      options.continuous = true;
    } else if (arg == "--request-rate") {
      QTC_TAKE(text, value());
      QTC_TAKE(r, parseReal(arg, *text));
      if (!(*r > 0))
        return invalidArgument("--request-rate must be positive");
      options.requestRate = *r;
    } else if (arg == "--preempt") {
      options.engine.capacityPolicy = rt::EngineOptions::CapacityPolicy::kMaxUtilization;
      sawPreempt = true;
    } else if (arg == "--max-running") {
      QTC_TAKE(n, integer(1, 1 << 20));
      options.engine.maxRunningRequests = static_cast<int>(*n);
      sawMaxRunning = true;
    } else if (arg == "--greedy") {
      sawGreedy = true;
    } else if (arg == "--temperature") {
      QTC_TAKE(text, value());
      QTC_TAKE(t, parseReal(arg, *text));
      if (*t <= 0)
        return invalidArgument("--temperature must be positive");
      options.sampling.temperature = static_cast<float>(*t);
      sawTemperature = true;
    } else if (arg == "--top-k") {
      QTC_TAKE(k, integer(0, INT32_MAX));
      options.sampling.topK = static_cast<int>(*k);
    } else if (arg == "--top-p" || arg == "--min-p" || arg == "--repetition-penalty" ||
               arg == "--presence-penalty" || arg == "--frequency-penalty") {
      // Ranges are the engine's to check (Engine::checkSampling).
      QTC_TAKE(text, value());
      QTC_TAKE(x, parseReal(arg, *text));
      const float f = static_cast<float>(*x);
      if (arg == "--top-p")
        options.sampling.topP = f;
      else if (arg == "--min-p")
        options.sampling.minP = f;
      else if (arg == "--repetition-penalty")
        options.sampling.repetitionPenalty = f;
      else if (arg == "--presence-penalty")
        options.sampling.presencePenalty = f;
      else
        options.sampling.frequencyPenalty = f;
    } else if (arg == "--seed") {
      QTC_TAKE(s, integer(0, INT64_MAX));
      options.sampling.seed = static_cast<uint64_t>(*s);
    } else if (arg == "--ignore-eos") {
      options.ignoreEos = true;
    } else if (arg == "--score") {
      sawScore = true;
    } else if (arg == "--top-logits") {
      QTC_TAKE(k, integer(1, 1 << 20));
      options.topLogits = static_cast<int>(*k);
    } else if (arg == "--info") {
      options.mode = Mode::kInfo;
    } else if (arg == "--ppl") {
      QTC_TAKE(path, value());
      options.pplPath = *path;
    } else if (arg == "--window") {
      QTC_TAKE(w, integer(2, 1 << 24));
      options.window = static_cast<int>(*w);
    } else if (arg == "--max-tokens") {
      QTC_TAKE(n, integer(0, INT64_MAX));
      options.maxTokens = *n;
    } else if (arg == "--backend") {
      QTC_TAKE(name, value());
      QTC_TAKE(kind, rt::parseBackendKind(*name));
      options.engine.backend = *kind;
    } else if (arg == "--load-format") {
      QTC_TAKE(name, value());
      QTC_TAKE(format, rt::parseLoadFormat(*name));
      options.engine.loadFormat = *format;
    } else if (arg == "--kv-blocks") {
      QTC_TAKE(n, integer(1, INT32_MAX));
      options.engine.numKvBlocks = static_cast<int>(*n);
    } else if (arg == "--max-tokens-per-call") {
      QTC_TAKE(n, integer(1, 1 << 20));
      options.engine.maxTokensPerCall = static_cast<int>(*n);
    } else if (arg == "--threads") {
      QTC_TAKE(n, integer(1, 256));
      options.engine.hostThreads = static_cast<int>(*n);
    } else if (arg == "--json") {
      options.json = true;
    } else if (!arg.empty() && arg[0] == '-') {
      return invalidArgument("unknown option '" + arg + "' (see --help)");
    } else if (options.artifactPath.empty()) {
      options.artifactPath = arg;
    } else {
      return invalidArgument("unexpected argument '" + arg + "': one artifact only");
    }
#undef QTC_TAKE
  }
  if (options.help || options.version)
    return options;

  if (options.artifactPath.empty())
    return invalidArgument("no artifact given (see --help)");
  if (options.mode == Mode::kInfo)
    return options;
  if (options.topLogits && !sawScore)
    return invalidArgument("--top-logits applies to --score only");
  if (sawGreedy && sawTemperature)
    return invalidArgument("--greedy and --temperature exclude each other");
  options.sampling.greedy = !sawTemperature;
  if (int(bool(options.prompt)) + int(bool(options.promptIds)) + int(!options.promptsFile.empty()) > 1)
    return invalidArgument("--prompt, --prompt-ids and --prompts-file exclude each other");
  const bool hasPrompt = options.prompt || options.promptIds || !options.promptsFile.empty();
  if (!options.promptsFile.empty() && sawScore)
    return invalidArgument("--score takes one prompt: --prompt or --prompt-ids");
  if (!options.pplPath.empty()) {
    if (hasPrompt || sawScore)
      return invalidArgument("--ppl takes no prompt and no --score");
    options.mode = Mode::kPerplexity;
  } else if (sawScore) {
    if (!hasPrompt)
      return invalidArgument("--score needs --prompt-ids or --prompt");
    if (sawN)
      return invalidArgument("--score generates nothing; drop -n");
    options.mode = Mode::kScore;
  } else {
    if (!hasPrompt)
      return invalidArgument(
          "nothing to do: give --prompt, --prompt-ids, --prompts-file or --ppl (see --help)");
    options.mode = Mode::kGenerate;
  }
  if (options.engine.loadFormat == rt::LoadFormat::kDummy &&
      (options.mode == Mode::kPerplexity || options.mode == Mode::kScore))
    return invalidArgument(std::string(options.mode == Mode::kPerplexity ? "--ppl" : "--score") +
                           " with --load-format dummy is meaningless: the weights are random");
  if (options.batch > 1 && options.mode != Mode::kGenerate)
    return invalidArgument("--batch applies to generation only");
  if (options.samples > 1 && options.mode != Mode::kGenerate)
    return invalidArgument("--samples applies to generation only");
  if ((options.requestRate > 0 || sawMaxRunning || sawPreempt) && !options.continuous)
    return invalidArgument("--request-rate, --max-running and --preempt apply to --continuous only");
  if (options.continuous && options.mode != Mode::kGenerate)
    return invalidArgument("--continuous applies to generation only");
  if (options.continuous && options.samples > 1)
    return invalidArgument("--continuous runs one sequence per request; drop --samples");
  if (options.continuous && options.maxNewTokens < 1)
    return invalidArgument("--continuous needs -n of at least 1");
  if (options.samples > 1 && options.sampling.greedy)
    return invalidArgument("--samples needs --temperature: greedy samples are all the same");
  return options;
}

} // namespace qtc::run
