//===- AttentionGenerator.cpp - Paged causal attention, one token per block ===//
//
// One block per (token, kv head) computes the token's G = heads / kv_heads
// query heads against the cached keys 0..pos of its sequence, so every key
// and value read serves the whole GQA group. Four warps split the keys in
// chunks of 32 (two 16-token KV blocks); each warp keeps an online softmax
// (running max, running sum, f32 accumulator) per head and the warps are
// merged through shared memory at the end.
//
//  - q . k: lane i of the warp takes key i of the chunk and walks its row
//    with 16-byte loads; q (pre-scaled by log2(e)/sqrt(head_dim), so the
//    softmax uses ex2) is read from shared memory as a broadcast.
//  - p . V: lane i owns head_dim/32 output dims; for each key of the chunk
//    it takes p and the key's cache row from the key's lane by shuffle and
//    reads its slice of the value row, coalesced over the warp.
//  - Keys past pos (the last chunk) get p = 0 and read the last valid key's
//    row, so no unwritten cache memory is touched.
//  - int8 pages (KvPageCodegen.h): a lane reads its key's 8-byte code
//    pieces and f16 scale (and zero) and dequantizes them in registers; the
//    value row's page offset, scale and zero come from the key's lane by
//    shuffle, each lane reading its head_dim/32 codes of the row.
//
// Prefill uses the flash-style kernel of AttentionPrefillGenerator.cpp where
// its schedule applies; for other shapes (GQA group above 8, head_dim above
// 128) this kernel serves prefill too, a block per prompt token, re-reading
// the sequence's cache for every token.
//
//===----------------------------------------------------------------------===//

#include "Generators.h"
#include "KernelBuilder.h"
#include "KvPageCodegen.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace qtc::codegen {
namespace {

namespace abi = rt::abi::attention;

constexpr int kWarps = 4;
constexpr int64_t kChunk = 32; // keys per warp step: one per lane

} // namespace

FailureOr<KernelIR> buildAttentionKernel(ImplicitLocOpBuilder &b,
                                         const KernelRequest &r,
                                         StringRef entry) {
  if (failed(checkAttentionShape(b, "attention", r)))
    return failure();
  const int64_t heads = r.heads, kvHeads = r.kvHeads, headDim = r.headDim;
  const int64_t perLane = headDim / 32; // value dims owned by a lane
  if (perLane != 1 && perLane != 2 && perLane != 4 && perLane != 8)
    return emitError(b.getLoc())
           << "attention kernel: head_dim must be 32, 64, 128 or 256, got "
           << headDim;
  KernelBuilder kb(b);
  const int64_t group = heads / kvHeads, blockSize = r.kvBlockSize;
  const int64_t qkvWidth = (heads + 2 * kvHeads) * headDim;
  const int threads = 32 * kWarps;
  VectorType f32x4 = kb.vec(4, kb.f32()), f32x8 = kb.vec(8, kb.f32());
  VectorType laneValues = kb.vec(perLane, kb.f16());

  SmallVector<KernelParam> params(abi::kCount);
  params[abi::kQkv] = {"qkv", kb.buffer(kb.vec(4, kb.f16())), true};
  // fp8 cache: 8-byte key loads, perLane bytes of a value row per lane.
  const bool fp8 = r.kvFp8(), int8 = r.kvInt8();
  params[abi::kKCache] = {"k_cache",
                          int8 ? kvPageBuffer(kb) : kb.buffer(fp8 ? kb.v2i32() : kb.v4i32()),
                          true};
  params[abi::kVCache] = {
      "v_cache", int8 ? kvPageBuffer(kb) : kb.buffer(fp8 ? kb.e4m3Packed(perLane) : laneValues),
      true};
  params[abi::kPositions] = {"positions", kb.buffer(kb.i32()), true};
  params[abi::kTokenSeq] = {"token_seq", kb.buffer(kb.i32()), true};
  params[abi::kBlockTables] = {"block_tables", kb.buffer(kb.i32()), true};
  params[abi::kOut] = {"out", kb.buffer(kb.f16()), false};
  params[abi::kNumTokens] = {"num_tokens", kb.i32(), false};
  params[abi::kMaxBlocksPerSeq] = {"max_blocks_per_seq", kb.i32(), false};
  SmallVector<Type> workgroup = {
      kb.workgroupBuffer(f32x4, group * headDim / 4),        // scaled q
      kb.workgroupBuffer(kb.f32(), kWarps * group),           // warp max
      kb.workgroupBuffer(kb.f32(), kWarps * group),           // warp sum
      kb.workgroupBuffer(kb.f32(), kWarps * group * headDim), // warp acc
  };
  KernelShell shell = createKernelShell(b, entry, params, workgroup, threads);
  ValueRange args = shell.func.getArguments();
  Value sharedQ = shell.func.getWorkgroupAttributions()[0];
  Value sharedMax = shell.func.getWorkgroupAttributions()[1];
  Value sharedSum = shell.func.getWorkgroupAttributions()[2];
  Value sharedAcc = shell.func.getWorkgroupAttributions()[3];

  Value token = kb.blockIdX();
  Value kvHead = kb.blockIdY();
  Value tid = kb.threadIdX();
  Value lane = kb.rem(tid, 32), warp = kb.div(tid, 32);
  Value position = kb.toIndex(kb.load(args[abi::kPositions], token));
  Value seq = kb.toIndex(kb.load(args[abi::kTokenSeq], token));
  Value numKeys = kb.add(position, 1);
  Value lastKey = position;
  Value tableRow = kb.mul(seq, kb.toIndex(args[abi::kMaxBlocksPerSeq]));

  // q of the group's heads, scaled, into shared memory.
  double qScale = 1.0 / std::sqrt(double(headDim)) / std::log(2.0);
  Value qBase = kb.div(kb.add(kb.mul(token, qkvWidth),
                              kb.mul(kvHead, group * headDim)), 4);
  Value qScaleVec = vector::BroadcastOp::create(b, f32x4, kb.constF32(qScale));
  kb.stridedLoop(tid, group * headDim / 4, threads, [&](Value i) {
    Value q = kb.extF32(kb.load(args[abi::kQkv], kb.add(qBase, i)));
    kb.store(kb.mulF(q, qScaleVec), sharedQ, i);
  });
  kb.barrier();

  // Loop state per head: running max, running sum, perLane accumulators.
  const double lowest = -1.0e30; // finite: max - max never gives inf - inf
  SmallVector<Value> init;
  for (int64_t h = 0; h < group; ++h)
    init.push_back(kb.constF32(lowest));
  for (int64_t h = 0; h < group; ++h)
    init.push_back(kb.constF32(0.0));
  for (int64_t h = 0; h < group; ++h)
    init.push_back(kb.zeros(kb.vec(perLane, kb.f32())));
  Value numChunks = kb.div(kb.add(numKeys, kChunk - 1), kChunk);
  auto loop = scf::ForOp::create(b, warp, numChunks, kb.index(kWarps), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    ValueRange state = loop.getRegionIterArgs();
    SmallVector<Value> runMax(state.begin(), state.begin() + group);
    SmallVector<Value> runSum(state.begin() + group, state.begin() + 2 * group);
    SmallVector<Value> acc(state.begin() + 2 * group, state.end());

    Value chunk = loop.getInductionVar();
    Value key = kb.add(kb.mul(chunk, kChunk), lane);
    Value valid = kb.ult(key, numKeys);
    Value clamped = kb.min(key, lastKey);
    Value block = kb.toIndex(kb.load(
        args[abi::kBlockTables], kb.add(tableRow, kb.div(clamped, blockSize))));
    Value pageIndex = kb.add(kb.mul(block, kvHeads), kvHead);
    Value slot = kb.rem(clamped, blockSize);
    // The row of (page, slot): the element row of f16/fp8 caches, the page
    // row of int8 ones (page * block_size + slot).
    Value pageRow = kb.add(kb.mul(pageIndex, blockSize), slot);
    Value rowOffset = kb.mul(pageRow, headDim);
    // int8: this lane's key page, its scale and zero.
    KvPageRef keyPages{int8KvPage(r, true), args[abi::kKCache]};
    KvPageRef valuePages{int8KvPage(r, false), args[abi::kVCache]};
    Value kPage, kScale, kZero;
    if (int8) {
      kPage = keyPages.page(kb, pageIndex);
      kScale = loadHalfAsF32(kb, keyPages.cache, keyPages.scale(kb, kPage, slot));
      if (!keyPages.symmetric())
        kZero = loadHalfAsF32(kb, keyPages.cache, keyPages.zero(kb, kPage, slot));
    }

    // Scores of this lane's key for every head.
    SmallVector<Value> dot(group, kb.zeros(f32x8));
    Value kBase = kb.div(rowOffset, 8);
    for (int64_t d8 = 0; d8 < headDim / 8; ++d8) {
      Value kAt = kb.add(kBase, d8);
      Value k;
      if (int8)
        k = decodeInt8(kb,
                       loadBytes(kb, keyPages.cache,
                                 kb.add(keyPages.codes(kb, kPage, slot), d8 * 8), 8),
                       kScale, kZero);
      else
        k = kb.extF32(fp8 ? kb.loadE4M3x8(args[abi::kKCache], kAt)
                          : kb.loadHalf8(args[abi::kKCache], kAt));
      for (int64_t h = 0; h < group; ++h) {
        int64_t q4 = (h * headDim + d8 * 8) / 4;
        Value lo = kb.load(sharedQ, kb.index(q4));
        Value hi = kb.load(sharedQ, kb.index(q4 + 1));
        Value q = vector::ShuffleOp::create(b, lo, hi,
                                            ArrayRef<int64_t>{0, 1, 2, 3, 4, 5, 6, 7});
        dot[h] = kb.fma(k, q, dot[h]);
      }
    }
    Value minusInf = kb.constF32(-std::numeric_limits<double>::infinity());
    SmallVector<Value> p(group);
    for (int64_t h = 0; h < group; ++h) {
      Value score = kb.select(valid, kb.reduceAdd(dot[h]), minusInf);
      Value newMax = kb.maxF(runMax[h], kb.warpMax(score));
      Value alpha = kb.exp2Approx(kb.subF(runMax[h], newMax));
      p[h] = kb.select(valid, kb.exp2Approx(kb.subF(score, newMax)),
                       kb.constF32(0.0));
      runSum[h] = kb.fma(runSum[h], alpha, kb.warpSum(p[h]));
      runMax[h] = newMax;
      acc[h] = kb.mulF(acc[h], vector::BroadcastOp::create(
                                   b, kb.vec(perLane, kb.f32()), alpha));
    }

    // Values: key j's row comes from lane j (int8: its page row, value
    // scale and zero).
    Value rowI32 = kb.toI32(int8 ? pageRow : kb.div(rowOffset, perLane));
    Value vScale, vZero;
    if (int8) {
      Value vPage = valuePages.page(kb, pageIndex);
      vScale = loadHalfAsF32(kb, valuePages.cache, valuePages.scale(kb, vPage, slot));
      if (!valuePages.symmetric())
        vZero = loadHalfAsF32(kb, valuePages.cache, valuePages.zero(kb, vPage, slot));
    }
    for (int64_t j = 0; j < kChunk; ++j) {
      Value src = kb.index(j);
      Value row = kb.toIndex(kb.shuffleIdx(rowI32, src));
      Value v;
      if (int8) {
        Value page = valuePages.page(kb, kb.div(row, blockSize));
        Value at = kb.add(valuePages.codes(kb, page, kb.rem(row, blockSize)),
                          kb.mul(lane, perLane));
        v = decodeInt8(kb, loadBytes(kb, valuePages.cache, at, perLane),
                       kb.shuffleIdx(vScale, src),
                       vZero ? kb.shuffleIdx(vZero, src) : Value());
      } else {
        Value vRaw = kb.load(args[abi::kVCache], kb.add(row, lane));
        v = kb.extF32(fp8 ? kb.e4m3ToF16(vRaw) : vRaw);
      }
      for (int64_t h = 0; h < group; ++h) {
        Value pj = kb.shuffleIdx(p[h], src);
        acc[h] = kb.fma(vector::BroadcastOp::create(
                            b, kb.vec(perLane, kb.f32()), pj),
                        v, acc[h]);
      }
    }
    SmallVector<Value> next;
    next.append(runMax);
    next.append(runSum);
    next.append(acc);
    scf::YieldOp::create(b, next);
  }
  ValueRange results = loop.getResults();

  // Merge the warps' softmax states.
  Value isLaneZero = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane,
                                           kb.index(0));
  for (int64_t h = 0; h < group; ++h) {
    Value at = kb.add(kb.mul(warp, group), h);
    kb.ifThen(isLaneZero, [&] {
      kb.store(results[h], sharedMax, at);
      kb.store(results[group + h], sharedSum, at);
    });
    Value accBase = kb.add(kb.mul(at, headDim), kb.mul(lane, perLane));
    for (int64_t e = 0; e < perLane; ++e)
      kb.store(kb.extract(results[2 * group + h], e), sharedAcc,
               kb.add(accBase, e));
  }
  kb.barrier();
  Value outBase = kb.add(kb.mul(token, heads * headDim),
                         kb.mul(kvHead, group * headDim));
  kb.stridedLoop(tid, group * headDim, threads, [&](Value i) {
    Value h = kb.div(i, headDim), d = kb.rem(i, headDim);
    SmallVector<Value> maxes;
    Value total = kb.constF32(lowest);
    for (int w = 0; w < kWarps; ++w) {
      maxes.push_back(kb.load(sharedMax, kb.add(h, w * group)));
      total = kb.maxF(total, maxes.back());
    }
    Value num = kb.constF32(0.0), den = kb.constF32(0.0);
    for (int w = 0; w < kWarps; ++w) {
      Value at = kb.add(h, w * group);
      Value weight = kb.exp2Approx(kb.subF(maxes[w], total));
      den = kb.fma(kb.load(sharedSum, at), weight, den);
      num = kb.fma(kb.load(sharedAcc, kb.add(kb.mul(at, headDim), d)), weight,
                   num);
    }
    Value o = arith::DivFOp::create(b, num, den);
    kb.store(kb.truncF16(o), args[abi::kOut], kb.add(outBase, i));
  });
  return finishKernelIR(b, shell, threads);
}

} // namespace qtc::codegen
