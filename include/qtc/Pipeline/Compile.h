//===- Compile.h - The ahead-of-time compile pipeline ---------------------===//
//
// import -> quantize (recipe) -> plan + kernels -> artifact. Used by the
// `qtc compile` CLI and by the JIT API (qtc/Pipeline/Jit.h).
//
//===----------------------------------------------------------------------===//
#ifndef QTC_PIPELINE_COMPILE_H
#define QTC_PIPELINE_COMPILE_H

#include "qtc/Artifact/ArtifactContents.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/LLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace qtc {

struct CompileOptions {
  std::string modelPath;      // .onnx file or Hugging Face checkpoint folder
  std::string outputPath;     // .qtc artifact
  std::string recipe = "fp16";
  // GPU targets to generate PTX for ("sm_90", "sm_80", ...). Empty: the
  // artifact runs on the host backend only.
  std::vector<std::string> targets = {"sm_90"};
  std::string tokenizerPath;  // default: tokenizer.model beside the model
  // When set, the per-layer numerics (SQNR, max error) are written here as
  // JSON besides being stored in the artifact.
  std::string numericsReportPath;
  // Progress lines (stage and layer) go here; null for quiet.
  llvm::raw_ostream *progress = nullptr;
};

// Registers every dialect the pipeline uses in `context`.
void loadPipelineDialects(mlir::MLIRContext &context);

// Runs the pipeline up to the artifact's contents (the JIT API serializes
// them in memory). Errors are emitted as diagnostics on `context`.
mlir::FailureOr<artifact::ArtifactContents>
compileToContents(mlir::MLIRContext &context, const CompileOptions &options);

// Writes contents.numerics as JSON: {recipe, producer, layers: [{name,
// format, sqnr_db, max_abs_error}]}.
mlir::LogicalResult writeNumericsReport(const artifact::ArtifactContents &contents,
                                        llvm::StringRef path, mlir::Location loc);

// Runs the whole pipeline and writes options.outputPath.
mlir::LogicalResult compileModel(mlir::MLIRContext &context,
                                 const CompileOptions &options);

} // namespace qtc

#endif // QTC_PIPELINE_COMPILE_H
