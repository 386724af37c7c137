//===- qtc.cpp - qtc's ahead-of-time compiler CLI -------------------------===//
//
//   qtc import MODEL                 print the imported tfm graph
//   qtc compile MODEL -o OUT.qtc     compile to an artifact
//     [--recipe fp16|w4a16|w4a16-asym|FILE.json] [--target sm_90[,sm_80]]
//     [--tokenizer tokenizer.model] [--calib FILE] [--calib-tokens N]
//     [--mlir-print-ir-after-all and the other pass-manager options]
//   qtc quant-report ART.qtc [--json] per-layer quantization of an artifact
//   qtc synth --config llama2-7b|llama3-8b|FILE.json -o DIR
//     [--dtype f16|bf16] [--shard-size 5GB] [--seed N] [--layers N] [--list]
//                                    a Hugging Face checkpoint of random weights
//
// MODEL is an .onnx file or a Hugging Face checkpoint folder.
//
//===----------------------------------------------------------------------===//

#include "QuantReport.h"
#include "qtc/Import/Import.h"
#include "qtc/Import/SyntheticCheckpoint.h"
#include "qtc/Pipeline/Compile.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

using namespace llvm;

// `qtc --help` lists these and the MLIR pass-manager options only; LLVM's
// global flags (backends, codegen tuning) are hidden, as mlir-opt and
// iree-compile hide theirs.
static cl::OptionCategory qtcCategory("qtc options");
static cl::OptionCategory mlirCategory(
    "Pass-manager and IR printing options (qtc compile)");

static cl::SubCommand importCmd("import", "Import a model and print its tfm graph");
static cl::SubCommand compileCmd("compile", "Compile a model to a .qtc artifact");
static cl::SubCommand reportCmd(
    "quant-report", "Per-layer quantization of an artifact: format, bits, "
                    "group, SQNR, max error, bytes");

static cl::SubCommand synthCmd(
    "synth", "Write a Hugging Face checkpoint of random weights at a preset's "
             "or a config.json's size");

static cl::opt<std::string> importModelPath(cl::Positional, cl::Required,
                                            cl::desc("MODEL"), cl::sub(importCmd), cl::cat(qtcCategory));

static cl::opt<std::string> reportArtifactPath(cl::Positional, cl::Required,
                                               cl::desc("ARTIFACT.qtc"),
                                               cl::sub(reportCmd), cl::cat(qtcCategory));
static cl::opt<bool> reportJson("json", cl::desc("Print the report as JSON"),
                                cl::sub(reportCmd), cl::cat(qtcCategory));
static cl::opt<std::string> reportPlot("plot", cl::value_desc("FILE.svg"),
                                       cl::desc("Also draw the per-layer SQNR as an SVG bar chart"),
                                       cl::sub(reportCmd), cl::cat(qtcCategory));

static cl::opt<std::string> compileModelPath(cl::Positional, cl::Required,
                                             cl::desc("MODEL"), cl::sub(compileCmd), cl::cat(qtcCategory));
static cl::opt<std::string> outputPath("o", cl::Required, cl::value_desc("OUT.qtc"),
                                       cl::desc("Artifact to write"),
                                       cl::sub(compileCmd), cl::cat(qtcCategory));
static cl::opt<std::string> weightsFile(
    "weights-file", cl::value_desc("OUT.weights"),
    cl::desc("Write the weights to this file instead of into the artifact, "
             "which names it (relative to its own folder) with its size and "
             "checksum; an existing file with the same weights is not "
             "rewritten"),
    cl::sub(compileCmd), cl::cat(qtcCategory));
static cl::opt<bool> dummyWeights(
    "dummy-weights",
    cl::desc("Write no weights at all: an artifact for qtc-run --load-format "
             "dummy (speed measurements of models whose weights stay here)"),
    cl::sub(compileCmd), cl::cat(qtcCategory));
static cl::opt<std::string>
    recipe("recipe", cl::init("fp16"),
           cl::desc("Quantization recipe: fp16, w4a16, w4a16-asym or a .json file"),
           cl::sub(compileCmd), cl::cat(qtcCategory));
static cl::opt<std::string>
    targets("target", cl::init("sm_90"),
            cl::desc("Comma-separated GPU targets (sm_80, sm_90, ...), or "
                     "'host' for an artifact without GPU kernels"),
            cl::sub(compileCmd), cl::cat(qtcCategory));
static cl::opt<std::string>
    tokenizer("tokenizer", cl::desc("SentencePiece tokenizer.model (default: "
                                    "tokenizer.model beside the model)"),
              cl::sub(compileCmd), cl::cat(qtcCategory));
static cl::opt<std::string> numericsReport(
    "numerics-report", cl::value_desc("FILE.json"),
    cl::desc("Write per-layer quantization numerics (SQNR, max error) as JSON"),
    cl::sub(compileCmd), cl::cat(qtcCategory));
static cl::opt<bool> quiet("quiet", cl::desc("No progress output"),
                           cl::sub(compileCmd), cl::cat(qtcCategory));
static cl::opt<bool> printStats(
    "stats",
    cl::desc("Print each stage's wall time, resident and peak memory, and "
             "the kernels generated and taken from the kernel cache"),
    cl::sub(compileCmd), cl::cat(qtcCategory));
static cl::opt<std::string> statsJson(
    "stats-json", cl::value_desc("FILE.json"),
    cl::desc("Write the --stats figures as JSON"), cl::sub(compileCmd),
    cl::cat(qtcCategory));
static cl::opt<std::string> kernelCache(
    "kernel-cache", cl::value_desc("DIR"),
    cl::desc("Kernel cache folder (default: $QTC_KERNEL_CACHE_DIR, else "
             "$XDG_CACHE_HOME/qtc/kernels or ~/.cache/qtc/kernels; "
             "QTC_KERNEL_CACHE=0 turns it off)"),
    cl::sub(compileCmd), cl::cat(qtcCategory));
static cl::opt<bool> noKernelCache(
    "no-kernel-cache", cl::desc("Lower every kernel, reading and writing no cache"),
    cl::sub(compileCmd), cl::cat(qtcCategory));
static cl::opt<bool> forceProgress(
    "progress",
    cl::desc("Progress output even when stderr is not a terminal (logs, CI)"),
    cl::sub(compileCmd), cl::cat(qtcCategory));
static cl::opt<std::string> calibrationData(
    "calib", cl::value_desc("FILE"),
    cl::desc("Calibration data for recipes that calibrate (w4a16 by GPTQ): "
             "text, tokenized with the model's tokenizer, or int32 token ids "
             "(.bin). Default: the recipe's, else data-free (the model "
             "samples its own calibration text)"),
    cl::sub(compileCmd), cl::cat(qtcCategory));
static cl::opt<int64_t> calibrationTokens(
    "calib-tokens", cl::init(0), cl::value_desc("N"),
    cl::desc("Calibration tokens in all (default: the recipe's, 8192)"),
    cl::sub(compileCmd), cl::cat(qtcCategory));

static cl::opt<std::string> synthConfig(
    "config", cl::Required, cl::value_desc("llama2-7b|llama3-8b|FILE.json"),
    cl::desc("Model to synthesize: a preset, or an HF config.json whose "
             "dimensions are used"),
    cl::sub(synthCmd), cl::cat(qtcCategory));
static cl::opt<std::string> synthOutput("o", cl::value_desc("DIR"),
                                        cl::desc("Checkpoint folder to write"),
                                        cl::sub(synthCmd), cl::cat(qtcCategory));
static cl::opt<qtc::DType> synthDtype(
    "dtype", cl::init(qtc::DType::F16), cl::desc("Weight type"),
    cl::values(clEnumValN(qtc::DType::F16, "f16", "float16 (default)"),
               clEnumValN(qtc::DType::BF16, "bf16", "bfloat16")),
    cl::sub(synthCmd), cl::cat(qtcCategory));
static cl::opt<std::string> synthShardSize(
    "shard-size", cl::init("5GB"), cl::value_desc("BYTES"),
    cl::desc("Largest shard file, in bytes or as 5GB, 2GiB, 500MB (default "
             "5GB, as transformers' save_pretrained)"),
    cl::sub(synthCmd), cl::cat(qtcCategory));
static cl::opt<uint64_t> synthSeed("seed", cl::init(0), cl::value_desc("N"),
                                   cl::desc("Seed of the random weights"),
                                   cl::sub(synthCmd), cl::cat(qtcCategory));
static cl::opt<int64_t> synthLayers(
    "layers", cl::init(0), cl::value_desc("N"),
    cl::desc("Override num_hidden_layers (a smaller model of the same width)"),
    cl::sub(synthCmd), cl::cat(qtcCategory));
static cl::opt<bool> synthList(
    "list", cl::desc("Print tensor, parameter and byte counts and the files; "
                     "write nothing"),
    cl::sub(synthCmd), cl::cat(qtcCategory));
static cl::opt<bool> synthQuiet("quiet", cl::desc("No progress output"),
                                cl::sub(synthCmd), cl::cat(qtcCategory));

static void printVersion(raw_ostream &os) {
  os << "qtc " << QTC_VERSION << " (MLIR " << LLVM_VERSION_STRING << ")\n";
}

static int runImport(mlir::MLIRContext &context) {
  FailureOr<qtc::ImportedModel> model =
      qtc::importModel(context, importModelPath);
  if (failed(model))
    return 1;
  model->module->print(outs());
  outs() << "\n";
  return 0;
}

static int runCompile(mlir::MLIRContext &context) {
  qtc::CompileOptions options;
  options.modelPath = compileModelPath;
  options.outputPath = outputPath;
  options.weightsFilePath = weightsFile;
  options.dummyWeights = dummyWeights;
  options.recipe = recipe;
  options.tokenizerPath = tokenizer;
  options.numericsReportPath = numericsReport;
  options.calibrationData = calibrationData;
  options.calibrationTokens = calibrationTokens;
  options.passManagerCommandLine = true;
  options.targets.clear();
  if (targets != "host") {
    SmallVector<StringRef> parts;
    StringRef(targets).split(parts, ',', -1, /*KeepEmpty=*/false);
    for (StringRef part : parts)
      options.targets.push_back(part.trim().str());
  }
  // Progress for a person watching a terminal, or when asked for.
  if (!quiet && (forceProgress || sys::Process::StandardErrIsDisplayed()))
    options.progress = &errs();
  if (!noKernelCache)
    options.kernelCacheDir =
        kernelCache.empty() ? qtc::defaultKernelCacheDirectory() : std::string(kernelCache);
  qtc::CompileStats stats;
  if (printStats || !statsJson.empty())
    options.stats = &stats;
  if (failed(qtc::compileModel(context, options)))
    return 1;
  if (printStats)
    stats.print(errs());
  if (!statsJson.empty()) {
    std::error_code ec;
    raw_fd_ostream os(statsJson, ec);
    if (ec) {
      errs() << "qtc compile: cannot write '" << statsJson << "': " << ec.message() << "\n";
      return 1;
    }
    os << formatv("{0:2}", stats.toJson()) << "\n";
  }
  return 0;
}

static int runSynth(mlir::MLIRContext &context) {
  qtc::SyntheticCheckpointOptions options;
  options.config = synthConfig;
  options.dtype = synthDtype;
  options.seed = synthSeed;
  options.layers = synthLayers;
  Expected<uint64_t> shardBytes = qtc::parseShardSize(synthShardSize);
  if (!shardBytes) {
    errs() << "qtc synth: " << toString(shardBytes.takeError()) << "\n";
    return 1;
  }
  options.maxShardBytes = *shardBytes;
  FailureOr<qtc::SyntheticCheckpoint> checkpoint =
      qtc::planSyntheticCheckpoint(context, options);
  if (failed(checkpoint))
    return 1;
  if (synthList) {
    qtc::printSyntheticCheckpoint(*checkpoint, outs());
    return 0;
  }
  if (synthOutput.empty()) {
    errs() << "qtc synth: -o DIR is required (or --list)\n";
    return 1;
  }
  // Progress only for a person watching a terminal.
  raw_ostream *progress =
      !synthQuiet && sys::Process::StandardErrIsDisplayed() ? &errs() : nullptr;
  return failed(qtc::writeSyntheticCheckpoint(context, *checkpoint,
                                              synthOutput, progress))
             ? 1
             : 0;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
#if defined(__GLIBC__)
  // A compile allocates and frees per-weight buffers of hundreds of MB, one
  // after another. Past glibc's mmap threshold each is a fresh mapping the
  // kernel faults in and zeroes page by page, which cost a 7B compile a
  // third of its time; kept in the heap, freed buffers are reused. One
  // arena: in the per-thread arenas of the worker threads that allocate
  // them, such buffers are mappings whatever the threshold.
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  cl::SetVersionPrinter(printVersion);
  // --mlir-print-ir-after-all, --mlir-timing, ...: shown for `qtc compile`,
  // whose quantization runs as a pass pipeline.
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerAsmPrinterCLOptions();
  for (auto &entry : cl::getRegisteredOptions(cl::SubCommand::getTopLevel()))
    if (entry.first.starts_with("mlir-")) {
      entry.second->addSubCommand(compileCmd);
      entry.second->addCategory(mlirCategory);
    }
  for (cl::SubCommand *sub :
       {&cl::SubCommand::getTopLevel(), &importCmd, &compileCmd, &reportCmd,
        &synthCmd})
    cl::HideUnrelatedOptions({&qtcCategory, &mlirCategory}, *sub);
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "qtc: compiler for quantized transformer inference\n\n"
          "  qtc import MODEL\n"
          "  qtc compile MODEL -o OUT.qtc [--recipe R] [--target sm_90]\n"
          "  qtc quant-report ARTIFACT.qtc [--json] [--plot FILE.svg]\n"
          "  qtc synth --config llama2-7b|llama3-8b|FILE.json -o DIR "
          "[--dtype f16|bf16] [--list]\n",
          &errs()))
    return 1;

  mlir::MLIRContext context;
  qtc::loadPipelineDialects(context);
  // Diagnostics go to stderr with their locations (file, tensor, node).
  SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context, errs());

  if (importCmd)
    return runImport(context);
  if (compileCmd)
    return runCompile(context);
  if (reportCmd)
    return qtc::printQuantReport(reportArtifactPath, reportJson, reportPlot, outs(), errs());
  if (synthCmd)
    return runSynth(context);
  errs() << "qtc: expected a subcommand (import, compile, quant-report, "
            "synth); see qtc --help\n";
  return 1;
}
