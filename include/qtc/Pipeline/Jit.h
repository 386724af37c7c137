//===- Jit.h - Compile a model inside a host application ------------------===//
//
// The JIT API: compile a model in process and get a runtime Engine back,
// without an artifact file on disk.
//
//   qtc::JitOptions options;
//   options.recipe = "w4a16";
//   auto engine = qtc::jitCompile("path/to/checkpoint", options);
//   if (!engine) { log(engine.status().message()); }   // compiler diagnostics
//   auto out = (*engine)->generate({{1, 1016, 261, 2267}}, {});
//
// The engine takes and returns token ids: it has no tokenizer, because
// Debian's libsentencepiece embeds a protobuf runtime that clashes with the
// one the ONNX importer links into the same process. Tokenize with a
// separate Engine (qtc-run, the C API) or the host application's tokenizer.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_PIPELINE_JIT_H
#define QTC_PIPELINE_JIT_H

#include "qtc/rt/Engine.h"

#include <memory>
#include <string>
#include <vector>

namespace qtc {

struct JitOptions {
  std::string recipe = "fp16";
  // PTX targets; empty: no GPU kernels (the engine runs on the host backend).
  std::vector<std::string> targets = {"sm_90"};
  std::string tokenizerPath; // default: tokenizer.model beside the model
  rt::EngineOptions engine;
};

// Compiles `modelPath` (an .onnx file or a checkpoint folder) and loads the
// result. A compile error comes back as kInvalidArgument whose message holds
// every diagnostic with its location.
rt::StatusOr<std::unique_ptr<rt::Engine>> jitCompile(const std::string &modelPath,
                                                     const JitOptions &options);

} // namespace qtc

#endif // QTC_PIPELINE_JIT_H
