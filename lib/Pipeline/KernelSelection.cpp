//===- KernelSelection.cpp - Generate the kernels a plan's steps need -----===//

#include "KernelSelection.h"

#include "KernelCache.h"
#include "qtc/Pipeline/Compile.h"

#include "dialects/chain/ChainOps.h"
#include "qtc/Chain/Plan.h"
#include "qtc/Codegen/KernelGenerator.h"
#include "qtc/rt/KvGpuSupport.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace qtc {
namespace {

namespace fb = artifact::fb;

// Sets r.activation for rows quantized by `encoding` (none when null). The
// generators say which targets run which scheme (e4m3 rows: sm_89+ to
// write and to multiply).
void setRowQuantization(qnt::EncodingAttr encoding, codegen::KernelRequest &r) {
  r.activation = activationQuant(encoding);
  // sm_89's e4m3 conversions need PTX ISA 8.1 (sm_90's are in 8.0), the
  // e4m3 mma.sync of the linears 8.4.
  if (r.activation == rt::fb::ActivationQuant::Fp8PerToken)
    r.features = "+ptx84";
}

// The kernel request of a step, read off the chain op behind it: the op's
// attributes and row types are what the generator specializes on. A
// Linear's weight format is the one its encoding is stored in
// (weightLayout, shared with the packer and the translation); an
// encoding no format holds is an error at the op.
FailureOr<codegen::KernelRequest> requestFor(const artifact::ArtifactContents &c,
                                             Operation *op, bool decode) {
  const artifact::ModelConfig &cfg = c.config;
  codegen::KernelRequest r;
  r.decode = decode;
  auto width = [](Value v) { return chain::rowWidth(v.getType()); };
  auto attention = [&](auto a) {
    r.heads = static_cast<int>(a.getHeads());
    r.kvHeads = static_cast<int>(a.getKvHeads());
    r.headDim = static_cast<int>(a.getHeadDim());
    r.kvBlockSize = c.kvBlockSize;
    // The cache format the artifact records (the translation's reading of
    // every layer's #qnt.kv_scheme, one format for all): f16 without one.
    if (a.getKvScheme()) {
      r.kvDType = c.kvDType;
      r.kvKeySymmetric = c.kvKeySymmetric;
      r.kvValueSymmetric = c.kvValueSymmetric;
    }
    // sm_89's e4m3 conversions need PTX ISA 8.1 (sm_90's are in 8.0).
    if (r.kvFp8())
      r.features = "+ptx81";
    r.rope.theta = cfg.ropeTheta;
    r.rope.scaling = cfg.ropeScaling;
    r.rope.factor = cfg.ropeFactor;
    r.rope.lowFreqFactor = cfg.ropeLowFreqFactor;
    r.rope.highFreqFactor = cfg.ropeHighFreqFactor;
    r.rope.originalMaxPositions = cfg.ropeOriginalMaxPositions;
  };
  LogicalResult status = success();
  llvm::TypeSwitch<Operation *>(op)
      .Case([&](chain::EmbeddingOp e) {
        r.family = codegen::KernelFamily::Embedding;
        r.hidden = width(e.getResult());
        r.vocab = cfg.vocabSize;
      })
      .Case([&](chain::RmsNormOp n) {
        r.family = codegen::KernelFamily::RmsNorm;
        r.hidden = width(n.getResult());
        r.epsilon = n.getEpsilon().convertToFloat();
        setRowQuantization(chain::rowEncoding(n.getType()), r);
      })
      .Case([&](chain::QuantizeRowsOp q) {
        r.family = codegen::KernelFamily::QuantizeRows;
        r.hidden = width(q.getResult());
        setRowQuantization(chain::rowEncoding(q.getType()), r);
      })
      .Case([&](chain::LinearOp l) {
        r.family = codegen::KernelFamily::Linear;
        r.inFeatures = l.getInFeatures();
        r.outFeatures = l.getOutFeatures();
        // An int8 per-token input runs on the W8A8 kernel, reading the codes
        // of its quantized input slot (generateKernel checks its weights).
        setRowQuantization(l.getInputEncodingAttr(), r);
        if (qnt::EncodingAttr enc = l.getEncodingAttr()) {
          FailureOr<WeightLayout> layout = weightLayout(enc, r.inFeatures, l.getLoc());
          if (failed(layout)) {
            status = failure();
            return;
          }
          r.format = layout->format;
          r.groupSize = layout->groupSize;
          r.symmetric = enc.getSymmetric();
        }
        r.hasBias = static_cast<bool>(l.getBiasAttr());
        r.hasResidual = static_cast<bool>(l.getResidual());
      })
      .Case([&](chain::RopeKvAppendOp a) {
        r.family = codegen::KernelFamily::RopeKvAppend;
        attention(a);
      })
      .Case([&](chain::AttentionOp a) {
        r.family = codegen::KernelFamily::Attention;
        attention(a);
      })
      .Case([&](chain::SwigluOp s) {
        r.family = codegen::KernelFamily::SwiGlu;
        r.hidden = width(s.getResult());
      })
      .Case([&](chain::AddOp a) {
        r.family = codegen::KernelFamily::Add;
        r.hidden = width(a.getResult());
      })
      .Case([&](chain::GatherRowsOp g) {
        r.family = codegen::KernelFamily::GatherRows;
        r.hidden = width(g.getResult());
      });
  if (failed(status))
    return failure();
  return r;
}

// Only these families have a separate decode schedule.
bool hasDecodeVariant(fb::StepKind kind) {
  return kind == fb::StepKind::Linear || kind == fb::StepKind::Attention;
}

} // namespace

void loadCodegenDialects(MLIRContext &context) {
  DialectRegistry registry;
  codegen::registerCodegenDependencies(registry);
  context.appendDialectRegistry(registry);
}

LogicalResult generateKernels(MLIRContext &context, Location loc,
                              ArrayRef<std::string> targets,
                              artifact::ArtifactContents &c,
                              ArrayRef<Operation *> stepOps,
                              llvm::raw_ostream *progress, CompileStats *stats,
                              llvm::StringRef cacheDir) {
  // Caches the kernels do not implement (qtc/rt/KvGpuSupport.h: int4/int2
  // pages, per-channel keys, windows, sinks, calibrated fp8 scales) have
  // host implementations only: no kernel of the plan would read them, so
  // the artifact gets none.
  const std::string kvGap =
      rt::kvCacheGpuGap(c.kvDType, c.kvKeyGranularity, c.kvResidualWindow, c.kvSinkTokens,
                        !c.kvKeyScales.empty() || !c.kvValueScales.empty());
  if (!targets.empty() && !kvGap.empty()) {
    emitWarning(loc) << "no GPU kernels generated for " << llvm::join(targets, ", ")
                     << ": the KV cache (" << kvGap
                     << ") has no CUDA kernels yet; the artifact runs on the host backend";
    c.targets.clear();
    c.kernels.clear();
    c.argmaxKernelIds.clear();
    for (artifact::Step &step : c.steps) {
      step.kernelIds.clear();
      step.decodeKernelIds.clear();
    }
    return success();
  }
  c.targets.assign(targets.begin(), targets.end());
  llvm::StringMap<int> generated; // "<target>/<entry>" -> kernel index
  std::optional<KernelCache> cache;
  if (!cacheDir.empty())
    cache.emplace(cacheDir.str());

  auto kernelFor = [&](const codegen::KernelRequest &r) -> FailureOr<int> {
    std::string key = r.chip + "/" + codegen::kernelEntryName(r);
    if (auto it = generated.find(key); it != generated.end())
      return it->second;
    auto failedKernel = [&] {
      return emitError(loc) << "could not generate the "
                            << rt::abi::familyName(r.family) << " kernel for "
                            << r.chip;
    };
    // The cache is keyed by the kernel's IR, which is cheap to build; only
    // the lowering to PTX is skipped on a hit.
    std::string cacheKey;
    std::optional<artifact::Kernel> cached;
    if (cache) {
      FailureOr<codegen::GeneratedKernel> ir = codegen::buildKernelIR(context, r);
      if (failed(ir))
        return failedKernel();
      cacheKey = KernelCache::key(ir->mlir, r.chip, r.features);
      cached = cache->load(cacheKey, ir->entry);
    }
    artifact::Kernel kernel;
    if (cached) {
      kernel = std::move(*cached);
      if (stats)
        ++stats->kernelsCached;
    } else {
      FailureOr<codegen::GeneratedKernel> k = codegen::generateKernel(context, r);
      if (failed(k))
        return failedKernel();
      kernel.name = k->entry;
      kernel.ptx = std::move(k->ptx);
      kernel.blockX = k->tile.blockX;
      kernel.blockY = k->tile.blockY;
      kernel.sharedBytes = k->tile.sharedBytes;
      kernel.tileM = k->tile.tileM;
      kernel.tileN = k->tile.tileN;
      kernel.splitK = k->tile.splitK;
      kernel.programmaticLaunch = k->tile.programmaticLaunch;
      if (cache)
        cache->store(cacheKey, kernel);
      if (stats)
        ++stats->kernelsGenerated;
    }
    kernel.target = r.chip;
    if (progress)
      *progress << "  " << r.chip << " " << kernel.name << (cached ? " (cached)" : "") << "\n";
    c.kernels.push_back(std::move(kernel));
    int index = static_cast<int>(c.kernels.size()) - 1;
    generated[key] = index;
    return index;
  };

  if (stepOps.size() != c.steps.size())
    return emitError(loc) << "kernel generation needs the op behind every step";
  for (auto [step, op] : llvm::zip(c.steps, stepOps)) {
    step.kernelIds.clear();
    step.decodeKernelIds.clear();
    for (const std::string &target : targets) {
      if (!StringRef(target).starts_with("sm_"))
        return emitError(loc) << "unknown GPU target '" << target
                              << "' (expected sm_XX, e.g. sm_90)";
      FailureOr<codegen::KernelRequest> request = requestFor(c, op, /*decode=*/false);
      if (failed(request))
        return failure();
      codegen::KernelRequest r = *request;
      r.chip = target;
      FailureOr<int> prefill = kernelFor(r);
      if (failed(prefill))
        return failure();
      step.kernelIds.push_back(*prefill);
      int decode = *prefill;
      if (hasDecodeVariant(step.kind)) {
        r.decode = true;
        FailureOr<int> d = kernelFor(r);
        if (failed(d))
          return failure();
        decode = *d;
      }
      step.decodeKernelIds.push_back(decode);
    }
  }

  // Greedy sampling on the device: an argmax over each logits row. The
  // kernel reads rows in 16-byte pieces, so a vocabulary that is not a
  // multiple of 8 gets none (-1) and the runtime picks tokens from the
  // logits instead.
  c.argmaxKernelIds.clear();
  for (const std::string &target : targets) {
    if (c.config.vocabSize <= 0 || c.config.vocabSize % 8 != 0) {
      c.argmaxKernelIds.push_back(-1);
      continue;
    }
    codegen::KernelRequest r;
    r.family = codegen::KernelFamily::ArgmaxRows;
    r.hidden = c.config.vocabSize;
    r.chip = target;
    FailureOr<int> argmax = kernelFor(r);
    if (failed(argmax))
      return failure();
    c.argmaxKernelIds.push_back(*argmax);
  }
  return success();
}

} // namespace qtc
