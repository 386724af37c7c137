//===- Jit.cpp - Compile a model inside a host application ----------------===//

#include "qtc/Pipeline/Jit.h"

#include "qtc/Artifact/ArtifactWriter.h"
#include "qtc/Pipeline/Compile.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

namespace qtc {

rt::StatusOr<std::unique_ptr<rt::Engine>>
jitCompile(const std::string &modelPath, const JitOptions &options) {
  mlir::MLIRContext context;
  loadPipelineDialects(context);
  // Collect diagnostics into the Status instead of printing them.
  std::string diagnostics;
  llvm::raw_string_ostream diagStream(diagnostics);
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    diagStream << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  });

  CompileOptions compile;
  compile.modelPath = modelPath;
  compile.recipe = options.recipe;
  compile.targets = options.targets;
  compile.tokenizerPath = options.tokenizerPath;
  mlir::FailureOr<artifact::ArtifactContents> contents =
      compileToContents(context, compile);
  if (mlir::failed(contents))
    return rt::invalidArgument("compiling " + modelPath + " failed:\n" +
                               diagnostics);

  std::string bytes;
  llvm::raw_string_ostream os(bytes);
  if (llvm::Error e = artifact::serializeArtifact(*contents, os))
    return rt::invalidArgument("compiling " + modelPath + " failed: " +
                               llvm::toString(std::move(e)));
  os.flush();
  auto artifact = rt::Artifact::fromBytes(
      std::vector<uint8_t>(bytes.begin(), bytes.end()), modelPath + " (jit)");
  if (!artifact)
    return artifact.status();
  return rt::Engine::create(std::move(*artifact), options.engine);
}

} // namespace qtc
