//===- ElementwiseGenerators.cpp - Add and SwiGlu kernels -----------------===//
//
// One block per row, 8 elements (16 bytes) per thread and step.
//
//===----------------------------------------------------------------------===//

#include "Generators.h"
#include "KernelBuilder.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

using namespace mlir;

namespace qtc::codegen {
FailureOr<KernelIR> buildAddKernel(ImplicitLocOpBuilder &b,
                                   const KernelRequest &r, StringRef entry) {
  namespace abi = rt::abi::add;
  if (failed(checkRowWidth(b, "add", r.hidden)))
    return failure();
  KernelBuilder kb(b);
  int64_t vectors = r.hidden / 8;
  int threads = rowBlockSize(vectors);

  // The output may alias either input: no read-only promises.
  SmallVector<KernelParam> params(abi::kCount);
  params[abi::kA] = {"a", kb.buffer(kb.v4i32()), false};
  params[abi::kB] = {"b", kb.buffer(kb.v4i32()), false};
  params[abi::kOut] = {"out", kb.buffer(kb.v4i32()), false};
  params[abi::kNumRows] = {"num_rows", kb.i32(), false};
  KernelShell shell = createKernelShell(b, entry, params, {}, threads);
  ValueRange args = shell.func.getArguments();

  Value base = kb.mul(kb.blockIdX(), vectors);
  kb.stridedLoop(kb.threadIdX(), vectors, threads, [&](Value i) {
    Value at = kb.add(base, i);
    // f32 sum rounded once to f16, as the host computes it.
    Value sum = kb.addF(kb.extF32(kb.loadHalf8(args[abi::kA], at)),
                        kb.extF32(kb.loadHalf8(args[abi::kB], at)));
    kb.storeHalf8(kb.truncF16(sum), args[abi::kOut], at);
  });
  return finishKernelIR(b, shell, threads);
}

FailureOr<KernelIR> buildSwiGluKernel(ImplicitLocOpBuilder &b,
                                      const KernelRequest &r,
                                      StringRef entry) {
  namespace abi = rt::abi::swiglu;
  if (failed(checkRowWidth(b, "swiglu", r.hidden)))
    return failure();
  KernelBuilder kb(b);
  int64_t vectors = r.hidden / 8; // per output row; the input row has twice
  int threads = rowBlockSize(vectors);

  SmallVector<KernelParam> params(abi::kCount);
  params[abi::kX] = {"x", kb.buffer(kb.v4i32()), true};
  params[abi::kOut] = {"out", kb.buffer(kb.v4i32()), false};
  params[abi::kNumRows] = {"num_rows", kb.i32(), false};
  KernelShell shell = createKernelShell(b, entry, params, {}, threads);
  ValueRange args = shell.func.getArguments();

  Value row = kb.blockIdX();
  Value inBase = kb.mul(row, 2 * vectors);
  Value outBase = kb.mul(row, vectors);
  VectorType f32x8 = kb.vec(8, kb.f32());
  Value minusLog2e = vector::BroadcastOp::create(
      b, f32x8, kb.constF32(-1.0 / std::log(2.0)));
  Value one = vector::BroadcastOp::create(b, f32x8, kb.constF32(1.0));
  kb.stridedLoop(kb.threadIdX(), vectors, threads, [&](Value i) {
    Value gate = kb.extF32(kb.loadHalf8(args[abi::kX], kb.add(inBase, i)));
    Value up = kb.extF32(
        kb.loadHalf8(args[abi::kX], kb.add(inBase, kb.add(i, vectors))));
    // silu(g) = g / (1 + e^-g), e^-g = 2^(-g log2 e) (ex2.approx).
    Value expNeg = kb.exp2Approx(kb.mulF(gate, minusLog2e));
    Value silu = arith::DivFOp::create(b, gate, kb.addF(one, expNeg));
    kb.storeHalf8(kb.truncF16(kb.mulF(silu, up)), args[abi::kOut],
                  kb.add(outBase, i));
  });
  return finishKernelIR(b, shell, threads);
}

} // namespace qtc::codegen
