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
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/LLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qtc {

struct CompileOptions {
  std::string modelPath;      // .onnx file or Hugging Face checkpoint folder
  std::string outputPath;     // .qtc artifact
  // When set, the weights section goes to this file instead of the
  // artifact, which names it relative to its own directory with its size and
  // XXH3-64 checksum. A file already there with the same bytes is not
  // rewritten, so a recompile that leaves the weights alone (another target,
  // a kernel change) writes the small .qtc file only.
  std::string weightsFilePath;
  // Write the plan, kernels and tensor table but no weight bytes (nor a
  // weights file): an artifact for qtc-run --load-format dummy, to measure
  // a model whose weights cannot be carried to the GPU machine. The recipe
  // still runs on the source's real weights (calibrated methods calibrate
  // as usual); only the writing of their bytes is skipped.
  bool dummyWeights = false;
  std::string recipe = "fp16";
  // GPU targets to generate PTX for ("sm_90", "sm_80", ...). Empty: the
  // artifact runs on the host backend only.
  std::vector<std::string> targets = {"sm_90"};
  std::string tokenizerPath;  // default: tokenizer.model beside the model
  // Calibration tokens (text or .bin ids) for recipes that calibrate; they
  // override the recipe's. Empty data: the recipe's, else data-free.
  std::string calibrationData;
  int64_t calibrationTokens = 0; // 0: the recipe's
  // When set, the per-layer numerics (SQNR, max error) are written here as
  // JSON besides being stored in the artifact.
  std::string numericsReportPath;
  // Apply MLIR's pass-manager command-line options (--mlir-print-ir-after-all,
  // --mlir-timing, ...) to the quantization pipeline; the caller must have
  // registered them (mlir::registerPassManagerCLOptions), as the qtc CLI does.
  bool passManagerCommandLine = false;
  // Progress lines (stage and layer) go here; null for quiet.
  llvm::raw_ostream *progress = nullptr;
  // Lowered kernels are reused from and stored in this folder
  // (lib/Pipeline/KernelCache.h); empty: no kernel cache. qtc compile
  // defaults it to KernelCache's default folder.
  std::string kernelCacheDir;
  // When set, receives each stage's wall time and memory (CompileStats).
  struct CompileStats *stats = nullptr;
};

// Wall time and memory of one stage of a compile.
struct StageStats {
  std::string name;
  double seconds = 0;
  uint64_t residentBytes = 0;     // resident set at the stage's end
  uint64_t peakResidentBytes = 0; // the process's peak so far (getrusage)
};

// What `qtc compile --stats` prints: the stages in order, and the whole.
struct CompileStats {
  std::vector<StageStats> stages;
  double seconds = 0;
  uint64_t peakResidentBytes = 0;
  // Kernels generated and taken from the kernel cache.
  int kernelsGenerated = 0, kernelsCached = 0;

  void print(llvm::raw_ostream &os) const;
  llvm::json::Value toJson() const;
};

// The kernel cache folder qtc compile uses unless told otherwise:
// $QTC_KERNEL_CACHE_DIR, else $XDG_CACHE_HOME/qtc/kernels, else
// ~/.cache/qtc/kernels; empty (no cache) when QTC_KERNEL_CACHE is 0 or off.
std::string defaultKernelCacheDirectory();

// Registers every dialect the pipeline uses in `context`.
void loadPipelineDialects(mlir::MLIRContext &context);

struct Recipe;

// Adds the quantization passes `recipe` asks for to `pm`, in order:
// qtc-fold-norms and qtc-rotate (rotations), qtc-calibrate (methods that need activation statistics), qtc-quantize-weights,
// the weight quantizer (qtc-rtn or qtc-gptq), qtc-quantize-kv-cache.
// `tokenizerPath` tokenizes text calibration data.
mlir::LogicalResult buildQuantizationPipeline(mlir::OpPassManager &pm,
                                              const Recipe &recipe,
                                              const CompileOptions &options,
                                              llvm::StringRef tokenizerPath);

// Runs the pipeline up to the artifact's contents (the JIT API serializes
// them in memory); their tensors view the compile's weight store, which
// contents.weightStorage keeps alive. Errors are emitted as diagnostics on
// `context`.
mlir::FailureOr<artifact::ArtifactContents>
compileToContents(mlir::MLIRContext &context, const CompileOptions &options);

// Writes contents.numerics as JSON: {recipe, producer, layers: [{name,
// format, sqnr_db, max_abs_error}]}.
mlir::LogicalResult writeNumericsReport(const artifact::ArtifactContents &contents,
                                        llvm::StringRef path, mlir::Location loc);

// Runs the whole pipeline and writes options.outputPath (and
// options.weightsFilePath).
mlir::LogicalResult compileModel(mlir::MLIRContext &context,
                                 const CompileOptions &options);

} // namespace qtc

#endif // QTC_PIPELINE_COMPILE_H
