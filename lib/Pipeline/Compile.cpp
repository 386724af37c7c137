//===- Compile.cpp - The ahead-of-time compile pipeline -------------------===//

#include "qtc/Pipeline/Compile.h"

#include "KernelSelection.h"
#include "qtc/Artifact/ArtifactWriter.h"
#include "qtc/Import/Import.h"
#include "qtc/Pipeline/PlanBuilder.h"
#include "qtc/Pipeline/Recipe.h"
#include "qtc/Transforms/Passes.h"

#include "dialects/qnt/QntDialect.h"
#include "dialects/tfm/TfmOps.h"

#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Timer.h"

#include <chrono>

using namespace mlir;

namespace qtc {

void loadPipelineDialects(MLIRContext &context) {
  registerImportDialects(context);
  context.loadDialect<tfm::TfmDialect, qnt::QntDialect>();
  loadCodegenDialects(context);
}

namespace {

// Stage lines with wall time, for a person watching a terminal.
class Progress {
public:
  explicit Progress(llvm::raw_ostream *os) : os(os) {}
  void stage(StringRef name) {
    finish();
    if (os)
      *os << "[" << ++index << "/5] " << name << "\n";
    start = std::chrono::steady_clock::now();
  }
  void finish() {
    if (!os || index == 0)
      return;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                             start)
                   .count();
    *os << llvm::format("      %.2f s\n", s);
    os->flush();
  }
  llvm::raw_ostream *stream() const { return os; }

private:
  llvm::raw_ostream *os;
  int index = 0;
  std::chrono::steady_clock::time_point start;
};

LogicalResult readTokenizer(Location loc, const CompileOptions &options,
                            std::vector<uint8_t> &bytes) {
  std::string path = options.tokenizerPath;
  if (path.empty()) {
    SmallString<256> guess(options.modelPath);
    if (!llvm::sys::fs::is_directory(guess))
      llvm::sys::path::remove_filename(guess);
    llvm::sys::path::append(guess, "tokenizer.model");
    if (!llvm::sys::fs::exists(guess))
      return success(); // artifacts without a tokenizer take token ids only
    path = std::string(guess);
  }
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return emitError(loc) << "cannot read tokenizer '" << path
                          << "': " << buffer.getError().message();
  StringRef data = (*buffer)->getBuffer();
  bytes.assign(data.begin(), data.end());
  return success();
}

} // namespace

FailureOr<artifact::ArtifactContents>
compileToContents(MLIRContext &context, const CompileOptions &options) {
  Location loc = FileLineColLoc::get(&context, options.modelPath, 0, 0);
  Progress progress(options.progress);

  FailureOr<Recipe> recipe = resolveRecipe(loc, options.recipe);
  if (failed(recipe))
    return failure();

  progress.stage("import " + options.modelPath);
  FailureOr<ImportedModel> model = importModel(context, options.modelPath);
  if (failed(model))
    return failure();

  progress.stage("quantize (recipe " + recipe->name + ")");
  if (recipe->linear.format != WeightFormat::F16) {
    QuantizeWeightsOptions quantize;
    quantize.format = "int4";
    quantize.groupSize = recipe->linear.groupSize;
    quantize.symmetric = recipe->linear.symmetric;
    quantize.includeLmHead = recipe->quantizeLmHead;
    quantize.smallerGroups = recipe->linear.smallerGroups;
    PassManager pm(&context);
    pm.addPass(createQuantizeWeights(quantize));
    if (failed(pm.run(*model->module)))
      return failure();
  }
  if (recipe->kvCache == KvCacheFormat::Fp8E4M3) {
    QuantizeKvCacheOptions kv;
    kv.format = "f8e4m3";
    PassManager pm(&context);
    pm.addPass(createQuantizeKvCache(kv));
    if (failed(pm.run(*model->module)))
      return failure();
  }

  auto models = model->module->getOps<tfm::ModelOp>();
  if (std::distance(models.begin(), models.end()) != 1)
    return emitError(loc) << "expected exactly one tfm.model after import";
  tfm::ModelOp modelOp = *models.begin();

  progress.stage("plan and pack weights");
  artifact::ArtifactContents contents;
  contents.producer = std::string("qtc ") + QTC_VERSION;
  contents.recipe = recipe->name;
  if (failed(buildPlan(modelOp, model->weights, contents, progress.stream())))
    return failure();

  progress.stage("generate kernels for " +
                 (options.targets.empty()
                      ? std::string("no GPU target (host only)")
                      : llvm::join(options.targets, ",")));
  if (failed(generateKernels(context, loc, options.targets, contents,
                             progress.stream())))
    return failure();

  progress.stage("tokenizer and numerics");
  if (failed(readTokenizer(loc, options, contents.tokenizerModel)))
    return failure();
  progress.finish();
  if (options.progress && !contents.numerics.empty()) {
    double worst = 1e30, sum = 0;
    for (const artifact::LayerNumerics &n : contents.numerics) {
      worst = std::min<double>(worst, n.sqnrDb);
      sum += n.sqnrDb;
    }
    *options.progress << llvm::format(
        "weights: %zu quantized layers, SQNR mean %.2f dB, min %.2f dB\n",
        contents.numerics.size(), sum / contents.numerics.size(), worst);
  }
  return contents;
}

LogicalResult writeNumericsReport(const artifact::ArtifactContents &contents,
                                  StringRef path, Location loc) {
  llvm::json::Array layers;
  for (const artifact::LayerNumerics &n : contents.numerics)
    layers.push_back(llvm::json::Object{{"name", n.name},
                                        {"format", n.format},
                                        {"sqnr_db", n.sqnrDb},
                                        {"max_abs_error", n.maxAbsError}});
  llvm::json::Object report{{"recipe", contents.recipe},
                            {"producer", contents.producer},
                            {"layers", std::move(layers)}};
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return emitError(loc) << "cannot write numerics report '" << path
                          << "': " << ec.message();
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(report))) << "\n";
  return success();
}

LogicalResult compileModel(MLIRContext &context, const CompileOptions &options) {
  FailureOr<artifact::ArtifactContents> contents =
      compileToContents(context, options);
  if (failed(contents))
    return failure();
  Location loc = FileLineColLoc::get(&context, options.outputPath, 0, 0);
  if (failed(artifact::writeArtifact(*contents, options.outputPath, loc)))
    return failure();
  if (!options.numericsReportPath.empty() &&
      failed(writeNumericsReport(*contents, options.numericsReportPath, loc)))
    return failure();
  if (options.progress)
    *options.progress << "wrote " << options.outputPath << "\n";
  return success();
}

} // namespace qtc
