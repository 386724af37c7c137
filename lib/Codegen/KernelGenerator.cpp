//===- KernelGenerator.cpp - Dispatch a request to its family's generator -===//

#include "qtc/Codegen/KernelGenerator.h"

#include "Generators.h"
#include "PtxLowering.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/GPUCommon/GPUToLLVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVM.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVM.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace qtc::codegen {

void registerCodegenDependencies(DialectRegistry &registry) {
  registry.insert<affine::AffineDialect, arith::ArithDialect,
                  cf::ControlFlowDialect, func::FuncDialect, gpu::GPUDialect,
                  index::IndexDialect, LLVM::LLVMDialect, math::MathDialect,
                  memref::MemRefDialect, nvgpu::NVGPUDialect,
                  NVVM::NVVMDialect, scf::SCFDialect, ub::UBDialect,
                  vector::VectorDialect>();
  // The lowering pipeline converts through these dialect interfaces.
  arith::registerConvertArithToLLVMInterface(registry);
  cf::registerConvertControlFlowToLLVMInterface(registry);
  registerConvertFuncToLLVMInterface(registry);
  gpu::registerConvertGpuToLLVMInterface(registry);
  NVVM::registerConvertGpuToNVVMInterface(registry);
  index::registerConvertIndexToLLVMInterface(registry);
  registerConvertMathToLLVMInterface(registry);
  registerConvertMemRefToLLVMInterface(registry);
  registerConvertNVVMToLLVMInterface(registry);
  ub::registerConvertUBToLLVMInterface(registry);
  vector::registerConvertVectorToLLVMInterface(registry);
  // gpu-module-to-binary: #nvvm.target and the LLVM IR translations.
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerGPUDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
}

static std::string chipSuffix(StringRef chip) {
  std::string s = chip.str();
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  return s;
}

std::string kernelEntryName(const KernelRequest &r) {
  std::string name;
  llvm::raw_string_ostream os(name);
  os << "qtc_" << rt::abi::familyName(r.family);
  switch (r.family) {
  case KernelFamily::Linear:
    switch (r.format) {
    case rt::fb::WeightFormat::Dense:
      os << "_f16";
      break;
    case rt::fb::WeightFormat::Int4Group:
      os << "_int4g" << r.groupSize << (r.symmetric ? "s" : "a");
      break;
    case rt::fb::WeightFormat::Int8Group:
      if (r.groupSize == r.inFeatures)
        os << "_int8c";
      else
        os << "_int8g" << r.groupSize;
      break;
    case rt::fb::WeightFormat::Fp8Channel:
      os << "_fp8c";
      break;
    }
    if (r.activation == rt::fb::ActivationQuant::Int8PerToken)
      os << "_a8";
    if (r.activation == rt::fb::ActivationQuant::Fp8PerToken)
      os << "_af8";
    os << "_n" << r.outFeatures << "_k" << r.inFeatures;
    if (r.hasBias)
      os << "_bias";
    if (r.hasResidual)
      os << "_res";
    if (r.splitK > 0)
      os << "_w" << r.splitK;
    if (r.unroll > 0)
      os << "_u" << r.unroll;
    if (r.dequant > 0)
      os << "_d" << r.dequant;
    if (r.programmaticWait != 0)
      os << "_p" << (r.programmaticWait < 0 ? 0 : r.programmaticWait);
    if (r.maxRegisters > 0)
      os << "_r" << r.maxRegisters;
    if (r.pipelineStages > 0)
      os << "_s" << r.pipelineStages;
    os << (r.decode ? "_gemv" : usesWgmmaGemm(r) ? "_wgmma" : "_gemm");
    break;
  case KernelFamily::Embedding:
    os << "_v" << r.vocab << "_h" << r.hidden;
    break;
  case KernelFamily::RopeKvAppend:
  case KernelFamily::Attention:
    os << "_h" << r.heads << "_kv" << r.kvHeads << "_d" << r.headDim << "_b"
       << r.kvBlockSize;
    // The cache format: _kv8 fp8 e4m3, _kvi8 int8 pages with s(ymmetric) or
    // a(symmetric) keys, then values.
    if (r.kvFp8())
      os << "_kv8";
    if (r.kvInt8())
      os << "_kvi8" << (r.kvKeySymmetric ? 's' : 'a') << (r.kvValueSymmetric ? 's' : 'a');
    // Attention: the decode kernel (one block per token and kv head) also
    // serves prefill unless the flash-style prefill kernel applies.
    if (r.family == KernelFamily::Attention && usesFlashPrefillAttention(r))
      os << "_prefill";
    break;
  default:
    os << "_w" << r.hidden;
    // RmsNorm and QuantizeRows writing int8 or e4m3 per-token rows.
    if (r.activation == rt::fb::ActivationQuant::Int8PerToken)
      os << "_a8";
    if (r.activation == rt::fb::ActivationQuant::Fp8PerToken)
      os << "_af8";
    break;
  }
  os << "_" << chipSuffix(r.chip);
  return name;
}

static FailureOr<KernelIR> buildLinearKernel(ImplicitLocOpBuilder &b,
                                             const KernelRequest &r,
                                             StringRef entry) {
  // Prefill on sm_90: the Hopper GEMM, for f16 and W8A8 alike.
  if (!r.decode && usesWgmmaGemm(r))
    return buildWgmmaGemmKernel(b, r, entry);
  if (r.activation != rt::fb::ActivationQuant::None)
    return buildW8A8Kernel(b, r, entry);
  return r.decode ? buildGemvKernel(b, r, entry) : buildGemmKernel(b, r, entry);
}

static FailureOr<KernelIR> buildAttentionFamilyKernel(ImplicitLocOpBuilder &b,
                                                      const KernelRequest &r,
                                                      StringRef entry) {
  return usesFlashPrefillAttention(r)
             ? buildFlashPrefillAttentionKernel(b, r, entry)
             : buildAttentionKernel(b, r, entry);
}

static GeneratorFn generatorFor(KernelFamily family) {
  switch (family) {
  case KernelFamily::Embedding: return buildEmbeddingKernel;
  case KernelFamily::RmsNorm: return buildRmsNormKernel;
  case KernelFamily::Linear: return buildLinearKernel;
  case KernelFamily::RopeKvAppend: return buildRopeKvAppendKernel;
  case KernelFamily::Attention: return buildAttentionFamilyKernel;
  case KernelFamily::SwiGlu: return buildSwiGluKernel;
  case KernelFamily::Add: return buildAddKernel;
  case KernelFamily::GatherRows: return buildGatherRowsKernel;
  case KernelFamily::QuantizeRows: return buildQuantizeRowsKernel;
  case KernelFamily::ArgmaxRows: return buildArgmaxRowsKernel;
  }
  return nullptr;
}

static FailureOr<KernelIR> buildModule(MLIRContext &context,
                                       const KernelRequest &request,
                                       StringRef entry) {
  DialectRegistry registry;
  registerCodegenDependencies(registry);
  context.appendDialectRegistry(registry);
  context.loadAllAvailableDialects();

  GeneratorFn generator = generatorFor(request.family);
  Location loc = NameLoc::get(StringAttr::get(&context, entry));
  if (!generator)
    return emitError(loc) << "no kernel generator for family "
                          << static_cast<int>(request.family);
  ImplicitLocOpBuilder builder(loc, &context);
  FailureOr<KernelIR> ir = generator(builder, request, entry);
  if (failed(ir))
    return failure();
  if (failed(verify(ir->module))) {
    ir->module->erase();
    return emitError(loc) << "generated kernel '" << entry
                          << "' failed to verify";
  }
  return ir;
}

// Builds the kernel's module and fills `kernel` with its entry, printed MLIR
// and launch constants.
static FailureOr<OwningOpRef<ModuleOp>> buildPrinted(MLIRContext &context,
                                                     const KernelRequest &request,
                                                     GeneratedKernel &kernel) {
  kernel.entry = kernelEntryName(request);
  FailureOr<KernelIR> ir = buildModule(context, request, kernel.entry);
  if (failed(ir))
    return failure();
  OwningOpRef<ModuleOp> module(ir->module);
  llvm::raw_string_ostream os(kernel.mlir);
  module->print(os);
  kernel.tile = ir->tile;
  kernel.ptxChip = ir->ptxChip.empty() ? request.chip : ir->ptxChip;
  return module;
}

FailureOr<GeneratedKernel> buildKernelIR(MLIRContext &context,
                                         const KernelRequest &request) {
  GeneratedKernel kernel;
  if (failed(buildPrinted(context, request, kernel)))
    return failure();
  return kernel;
}

FailureOr<GeneratedKernel> generateKernel(MLIRContext &context,
                                          const KernelRequest &request) {
  GeneratedKernel kernel;
  FailureOr<OwningOpRef<ModuleOp>> module = buildPrinted(context, request, kernel);
  if (failed(module))
    return failure();
  FailureOr<std::string> ptx = lowerToPtx(**module, kernel.ptxChip, request.features);
  if (failed(ptx))
    return failure();
  kernel.ptx = std::move(*ptx);
  return kernel;
}

KernelIR finishKernelIR(ImplicitLocOpBuilder &b, const KernelShell &shell, int blockX) {
  finishKernel(b);
  KernelIR ir;
  ir.module = shell.module;
  ir.tile.blockX = blockX;
  return ir;
}

} // namespace qtc::codegen
