//===- qtc-kernelgen.cpp - Print one generated kernel ---------------------===//
//
// Development driver for lib/Codegen: builds the kernel of one request and
// prints its MLIR, its PTX or its launch constants, or writes the PTX and a
// manifest line into a folder (for the GPU checks and benchmarks, which run
// where no LLVM is installed).
//
//   qtc-kernelgen --kind gemv-int4 --n 12288 --k 4096 --target sm_90 --emit ptx
//
// The Linear kinds name the weight format (gemv-f16, gemv-int4, gemv-int8,
// gemv-fp8); --prefill picks the prefill GEMM instead of the decode GEMV;
// --activation int8 quantizes x per token in the kernel (W8A8, gemv-int8
// with --group 0).
//
//===----------------------------------------------------------------------===//

#include "qtc/Codegen/KernelGenerator.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>

using namespace llvm;
using qtc::codegen::KernelFamily;
using qtc::codegen::KernelRequest;

namespace {

cl::opt<std::string> kind(
    "kind", cl::Required,
    cl::desc("Kernel: embedding, rms-norm, gemv-f16, gemv-int4, gemv-int8, "
             "gemv-fp8, rope-kv-append, attention, swiglu, add, gather-rows, "
             "quantize-rows, argmax"));
cl::opt<int64_t> outFeatures("n", cl::desc("Linear: output features"), cl::init(0));
cl::opt<int64_t> inFeatures("k", cl::desc("Linear: input features"), cl::init(0));
cl::opt<int64_t> group("group",
                       cl::desc("Int4, int8: group size (int8: 0 for one scale per "
                                "row); fp8: one scale per row, --k unless given"),
                       cl::init(128));
cl::opt<bool> asymmetric("asym", cl::desc("Int4: asymmetric (zero points)"));
cl::opt<bool> bias("bias", cl::desc("Linear: add a bias"));
cl::opt<bool> residual("residual", cl::desc("Linear: add a residual"));
cl::opt<int> splitK("split-k", cl::desc("Linear: warps per output tile (0: default)"),
                    cl::init(0));
cl::opt<int> unroll("unroll", cl::desc("Linear: K steps in flight (0: default)"),
                    cl::init(0));
cl::opt<int> dequant("dequant",
                     cl::desc("Int4, int8 GEMV: 1 scale f16 operands, 2 scale the f32 "
                              "tile or result (0: default)"),
                     cl::init(0));
cl::opt<int> programmaticWait(
    "pdl", cl::desc("GEMV: wait for the predecessor 1 at start, 2 after the first "
                    "weights, -1 never (0: default)"),
    cl::init(0));
cl::opt<int> maxRegisters("max-registers",
                          cl::desc("GEMV, GEMM: register limit per thread (.maxnreg; 0: none)"),
                          cl::init(0));
cl::opt<int> stages("stages",
                    cl::desc("Prefill GEMM: 1 load then multiply, 2 load the next K step "
                             "while multiplying (0: default, 2); wgmma GEMM: shared-memory "
                             "K tiles, 3 to 6 (0: default, 6)"),
                    cl::init(0));
cl::opt<int> wgmma("wgmma",
                   cl::desc("Prefill GEMM on sm_90: 1 the wgmma schedule, -1 the "
                            "mma.sync one (0: default)"),
                   cl::init(0));
cl::opt<std::string> activation(
    "activation",
    cl::desc("Linear: the input slot's quantization, none, int8 (per token, W8A8) "
             "or fp8; rms-norm, quantize-rows: the rows written"),
    cl::init("none"));
cl::opt<bool> prefill("prefill", cl::desc("Generate the prefill variant"));
cl::opt<int64_t> hidden("hidden", cl::desc("Row width of row kernels"), cl::init(0));
cl::opt<int64_t> vocab("vocab", cl::desc("Embedding: table rows"), cl::init(0));
cl::opt<int> heads("heads", cl::desc("Attention heads"), cl::init(0));
cl::opt<int> kvHeads("kv-heads", cl::desc("KV heads"), cl::init(0));
cl::opt<int> headDim("head-dim", cl::desc("Head dimension"), cl::init(0));
cl::opt<int> blockSize("block-size", cl::desc("KV block size"), cl::init(16));
cl::opt<double> theta("theta", cl::desc("RoPE theta"), cl::init(10000.0));
cl::opt<bool> kvFp8("kv-fp8",
                    cl::desc("RoPE + KV append, attention: fp8 (e4m3) KV cache"));
cl::opt<std::string> kvInt8(
    "kv-int8",
    cl::desc("RoPE + KV append, attention: int8 per-token KV pages, keys then values "
             "s(ymmetric) or a(symmetric, with zeros): ss, sa, as or aa"),
    cl::init(""));
cl::opt<float> epsilon("eps", cl::desc("RmsNorm epsilon"), cl::init(1e-5f));
cl::opt<std::string> target("target", cl::desc("GPU chip"), cl::init("sm_90"));
cl::opt<std::string> features("features", cl::desc("PTX ISA feature"),
                              cl::init("+ptx80"));
cl::opt<std::string> emit("emit", cl::desc("What to print: mlir, ptx or meta"),
                          cl::init("ptx"));
cl::opt<std::string> outDir(
    "out-dir",
    cl::desc("Write <entry>.ptx here and append the request to manifest.txt"),
    cl::init(""));

std::optional<KernelRequest> requestFromFlags() {
  KernelRequest r;
  std::optional<KernelFamily> family =
      StringSwitch<std::optional<KernelFamily>>(kind)
          .Case("embedding", KernelFamily::Embedding)
          .Case("rms-norm", KernelFamily::RmsNorm)
          .Cases({"gemv-f16", "gemv-int4", "gemv-int8", "gemv-fp8"},
                 KernelFamily::Linear)
          .Case("rope-kv-append", KernelFamily::RopeKvAppend)
          .Case("attention", KernelFamily::Attention)
          .Case("swiglu", KernelFamily::SwiGlu)
          .Case("add", KernelFamily::Add)
          .Case("gather-rows", KernelFamily::GatherRows)
          .Case("quantize-rows", KernelFamily::QuantizeRows)
          .Case("argmax", KernelFamily::ArgmaxRows)
          .Default(std::nullopt);
  if (!family)
    return std::nullopt;
  r.family = *family;
  r.decode = !prefill;
  r.outFeatures = outFeatures;
  r.inFeatures = inFeatures;
  using qtc::rt::fb::WeightFormat;
  r.format = StringSwitch<WeightFormat>(kind)
                 .Case("gemv-int4", WeightFormat::Int4Group)
                 .Case("gemv-int8", WeightFormat::Int8Group)
                 .Case("gemv-fp8", WeightFormat::Fp8Channel)
                 .Default(WeightFormat::Dense);
  switch (r.format) {
  case WeightFormat::Dense: r.groupSize = 0; break;
  case WeightFormat::Int4Group: r.groupSize = group; break;
  case WeightFormat::Int8Group: r.groupSize = group == 0 ? inFeatures : group; break;
  // An explicit --group reaches the generator, which checks it.
  case WeightFormat::Fp8Channel:
    r.groupSize = group.getNumOccurrences() ? group : inFeatures;
    break;
  }
  using qtc::rt::fb::ActivationQuant;
  std::optional<ActivationQuant> act =
      StringSwitch<std::optional<ActivationQuant>>(activation)
          .Case("none", ActivationQuant::None)
          .Case("int8", ActivationQuant::Int8PerToken)
          .Case("fp8", ActivationQuant::Fp8PerToken)
          .Default(std::nullopt);
  if (!act)
    return std::nullopt;
  r.activation = *act;
  r.symmetric = !asymmetric;
  r.hasBias = bias;
  r.hasResidual = residual;
  r.splitK = splitK;
  r.unroll = unroll;
  r.dequant = dequant;
  r.programmaticWait = programmaticWait;
  r.maxRegisters = maxRegisters;
  r.pipelineStages = stages;
  r.wgmma = wgmma;
  r.hidden = hidden;
  r.vocab = vocab;
  r.heads = heads;
  r.kvHeads = kvHeads;
  r.headDim = headDim;
  r.kvBlockSize = blockSize;
  r.rope.theta = static_cast<float>(theta);
  if (kvFp8)
    r.kvDType = qtc::rt::fb::KvDType::F8E4M3;
  if (!kvInt8.empty()) {
    r.kvDType = qtc::rt::fb::KvDType::Int8;
    r.kvKeySymmetric = kvInt8[0] == 's';
    r.kvValueSymmetric = kvInt8[1] == 's';
  }
  r.epsilon = epsilon;
  r.chip = target;
  r.features = features;
  return r;
}

// One line of key=value pairs: what the GPU checks need to rebuild the case.
void printManifestLine(raw_ostream &os, const KernelRequest &r,
                       const qtc::codegen::GeneratedKernel &k) {
  os << "entry=" << k.entry << " kind=" << kind << " family="
     << static_cast<int>(r.family) << " decode=" << (r.decode ? 1 : 0)
     << " format=" << qtc::rt::fb::EnumNameWeightFormat(r.format)
     << " n=" << r.outFeatures
     << " k=" << r.inFeatures << " group=" << r.groupSize
     << " symmetric=" << (r.symmetric ? 1 : 0) << " bias=" << (r.hasBias ? 1 : 0)
     << " residual=" << (r.hasResidual ? 1 : 0) << " hidden=" << r.hidden
     << " vocab=" << r.vocab << " heads=" << r.heads << " kv_heads=" << r.kvHeads
     << " head_dim=" << r.headDim << " block_size=" << r.kvBlockSize
     << " theta=" << r.rope.theta << " eps=" << r.epsilon
     << " block_x=" << k.tile.blockX << " shared_bytes=" << k.tile.sharedBytes
     << " tile_m=" << k.tile.tileM << " tile_n=" << k.tile.tileN
     << " split_k=" << k.tile.splitK
     << " programmatic=" << (k.tile.programmaticLaunch ? 1 : 0)
     << " kv_fp8=" << (r.kvFp8() ? 1 : 0)
     << " activation=" << qtc::rt::fb::EnumNameActivationQuant(r.activation)
     << " kv_int8=" << (r.kvInt8() ? 1 : 0)
     << " kv_key_symmetric=" << (r.kvKeySymmetric ? 1 : 0)
     << " kv_value_symmetric=" << (r.kvValueSymmetric ? 1 : 0) << "\n";
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "qtc kernel generator driver\n");

  if (!kvInt8.empty() && (kvInt8.size() != 2 || kvInt8.find_first_not_of("sa") != std::string::npos ||
                          kvFp8)) {
    errs() << "qtc-kernelgen: --kv-int8 must be ss, sa, as or aa (and not with --kv-fp8), got '"
           << kvInt8 << "'\n";
    return 1;
  }
  std::optional<KernelRequest> request = requestFromFlags();
  if (!request) {
    errs() << "qtc-kernelgen: unknown --kind '" << kind << "' or --activation '"
           << activation << "'\n";
    return 1;
  }
  if (emit != "mlir" && emit != "ptx" && emit != "meta") {
    errs() << "qtc-kernelgen: --emit must be mlir, ptx or meta\n";
    return 1;
  }

  mlir::DialectRegistry registry;
  qtc::codegen::registerCodegenDependencies(registry);
  mlir::MLIRContext context(registry);
  // Diagnostics go to stderr with their location.
  mlir::ScopedDiagnosticHandler handler(&context, [](mlir::Diagnostic &d) {
    errs() << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  });

  mlir::FailureOr<qtc::codegen::GeneratedKernel> kernel =
      emit == "mlir" && outDir.empty()
          ? qtc::codegen::buildKernelIR(context, *request)
          : qtc::codegen::generateKernel(context, *request);
  if (failed(kernel))
    return 1;

  if (!outDir.empty()) {
    if (std::error_code ec = sys::fs::create_directories(outDir)) {
      errs() << "qtc-kernelgen: cannot create " << outDir << ": "
             << ec.message() << "\n";
      return 1;
    }
    SmallString<256> ptxPath(outDir);
    sys::path::append(ptxPath, kernel->entry + ".ptx");
    std::error_code ec;
    raw_fd_ostream ptxFile(ptxPath, ec);
    if (ec) {
      errs() << "qtc-kernelgen: cannot write " << ptxPath << ": "
             << ec.message() << "\n";
      return 1;
    }
    ptxFile << kernel->ptx;
    SmallString<256> manifestPath(outDir);
    sys::path::append(manifestPath, "manifest.txt");
    raw_fd_ostream manifest(manifestPath, ec, sys::fs::OF_Append);
    if (ec) {
      errs() << "qtc-kernelgen: cannot write " << manifestPath << ": "
             << ec.message() << "\n";
      return 1;
    }
    printManifestLine(manifest, *request, *kernel);
    return 0;
  }

  if (emit == "mlir")
    outs() << kernel->mlir;
  else if (emit == "ptx")
    outs() << kernel->ptx;
  else
    printManifestLine(outs(), *request, *kernel);
  return 0;
}
