//===- KernelBuilder.h - IR building blocks shared by kernel generators ---===//
//
// A thin layer over ImplicitLocOpBuilder for the patterns every generator
// repeats: typed constants, thread/block indices, flat device buffers, warp
// and block reductions, f16 <-> f32 conversions and 16-byte vector access.
// The kernels themselves live in one file per family.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_LIB_CODEGEN_KERNELBUILDER_H
#define QTC_LIB_CODEGEN_KERNELBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <string>

namespace qtc::codegen {

// Activation and KV-cache buffers have no static size, but the bare-pointer
// calling convention needs statically shaped memrefs: they are declared with
// this extent, which only the verifier sees (addresses use the flat index).
inline constexpr int64_t kUnboundedExtent = int64_t(1) << 40;

// One kernel parameter: a device buffer (flat memref) or an i32 scalar.
struct KernelParam {
  std::string name;
  mlir::Type type;
  // Never written by anyone during the launch: lets loads use the
  // non-coherent (read-only) cache path (ld.global.nc).
  bool readOnly = false;
};

class KernelBuilder {
public:
  KernelBuilder(mlir::ImplicitLocOpBuilder &b) : b(b) {}

  mlir::ImplicitLocOpBuilder &b;

private:
  mlir::Value nvvmUnary(llvm::StringRef intrinsic, mlir::Value x);
  mlir::Value reduceAngle(mlir::Value x);

public:

  // Types.
  mlir::Type f16() { return b.getF16Type(); }
  mlir::Type f32() { return b.getF32Type(); }
  mlir::Type i32() { return b.getI32Type(); }
  mlir::VectorType vec(int64_t n, mlir::Type elem) {
    return mlir::VectorType::get({n}, elem);
  }
  // 16 bytes as four i32: the element type of buffers read with v4 loads.
  mlir::VectorType v4i32() { return vec(4, i32()); }
  // 8 bytes as two i32: eight e4m3 (fp8) elements per load.
  mlir::VectorType v2i32() { return vec(2, i32()); }
  // An integer as wide as `bytes` e4m3 elements (1, 2, 4) or v2i32 (8): the
  // element type of fp8 buffers read `bytes` elements at a time.
  mlir::Type e4m3Packed(int64_t bytes);
  mlir::MemRefType buffer(mlir::Type elem, int64_t extent = kUnboundedExtent);
  mlir::MemRefType workgroupBuffer(mlir::Type elem, int64_t extent);

  // Constants.
  mlir::Value index(int64_t v);
  mlir::Value constI32(int64_t v);
  mlir::Value constF32(double v);
  mlir::Value constF16(double v);
  mlir::Value splat(mlir::VectorType type, mlir::Attribute scalar);
  mlir::Value splatI32(int64_t n, int64_t v);
  mlir::Value splatF16(int64_t n, double v);
  mlir::Value zeros(mlir::Type type);

  // Index arithmetic (on `index` values).
  mlir::Value add(mlir::Value a, mlir::Value c);
  mlir::Value add(mlir::Value a, int64_t c);
  mlir::Value sub(mlir::Value a, mlir::Value c);
  mlir::Value mul(mlir::Value a, int64_t c);
  mlir::Value mul(mlir::Value a, mlir::Value c);
  mlir::Value div(mlir::Value a, int64_t c); // unsigned
  mlir::Value rem(mlir::Value a, int64_t c); // unsigned
  mlir::Value min(mlir::Value a, mlir::Value c);
  mlir::Value min(mlir::Value a, int64_t c);
  mlir::Value ult(mlir::Value a, mlir::Value c);
  mlir::Value ult(mlir::Value a, int64_t c);
  mlir::Value toIndex(mlir::Value i32Value);
  mlir::Value toI32(mlir::Value indexValue);

  // Launch coordinates as index values.
  mlir::Value threadIdX();
  mlir::Value blockIdX();
  mlir::Value blockIdY();
  mlir::Value laneId();

  // Memory.
  mlir::Value load(mlir::Value memref, mlir::Value index);
  void store(mlir::Value value, mlir::Value memref, mlir::Value index);
  // Eight f16 at element `index8 * 8` of an f16 buffer declared as v4i32.
  mlir::Value loadHalf8(mlir::Value v4Buffer, mlir::Value index8);
  void storeHalf8(mlir::Value halves, mlir::Value v4Buffer, mlir::Value index8);
  // Eight e4m3 bytes at element `index8 * 8` of an fp8 buffer declared as
  // v2i32, widened (exactly) to vector<8xf16>.
  mlir::Value loadE4M3x8(mlir::Value v2Buffer, mlir::Value index8);

  // OCP FP8 E4M3 (qtc/rt/Float8.h) through sm_89+ cvt instructions, as
  // inline PTX. Two f32 to e4m3 bytes in an i16, `lo` in the low byte:
  // round to nearest even, saturating to +-448.
  mlir::Value packE4M3x2(mlir::Value lo, mlir::Value hi);
  // The e4m3 bytes of an e4m3Packed value (byte 0 first) as vector<n x f16>.
  mlir::Value e4m3ToF16(mlir::Value packed);
  // An f32 rounded to the nearest integer, ties to even, saturated to
  // [-128, 127] (cvt.rni.sat.s8.f32), as an i32.
  mlir::Value cvtRniSatS8(mlir::Value x);
  // The same saturated to [0, 255] (cvt.rni.sat.u8.f32).
  mlir::Value cvtRniSatU8(mlir::Value x);
  // f32 a * c and a + c rounded to nearest even as written (mul.rn.f32,
  // add.rn.f32): ptxas never contracts these into an fma, as it may plain
  // mul.f32 + add.f32, so a host replica of the arithmetic rounds the same.
  mlir::Value mulRn(mlir::Value a, mlir::Value c);
  mlir::Value addRn(mlir::Value a, mlir::Value c);

  // Floating point.
  mlir::Value extF32(mlir::Value f16Value); // scalar or vector
  mlir::Value truncF16(mlir::Value f32Value);
  mlir::Value addF(mlir::Value a, mlir::Value c);
  mlir::Value subF(mlir::Value a, mlir::Value c);
  mlir::Value mulF(mlir::Value a, mlir::Value c);
  mlir::Value maxF(mlir::Value a, mlir::Value c);
  // a * c + d with contraction allowed (fma).
  mlir::Value fma(mlir::Value a, mlir::Value c, mlir::Value d);
  // Special functions as NVVM intrinsics (MUFU instructions), on f32
  // scalars or vectors (element by element). math ops would lower to
  // libdevice calls, which need libdevice found and linked at compile time.
  mlir::Value exp2Approx(mlir::Value x);  // ex2.approx.f32
  mlir::Value rsqrtApprox(mlir::Value x); // rsqrt.approx.f32
  // sin and cos of any f32 angle: reduced to [-pi, pi] first (Cody-Waite),
  // where sin.approx/cos.approx are accurate to 2^-20.5 absolute.
  mlir::Value sinReduced(mlir::Value x);
  mlir::Value cosReduced(mlir::Value x);
  mlir::Value select(mlir::Value cond, mlir::Value a, mlir::Value c);
  mlir::Value shuffle(mlir::Value v, llvm::ArrayRef<int64_t> mask);
  mlir::Value extract(mlir::Value v, int64_t pos);
  // Sum of a vector's f32 elements.
  mlir::Value reduceAdd(mlir::Value v);

  // Warp (32 lanes) butterfly reductions of f32 values; every lane gets the
  // result.
  mlir::Value warpSum(mlir::Value v);
  mlir::Value warpMax(mlir::Value v);
  mlir::Value shuffleIdx(mlir::Value v, mlir::Value lane);

  // Sum of an f32 over the block: warp sums through `scratch` (workgroup f32
  // buffer of at least numWarps elements). Every thread gets the result.
  mlir::Value blockSum(mlir::Value v, mlir::Value scratch, int numWarps);
  // The same for the maximum.
  mlir::Value blockMax(mlir::Value v, mlir::Value scratch, int numWarps);

  void barrier();
  // Programmatic dependent launch (sm_90): wait until the grids this one
  // depends on have completed and their writes are visible; allow the grids
  // that depend on this one to launch. Both are compiler barriers for
  // memory accesses (inline asm with a memory clobber), so no load moves
  // above the wait.
  void gridDependencyWait();
  void launchDependents();

  // Builds `for (iv = lb; iv < ub; iv += step)` with the body from `body`.
  void forLoop(mlir::Value lb, mlir::Value ub, mlir::Value step,
               llvm::function_ref<void(mlir::Value)> body);
  // Runs body(i) for i = start, start + stride, ... below count; a single
  // guarded instance when count <= stride.
  void stridedLoop(mlir::Value start, int64_t count, int64_t stride,
                   llvm::function_ref<void(mlir::Value)> body);
  // Builds `if (cond) { then() }`.
  void ifThen(mlir::Value cond, llvm::function_ref<void()> then);
};

// Row kernels move 8 f16 (16 bytes) per access: `width` must be a positive
// multiple of 8. Reports "<what> kernel: width must be ..." otherwise.
// 90 for "sm_90", 0 for a name that is not sm_NN.
int smVersion(llvm::StringRef chip);

mlir::LogicalResult checkRowWidth(mlir::ImplicitLocOpBuilder &b,
                                  llvm::StringRef what, int64_t width);

// Threads of a kernel that walks one row of `vectors` 16-byte vectors:
// whole warps, at most 256, no more than there are vectors.
int rowBlockSize(int64_t vectors);

// Creates module { gpu.module @name { gpu.func @name(params) kernel } } with
// the block size known to the compiler (.maxntid), workgroup buffers of the
// given types, and the builder set inside the function's body. The caller
// adds the body and the terminator comes from finishKernel.
struct KernelShell {
  mlir::ModuleOp module;
  mlir::gpu::GPUFuncOp func;
};
KernelShell createKernelShell(mlir::ImplicitLocOpBuilder &b,
                              llvm::StringRef name,
                              llvm::ArrayRef<KernelParam> params,
                              llvm::ArrayRef<mlir::Type> workgroupBuffers,
                              int blockX);
void finishKernel(mlir::ImplicitLocOpBuilder &b);

} // namespace qtc::codegen

#endif // QTC_LIB_CODEGEN_KERNELBUILDER_H
