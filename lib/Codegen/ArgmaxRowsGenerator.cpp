//===- ArgmaxRowsGenerator.cpp - Greedy sampling: argmax of each row ------===//
//
// One block per row. Each thread scans its 16-byte pieces in increasing
// order keeping the first maximum, then (value, index) pairs are reduced
// over the warp and over the warps, preferring the lower index on ties, so
// the result is the lowest index of the maximum as on the host.
//
//===----------------------------------------------------------------------===//

#include "Generators.h"
#include "KernelBuilder.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

using namespace mlir;

namespace qtc::codegen {
namespace {

struct Candidate {
  Value value; // f32
  Value index; // i32
};

// `other` wins when larger, or equal with a lower index. NaN never wins.
Candidate better(KernelBuilder &kb, Candidate mine, Candidate other) {
  ImplicitLocOpBuilder &b = kb.b;
  Value larger = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT,
                                       other.value, mine.value);
  Value equal = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ,
                                      other.value, mine.value);
  Value lower = arith::CmpIOp::create(b, arith::CmpIPredicate::ult,
                                      other.index, mine.index);
  Value take = arith::OrIOp::create(b, larger,
                                    arith::AndIOp::create(b, equal, lower));
  return {kb.select(take, other.value, mine.value),
          kb.select(take, other.index, mine.index)};
}

} // namespace

FailureOr<KernelIR> buildArgmaxRowsKernel(ImplicitLocOpBuilder &b,
                                          const KernelRequest &r,
                                          StringRef entry) {
  namespace abi = rt::abi::argmax_rows;
  if (failed(checkRowWidth(b, "argmax_rows", r.hidden)))
    return failure();
  KernelBuilder kb(b);
  int64_t vectors = r.hidden / 8;
  int threads = rowBlockSize(vectors);
  int warps = threads / 32;

  SmallVector<KernelParam> params(abi::kCount);
  params[abi::kX] = {"x", kb.buffer(kb.v4i32()), true};
  params[abi::kIds] = {"ids", kb.buffer(kb.i32()), false};
  params[abi::kNumRows] = {"num_rows", kb.i32(), false};
  KernelShell shell = createKernelShell(
      b, entry, params,
      {kb.workgroupBuffer(kb.f32(), warps), kb.workgroupBuffer(kb.i32(), warps)},
      threads);
  ValueRange args = shell.func.getArguments();
  Value bestValues = shell.func.getWorkgroupAttributions()[0];
  Value bestIndices = shell.func.getWorkgroupAttributions()[1];

  Value tid = kb.threadIdX();
  Value row = kb.blockIdX();
  Value base = kb.mul(row, vectors);
  Candidate best{kb.constF32(-std::numeric_limits<double>::infinity()),
                 kb.constI32(0)};
  auto loop = scf::ForOp::create(b, tid, kb.index(vectors), kb.index(threads),
                                 ValueRange{best.value, best.index});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value i = loop.getInductionVar();
    Candidate mine{loop.getRegionIterArg(0), loop.getRegionIterArg(1)};
    Value v = kb.extF32(kb.loadHalf8(args[abi::kX], kb.add(base, i)));
    Value first = kb.toI32(kb.mul(i, 8));
    for (int64_t e = 0; e < 8; ++e) {
      Value value = kb.extract(v, e);
      Value larger = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT,
                                           value, mine.value);
      Value index = arith::AddIOp::create(b, first, kb.constI32(e));
      mine = {kb.select(larger, value, mine.value),
              kb.select(larger, index, mine.index)};
    }
    scf::YieldOp::create(b, ValueRange{mine.value, mine.index});
  }
  best = {loop.getResult(0), loop.getResult(1)};

  for (int offset = 16; offset > 0; offset /= 2) {
    auto shuffle = [&](Value v) {
      return gpu::ShuffleOp::create(b, v, offset, 32, gpu::ShuffleMode::XOR)
          .getShuffleResult();
    };
    best = better(kb, best, {shuffle(best.value), shuffle(best.index)});
  }
  Value lane = kb.rem(tid, 32), warp = kb.div(tid, 32);
  Value laneZero = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane,
                                         kb.index(0));
  kb.ifThen(laneZero, [&] {
    kb.store(best.value, bestValues, warp);
    kb.store(best.index, bestIndices, warp);
  });
  kb.barrier();
  Value threadZero = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, tid,
                                           kb.index(0));
  kb.ifThen(threadZero, [&] {
    Candidate total{kb.load(bestValues, kb.index(0)),
                    kb.load(bestIndices, kb.index(0))};
    for (int w = 1; w < warps; ++w)
      total = better(kb, total, {kb.load(bestValues, kb.index(w)),
                                 kb.load(bestIndices, kb.index(w))});
    kb.store(total.index, args[abi::kIds], row);
  });
  return finishKernelIR(b, shell, threads);
}

} // namespace qtc::codegen
