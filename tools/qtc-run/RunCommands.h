//===- RunCommands.h - What qtc-run does in each mode ---------------------===//
#ifndef QTC_TOOLS_QTC_RUN_RUNCOMMANDS_H
#define QTC_TOOLS_QTC_RUN_RUNCOMMANDS_H

#include "RunOptions.h"

#include "qtc/rt/Engine.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace qtc::run {

// Each prints its result to stdout (human-readable or one JSON object).
rt::Status runGenerate(rt::Engine &engine, const RunOptions &options);
rt::Status runScore(rt::Engine &engine, const RunOptions &options);
rt::Status runPerplexity(rt::Engine &engine, const RunOptions &options);
// --continuous: the prompts as requests through continuous batching
// (Engine::addRequest/step), arriving at --request-rate; reports per-request
// latencies beside throughput.
rt::Status runContinuous(rt::Engine &engine, const RunOptions &options);
// --info needs no backend: it reads the verified artifact only.
rt::Status runInfo(const rt::Artifact &artifact, const RunOptions &options);

// Shared by the commands.
// The prompts of a generate: --prompts-file's lines or the one prompt, each
// repeated --batch times.
rt::StatusOr<std::vector<std::vector<int32_t>>> generatePrompts(const rt::Engine &engine,
                                                                const RunOptions &options);
// Where the weights came from: "artifact" (its weights section), "file"
// (its weights file, Artifact::weightsFilePath) or "dummy" (generated).
const char *weightsSource(const rt::Artifact &artifact);
// The backend (and why auto did not pick cuda) and the weights' source as
// JSON fields or lines.
nlohmann::json baseJson(const rt::Engine &engine);
void printBackend(const rt::Engine &engine);
void printJson(const nlohmann::json &object);
// Prints `prompt` + `tokens` as text (decoded together), or the token ids
// when the artifact has no tokenizer; no newline.
rt::Status printContinuation(const rt::Engine &engine, const std::vector<int32_t> &prompt,
                             const std::vector<int32_t> &tokens);
// Text of `ids`, or empty when the artifact has no tokenizer.
rt::StatusOr<std::string> textOf(const rt::Engine &engine, const std::vector<int32_t> &ids);

} // namespace qtc::run

#endif // QTC_TOOLS_QTC_RUN_RUNCOMMANDS_H
