//===- RmsNormGenerator.cpp - RmsNorm and QuantizeRows: a block per row ---===//
//
// Each thread keeps its 16-byte pieces of the row in registers, the block
// sums the squares in f32 (warp shuffles, then one word per warp in shared
// memory), and the same registers are scaled and written back: one read and
// one write of the row.
//
// With an activation scheme (the norm -> quantize fusion) the normalized
// values are rounded to f16, as the unfused norm would store them, and the
// block writes their int8 (or e4m3) codes and row scale instead (RowQuantization.h):
// still one read and one (half as wide) write. QuantizeRows is the same
// kernel without the norm.
//
//===----------------------------------------------------------------------===//

#include "Generators.h"
#include "KernelBuilder.h"
#include "RowQuantization.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace qtc::codegen {
namespace {

// The kernels of this file: parameters (x, [weight,] out, num_rows), a
// block per row.
struct RowKernel {
  KernelShell shell;
  int threads = 0, warps = 0;
  int64_t vectors = 0;
  Value normScratch, maxScratch;
};

FailureOr<RowKernel> createRowKernel(ImplicitLocOpBuilder &b, const KernelRequest &r,
                                     StringRef what, StringRef entry, bool norm) {
  if (failed(checkRowWidth(b, what, r.hidden)))
    return failure();
  const bool quantized = r.activation != rt::fb::ActivationQuant::None;
  if (r.activation == rt::fb::ActivationQuant::Fp8PerToken && smVersion(r.chip) < 89)
    return emitError(b.getLoc()) << what << " kernel: e4m3 rows need sm_89 or newer (the "
                                    "cvt e4m3x2 instruction), got '"
                                 << r.chip << "'";
  KernelBuilder kb(b);
  RowKernel k;
  k.vectors = r.hidden / 8;
  k.threads = rowBlockSize(k.vectors);
  k.warps = k.threads / 32;
  // Quantized rows are written as i32 words (codes, then scales).
  Type out = quantized ? kb.buffer(kb.i32()) : kb.buffer(kb.v4i32());
  SmallVector<KernelParam> params;
  params.push_back({"x", kb.buffer(kb.v4i32()), true});
  if (norm)
    params.push_back({"weight", kb.buffer(kb.v4i32(), k.vectors), true});
  params.push_back({"out", out, false});
  params.push_back({"num_rows", kb.i32(), false});
  SmallVector<Type> scratch;
  if (norm)
    scratch.push_back(kb.workgroupBuffer(kb.f32(), k.warps));
  if (quantized)
    scratch.push_back(kb.workgroupBuffer(kb.f32(), k.warps));
  k.shell = createKernelShell(b, entry, params, scratch, k.threads);
  auto buffers = k.shell.func.getWorkgroupAttributions();
  if (norm)
    k.normScratch = buffers[0];
  if (quantized)
    k.maxScratch = buffers.back();
  return k;
}

// This thread's pieces of the block's row, widened to f32.
RowPieces loadRow(KernelBuilder &kb, const RowKernel &k, Value x) {
  int64_t perThread = (k.vectors + k.threads - 1) / k.threads;
  bool guard = k.vectors % k.threads != 0;
  Value tid = kb.threadIdX();
  Value base = kb.mul(kb.blockIdX(), k.vectors);
  RowPieces row;
  for (int64_t j = 0; j < perThread; ++j) {
    Value i = kb.add(tid, j * k.threads);
    Value ok = guard ? kb.ult(i, k.vectors) : Value();
    Value clamped = guard ? kb.min(i, k.vectors - 1) : i;
    Value v = kb.extF32(kb.loadHalf8(x, kb.add(base, clamped)));
    if (ok)
      v = kb.select(ok, v, kb.zeros(kb.vec(8, kb.f32())));
    row.values.push_back(v);
    row.index.push_back(clamped);
    row.valid.push_back(ok);
  }
  return row;
}

// Writes the row as f16, or as quantized rows when the request has a scheme.
void storeRow(KernelBuilder &kb, const KernelRequest &r, const RowKernel &k,
              const RowPieces &row, Value out, Value numRows) {
  if (r.activation != rt::fb::ActivationQuant::None) {
    storeQuantizedRow(kb, row, r.activation == rt::fb::ActivationQuant::Fp8PerToken, out,
                      kb.blockIdX(), numRows, r.hidden, k.maxScratch, k.warps);
    return;
  }
  Value base = kb.mul(kb.blockIdX(), k.vectors);
  for (size_t j = 0; j < row.values.size(); ++j) {
    auto write = [&, j] {
      kb.storeHalf8(kb.truncF16(row.values[j]), out, kb.add(base, row.index[j]));
    };
    if (row.valid[j])
      kb.ifThen(row.valid[j], write);
    else
      write();
  }
}

} // namespace

FailureOr<KernelIR> buildRmsNormKernel(ImplicitLocOpBuilder &b, const KernelRequest &r,
                                       StringRef entry) {
  namespace abi = rt::abi::rms_norm;
  FailureOr<RowKernel> k = createRowKernel(b, r, "rms_norm", entry, /*norm=*/true);
  if (failed(k))
    return failure();
  KernelBuilder kb(b);
  ValueRange args = k->shell.func.getArguments();
  RowPieces row = loadRow(kb, *k, args[abi::kX]);
  Value sumSq = kb.constF32(0.0);
  for (Value v : row.values)
    sumSq = kb.addF(sumSq, kb.reduceAdd(kb.mulF(v, v)));
  Value total = kb.blockSum(sumSq, k->normScratch, k->warps);
  Value mean = arith::DivFOp::create(b, total, kb.constF32(double(r.hidden)));
  Value rstd = kb.rsqrtApprox(kb.addF(mean, kb.constF32(r.epsilon)));
  Value rstdVec = vector::BroadcastOp::create(b, kb.vec(8, kb.f32()), rstd);
  const bool quantized = r.activation != rt::fb::ActivationQuant::None;
  for (size_t j = 0; j < row.values.size(); ++j) {
    Value w = kb.extF32(kb.loadHalf8(args[abi::kWeight], row.index[j]));
    Value y = kb.mulF(kb.mulF(row.values[j], rstdVec), w);
    // Quantized from the f16 values the unfused norm would have written.
    row.values[j] = quantized ? kb.extF32(kb.truncF16(y)) : y;
  }
  storeRow(kb, r, *k, row, args[abi::kOut], kb.toIndex(args[abi::kNumRows]));
  return finishKernelIR(b, k->shell, k->threads);
}

FailureOr<KernelIR> buildQuantizeRowsKernel(ImplicitLocOpBuilder &b, const KernelRequest &r,
                                            StringRef entry) {
  namespace abi = rt::abi::quantize_rows;
  if (r.activation == rt::fb::ActivationQuant::None)
    return emitError(b.getLoc()) << "quantize_rows kernel: needs an activation scheme";
  FailureOr<RowKernel> k = createRowKernel(b, r, "quantize_rows", entry, /*norm=*/false);
  if (failed(k))
    return failure();
  KernelBuilder kb(b);
  ValueRange args = k->shell.func.getArguments();
  RowPieces row = loadRow(kb, *k, args[abi::kX]);
  storeRow(kb, r, *k, row, args[abi::kOut], kb.toIndex(args[abi::kNumRows]));
  return finishKernelIR(b, k->shell, k->threads);
}

} // namespace qtc::codegen
