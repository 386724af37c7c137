//===- RmsNormGenerator.cpp - RmsNorm: one block per row ------------------===//
//
// Each thread keeps its 16-byte pieces of the row in registers, the block
// sums the squares in f32 (warp shuffles, then one word per warp in shared
// memory), and the same registers are scaled and written back: one read and
// one write of the row.
//
//===----------------------------------------------------------------------===//

#include "Generators.h"
#include "KernelBuilder.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace qtc::codegen {

FailureOr<KernelIR> buildRmsNormKernel(ImplicitLocOpBuilder &b,
                                       const KernelRequest &r,
                                       StringRef entry) {
  namespace abi = rt::abi::rms_norm;
  if (failed(checkRowWidth(b, "rms_norm", r.hidden)))
    return failure();
  KernelBuilder kb(b);
  int64_t vectors = r.hidden / 8;
  int threads = rowBlockSize(vectors);
  int warps = threads / 32;
  int64_t perThread = (vectors + threads - 1) / threads;
  bool guard = vectors % threads != 0;

  SmallVector<KernelParam> params(abi::kCount);
  params[abi::kX] = {"x", kb.buffer(kb.v4i32()), true};
  params[abi::kWeight] = {"weight", kb.buffer(kb.v4i32(), vectors), true};
  params[abi::kOut] = {"out", kb.buffer(kb.v4i32()), false};
  params[abi::kNumRows] = {"num_rows", kb.i32(), false};
  KernelShell shell = createKernelShell(
      b, entry, params, {kb.workgroupBuffer(kb.f32(), warps)}, threads);
  ValueRange args = shell.func.getArguments();
  Value scratch = shell.func.getWorkgroupAttributions()[0];

  Value tid = kb.threadIdX();
  Value base = kb.mul(kb.blockIdX(), vectors);
  VectorType f32x8 = kb.vec(8, kb.f32());
  SmallVector<Value> index, valid, x;
  Value sumSq = kb.constF32(0.0);
  for (int64_t j = 0; j < perThread; ++j) {
    Value i = kb.add(tid, j * threads);
    Value ok = guard ? kb.ult(i, vectors) : Value();
    Value clamped = guard ? kb.min(i, vectors - 1) : i;
    Value v = kb.extF32(kb.loadHalf8(args[abi::kX], kb.add(base, clamped)));
    if (ok)
      v = kb.select(ok, v, kb.zeros(f32x8));
    sumSq = kb.addF(sumSq, kb.reduceAdd(kb.mulF(v, v)));
    index.push_back(clamped);
    valid.push_back(ok);
    x.push_back(v);
  }
  Value total = kb.blockSum(sumSq, scratch, warps);
  Value mean = arith::DivFOp::create(b, total, kb.constF32(double(r.hidden)));
  Value rstd = kb.rsqrtApprox(kb.addF(mean, kb.constF32(r.epsilon)));
  Value rstdVec = vector::BroadcastOp::create(b, f32x8, rstd);
  for (int64_t j = 0; j < perThread; ++j) {
    auto write = [&, j] {
      Value w = kb.extF32(kb.loadHalf8(args[abi::kWeight], index[j]));
      Value y = kb.mulF(kb.mulF(x[j], rstdVec), w);
      kb.storeHalf8(kb.truncF16(y), args[abi::kOut], kb.add(base, index[j]));
    };
    if (valid[j])
      kb.ifThen(valid[j], write);
    else
      write();
  }
  return finishKernelIR(b, shell, threads);
}

} // namespace qtc::codegen
