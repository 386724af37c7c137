//===- Jit.h - Compile a model inside a host application ------------------===//
//
// The JIT API: compile a model in process and get a runtime Engine back,
// without an artifact file on disk.
//
//   qtc::JitOptions options;
//   options.recipe = "w4a16";
//   auto engine = qtc::jitCompile("path/to/checkpoint", options);
//   if (!engine) { log(engine.status().message()); }   // compiler diagnostics
//   auto ids = (*engine)->encode("In the beginning");   // [bos] + pieces
//   auto out = (*engine)->generate({*ids}, {});
//   auto text = (*engine)->decode(out->tokens[0]);
//
// The engine carries the model's tokenizer (tokenizer.model beside the model,
// or tokenizerPath). SentencePiece runs in a plugin with its own protobuf, so
// it coexists with the ONNX importer's protobuf in the same process
// (runtime/src/SentencePiecePluginAbi.h).
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
