//===- RunOptions.h - Command line of qtc-run -----------------------------===//
//
// A small hand-written parser: llvm::cl is not available to the runtime,
// which must build without LLVM, and the options are few.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_TOOLS_QTC_RUN_RUNOPTIONS_H
#define QTC_TOOLS_QTC_RUN_RUNOPTIONS_H

#include "qtc/rt/Engine.h"
#include "qtc/rt/Status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qtc::run {

enum class Mode { kGenerate, kScore, kPerplexity, kInfo };

struct RunOptions {
  bool help = false;
  bool version = false;
  std::string artifactPath;
  Mode mode = Mode::kGenerate;
  std::optional<std::string> prompt;
  std::optional<std::vector<int32_t>> promptIds;
  std::string promptsFile; // one prompt per line, generated for together
  int maxNewTokens = 32;
  int batch = 1;
  int samples = 1; // sequences per prompt, sharing its prefill
  // Requests through continuous batching instead of one generate call,
  // arriving as a Poisson process of this rate (0: all at once).
  bool continuous = false;
  double requestRate = 0;
  bool ignoreEos = false;
  rt::SamplingOptions sampling;
  std::string pplPath;
  int window = 512;
  int64_t maxTokens = 0;
  int topLogits = 0; // --score: the K largest logits per position
  bool json = false;
  rt::EngineOptions engine;
};

// Parses argv; an error names the offending flag.
rt::StatusOr<RunOptions> parseRunOptions(int argc, char **argv);
const char *runUsage();

} // namespace qtc::run

#endif // QTC_TOOLS_QTC_RUN_RUNOPTIONS_H
