//===- RunCommands.h - What qtc-run does in each mode ---------------------===//
#ifndef QTC_TOOLS_QTC_RUN_RUNCOMMANDS_H
#define QTC_TOOLS_QTC_RUN_RUNCOMMANDS_H

#include "RunOptions.h"

#include "qtc/rt/Engine.h"

namespace qtc::run {

// Each prints its result to stdout (human-readable or one JSON object).
rt::Status runGenerate(rt::Engine &engine, const RunOptions &options);
rt::Status runScore(rt::Engine &engine, const RunOptions &options);
rt::Status runPerplexity(rt::Engine &engine, const RunOptions &options);
// --info needs no backend: it reads the verified artifact only.
rt::Status runInfo(const rt::Artifact &artifact, const RunOptions &options);

} // namespace qtc::run

#endif // QTC_TOOLS_QTC_RUN_RUNCOMMANDS_H
