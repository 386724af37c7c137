//===- Compile.cpp - The ahead-of-time compile pipeline -------------------===//

#include "qtc/Pipeline/Compile.h"

#include "KernelCache.h"
#include "KernelSelection.h"
#include "qtc/Artifact/ArtifactWriter.h"
#include "qtc/Chain/Plan.h"
#include "qtc/Import/Import.h"
#include "qtc/Pipeline/Recipe.h"
#include "qtc/Transforms/Passes.h"
#include "qtc/Transforms/WeightContext.h"

#include "dialects/chain/ChainOps.h"
#include "dialects/qnt/QntDialect.h"
#include "dialects/tfm/TfmOps.h"

#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Timer.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/resource.h>
#include <unistd.h>
#endif

using namespace mlir;

namespace qtc {

std::string defaultKernelCacheDirectory() { return KernelCache::defaultDirectory(); }

void loadPipelineDialects(MLIRContext &context) {
  registerImportDialects(context);
  context.loadDialect<tfm::TfmDialect, qnt::QntDialect, chain::ChainDialect>();
  loadCodegenDialects(context);
}

namespace {

// The resident set now and at its peak, in bytes (0 where unknown).
uint64_t residentBytes() {
#if defined(__linux__)
  if (FILE *f = std::fopen("/proc/self/statm", "r")) {
    unsigned long pages = 0, resident = 0;
    int n = std::fscanf(f, "%lu %lu", &pages, &resident);
    std::fclose(f);
    if (n == 2)
      return static_cast<uint64_t>(resident) * sysconf(_SC_PAGESIZE);
  }
#endif
  return 0;
}

uint64_t peakResidentBytes() {
#if defined(__unix__) || defined(__APPLE__)
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) == 0)
#if defined(__APPLE__)
    return static_cast<uint64_t>(usage.ru_maxrss);
#else
    return static_cast<uint64_t>(usage.ru_maxrss) * 1024;
#endif
#endif
  return 0;
}

// Stage lines with wall time and memory, for a person watching a terminal,
// and the same figures in CompileStats.
class Progress {
public:
  Progress(llvm::raw_ostream *os, CompileStats *stats, int stages)
      : os(os), stats(stats), stages(stages), begin(std::chrono::steady_clock::now()) {}
  void stage(StringRef name) {
    finish();
    current = name.str();
    if (os)
      *os << "[" << ++index << "/" << stages << "] " << name << "\n";
    start = std::chrono::steady_clock::now();
  }
  void finish() {
    if (current.empty())
      return;
    StageStats s;
    s.name = current;
    s.seconds = secondsSince(start);
    s.residentBytes = residentBytes();
    s.peakResidentBytes = peakResidentBytes();
    current.clear();
    if (os) {
      *os << llvm::format("      %.2f s, resident %.2f GB (peak %.2f GB)\n", s.seconds,
                          s.residentBytes / 1e9, s.peakResidentBytes / 1e9);
      os->flush();
    }
    if (stats) {
      stats->stages.push_back(std::move(s));
      stats->seconds = secondsSince(begin);
      stats->peakResidentBytes = peakResidentBytes();
    }
  }
  llvm::raw_ostream *stream() const { return os; }
  CompileStats *statistics() const { return stats; }

private:
  static double secondsSince(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }
  llvm::raw_ostream *os;
  CompileStats *stats;
  int stages;
  int index = 0;
  std::string current;
  std::chrono::steady_clock::time_point begin, start;
};

// The tokenizer the options name, else tokenizer.model beside the model;
// empty when there is none (the artifact then takes token ids only).
std::string findTokenizer(const CompileOptions &options) {
  if (!options.tokenizerPath.empty())
    return options.tokenizerPath;
  SmallString<256> guess(options.modelPath);
  if (!llvm::sys::fs::is_directory(guess))
    llvm::sys::path::remove_filename(guess);
  llvm::sys::path::append(guess, "tokenizer.model");
  return llvm::sys::fs::exists(guess) ? std::string(guess) : std::string();
}

LogicalResult readTokenizer(Location loc, StringRef path,
                            std::vector<uint8_t> &bytes) {
  if (path.empty())
    return success();
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return emitError(loc) << "cannot read tokenizer '" << path
                          << "': " << buffer.getError().message();
  StringRef data = (*buffer)->getBuffer();
  bytes.assign(data.begin(), data.end());
  return success();
}

} // namespace

LogicalResult buildQuantizationPipeline(OpPassManager &pm, const Recipe &recipe,
                                        const CompileOptions &options,
                                        StringRef tokenizerPath) {
  // Rotations change every linear's input: before calibration.
  if (recipe.rotation.foldNorms)
    pm.addPass(createFoldNorms());
  if (recipe.rotation.hadamard) {
    RotateOptions rotate;
    rotate.seed = recipe.rotation.seed;
    pm.addPass(createRotate(rotate));
  }
  if (recipe.needsCalibration()) {
    CalibrateOptions calibrate;
    calibrate.data = options.calibrationData.empty() ? recipe.calibration.data
                                                     : options.calibrationData;
    calibrate.tokenizer = tokenizerPath.str();
    calibrate.tokens = options.calibrationTokens > 0 ? options.calibrationTokens
                                                     : recipe.calibration.tokens;
    calibrate.seqLen = recipe.calibration.seqLen;
    calibrate.seed = recipe.calibration.seed;
    pm.addPass(createCalibrate(calibrate));
  }
  if (recipe.activations.smooth) {
    SmoothQuantOptions smooth;
    smooth.alpha = recipe.activations.alpha;
    pm.addPass(createSmoothQuant(smooth));
  }
  if (recipe.linear.format != WeightFormat::F16 &&
      recipe.linear.method == WeightMethod::Awq) {
    AwqOptions awq;
    awq.bits = recipe.linear.format == WeightFormat::Int3   ? 3
               : recipe.linear.format == WeightFormat::Int4 ? 4
                                                            : 8;
    awq.groupSize = recipe.linear.groupSize;
    awq.symmetric = recipe.linear.symmetric;
    awq.smallerGroups = recipe.linear.smallerGroups;
    awq.grid = recipe.linear.awq.grid;
    awq.clip = recipe.linear.awq.clip;
    pm.addPass(createAwq(awq));
  }
  if (recipe.linear.format != WeightFormat::F16) {
    QuantizeWeightsOptions quantize;
    quantize.format = weightFormatOption(recipe.linear.format).str();
    quantize.groupSize = recipe.linear.groupSize;
    quantize.symmetric = recipe.linear.symmetric;
    quantize.includeLmHead = recipe.quantizeLmHead;
    quantize.smallerGroups = recipe.linear.smallerGroups;
    pm.addPass(createQuantizeWeights(quantize));
    if (recipe.linear.method == WeightMethod::Gptq) {
      GptqOptions gptq;
      gptq.dampening = recipe.linear.gptq.dampening;
      gptq.blockSize = recipe.linear.gptq.blockSize;
      gptq.actOrder = recipe.linear.gptq.actOrder;
      pm.addPass(createGptq(gptq));
    } else {
      pm.addPass(createRoundToNearest());
    }
  }
  if (recipe.activations.format != ActivationFormat::None) {
    QuantizeActivationsOptions act;
    act.format = recipe.activations.format == ActivationFormat::Int8 ? "int8" : "fp8";
    pm.addPass(createQuantizeActivations(act));
  }
  if (recipe.kvCache.format != KvCacheFormat::F16) {
    const KvCacheRecipe &r = recipe.kvCache;
    QuantizeKvCacheOptions kv;
    kv.format = r.format == KvCacheFormat::Fp8E4M3 ? "f8e4m3"
                : r.format == KvCacheFormat::Int8  ? "i8"
                : r.format == KvCacheFormat::Int4  ? "i4"
                                                   : "i2";
    kv.blockSize = r.blockSize;
    kv.keyGranularity = r.keysPerChannel ? "per_channel" : "per_token";
    kv.keySymmetric = r.keySymmetric;
    kv.valueSymmetric = r.valueSymmetric;
    kv.residualWindow = r.residualWindow;
    kv.sinkTokens = r.sinkTokens;
    kv.fp8Scales = r.fp8Scales;
    pm.addPass(createQuantizeKvCache(kv));
  }
  return success();
}

namespace {

// The stages of a compile that writes its artifact; compileToContents runs
// all but the last.
constexpr int kCompileStages = 6;

FailureOr<artifact::ArtifactContents>
compileToContents(MLIRContext &context, const CompileOptions &options,
                  Progress &progress) {
  Location loc = FileLineColLoc::get(&context, options.modelPath, 0, 0);

  FailureOr<Recipe> recipe = resolveRecipe(loc, options.recipe);
  if (failed(recipe))
    return failure();
  // Refuse a target the recipe's kernels cannot run on before any work.
  std::string why;
  int minimumSm = recipe->minimumSm(&why);
  for (const std::string &target : options.targets) {
    int version = 0;
    StringRef digits = StringRef(target).drop_front(3);
    if (StringRef(target).starts_with("sm_") && !digits.getAsInteger(10, version) &&
        version < minimumSm)
      return emitError(loc) << "recipe '" << recipe->name << "' needs sm_" << minimumSm
                            << " or newer for " << why << "; target " << target
                            << " is older";
  }

  std::string tokenizerPath = findTokenizer(options);
  progress.stage("import " + options.modelPath);
  FailureOr<ImportedModel> model = importModel(context, options.modelPath);
  if (failed(model))
    return failure();

  // Shared with the contents, whose tensors view the packed bytes in it.
  auto store = std::make_shared<WeightStore>(std::move(model->weights));

  progress.stage("quantize (recipe " + recipe->name + ")");
  // Passes that read or compute weights reach them through the context.
  WeightContext weights(*store);
  weights.progress = options.progress;
  WeightContext::attach(&context, &weights);
  auto detach = llvm::make_scope_exit(
      [&] { WeightContext::attach(&context, nullptr); });
  PassManager pm(&context);
  if (options.passManagerCommandLine && failed(applyPassManagerCLOptions(pm)))
    return emitError(loc) << "cannot apply the pass-manager command-line options";
  if (failed(buildQuantizationPipeline(pm, *recipe, options, tokenizerPath)))
    return failure();
  if (failed(pm.run(*model->module)))
    return failure();

  progress.stage("plan: fuse kernel chains, lay out weights, assign slots");
  PassManager planPm(&context);
  if (options.passManagerCommandLine &&
      failed(applyPassManagerCLOptions(planPm)))
    return emitError(loc) << "cannot apply the pass-manager command-line options";
  buildPlanPipeline(planPm);
  if (failed(planPm.run(*model->module)))
    return failure();
  FailureOr<chain::PlanOp> plan = findPlan(*model->module);
  if (failed(plan))
    return failure();
  artifact::ArtifactContents contents;
  contents.weightStorage = store;
  contents.producer = std::string("qtc ") + QTC_VERSION;
  contents.recipe = recipe->name;
  std::vector<Operation *> stepOps;
  if (failed(translateToArtifact(*plan, *store, contents, &stepOps,
                                 progress.stream())))
    return failure();

  progress.stage("generate kernels for " +
                 (options.targets.empty()
                      ? std::string("no GPU target (host only)")
                      : llvm::join(options.targets, ",")));
  if (failed(generateKernels(context, loc, options.targets, contents, stepOps,
                             progress.stream(), progress.statistics(),
                             options.kernelCacheDir)))
    return failure();

  progress.stage("tokenizer and numerics");
  if (failed(readTokenizer(loc, tokenizerPath, contents.tokenizerModel)))
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

} // namespace

FailureOr<artifact::ArtifactContents>
compileToContents(MLIRContext &context, const CompileOptions &options) {
  Progress progress(options.progress, options.stats, kCompileStages - 1);
  return compileToContents(context, options, progress);
}

LogicalResult writeNumericsReport(const artifact::ArtifactContents &contents,
                                  StringRef path, Location loc) {
  llvm::json::Array layers;
  for (const artifact::LayerNumerics &n : contents.numerics)
  {
    llvm::json::Object layer{{"name", n.name},
                             {"format", n.format},
                             {"method", n.method},
                             {"sqnr_db", n.sqnrDb},
                             {"max_abs_error", n.maxAbsError},
                             {"bits", n.bits},
                             {"group_size", n.groupSize},
                             {"out_features", n.outFeatures},
                             {"in_features", n.inFeatures},
                             {"bytes", static_cast<int64_t>(n.bytes)}};
    if (!std::isnan(n.outputSqnrDb))
      layer["output_sqnr_db"] = n.outputSqnrDb;
    layers.push_back(std::move(layer));
  }
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
  Location loc = FileLineColLoc::get(&context, options.outputPath, 0, 0);
  // Refused before the work, not after it.
  if (options.dummyWeights && !options.weightsFilePath.empty())
    return emitError(loc) << "dummy weights are written nowhere: a weights file "
                             "and dummy weights exclude each other";
  Progress progress(options.progress, options.stats, kCompileStages);
  FailureOr<artifact::ArtifactContents> contents =
      compileToContents(context, options, progress);
  if (failed(contents))
    return failure();
  progress.stage(options.dummyWeights ? std::string("write the artifact (dummy weights)")
                                      : "pack weights (parallel chunks) and write " +
                                            (options.weightsFilePath.empty()
                                                 ? options.outputPath
                                                 : options.weightsFilePath));
  artifact::WriteOptions write;
  write.weightsFilePath = options.weightsFilePath;
  write.dummyWeights = options.dummyWeights;
  write.progress = options.progress;
  if (failed(artifact::writeArtifact(*contents, options.outputPath, loc, write)))
    return failure();
  if (!options.numericsReportPath.empty() &&
      failed(writeNumericsReport(*contents, options.numericsReportPath, loc)))
    return failure();
  progress.finish();
  if (options.progress)
    *options.progress << "wrote " << options.outputPath << "\n";
  return success();
}

void CompileStats::print(llvm::raw_ostream &os) const {
  os << "qtc compile: stage                                             wall s   RSS GB  peak GB\n";
  for (const StageStats &s : stages)
    os << llvm::format("  %-60.60s %7.2f %8.2f %8.2f\n", s.name.c_str(), s.seconds,
                       s.residentBytes / 1e9, s.peakResidentBytes / 1e9);
  os << llvm::format("  %-60s %7.2f %8s %8.2f\n", "total", seconds, "", peakResidentBytes / 1e9);
  os << "  kernels: " << kernelsGenerated << " generated, " << kernelsCached
     << " from the kernel cache\n";
}

llvm::json::Value CompileStats::toJson() const {
  llvm::json::Array list;
  for (const StageStats &s : stages)
    list.push_back(llvm::json::Object{{"name", s.name},
                                      {"seconds", s.seconds},
                                      {"resident_bytes", static_cast<int64_t>(s.residentBytes)},
                                      {"peak_resident_bytes",
                                       static_cast<int64_t>(s.peakResidentBytes)}});
  return llvm::json::Object{{"stages", std::move(list)},
                            {"seconds", seconds},
                            {"peak_resident_bytes", static_cast<int64_t>(peakResidentBytes)},
                            {"kernels_generated", kernelsGenerated},
                            {"kernels_cached", kernelsCached}};
}

} // namespace qtc
