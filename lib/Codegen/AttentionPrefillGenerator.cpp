//===- AttentionPrefillGenerator.cpp - Flash-style causal prefill attention ===//
//
// A block takes 16 consecutive token rows of the batch and one KV head; its
// G = heads / kv_heads warps each own one query head of the GQA group for
// those 16 rows. The sequence's cached keys and values are streamed through
// shared memory 16 keys at a time, once per tile (the per-token kernel in
// AttentionGenerator.cpp reads them once per token), and every warp keeps an
// online softmax (running max and sum in f32) for its 16 rows.
//
// Both products are on tensor cores (mma.sync.m16n8k16, f16 operands, f32
// accumulation), with the FlashAttention-2 register layout:
//  - S = Q K^T: A is the warp's 16 query rows (held in registers for the
//    whole kernel), B comes from the staged keys (row-major [key][dim], so a
//    B register is one 32-bit shared load).
//  - O += P V: the C fragment of S is exactly the A fragment of P (rows g and
//    g+8, keys 2q.. and 2q+8..), so P never leaves registers; V is staged
//    transposed ([dim][key] pairs) so that its B registers are 32-bit loads.
//  - Row max is reduced over the 4 lanes of a quad; the row sum stays
//    per-lane until the end.
//
// Tiles: when every valid row of the tile belongs to one sequence (the usual
// prefill chunk, consecutive positions), one pass over keys 0..max(pos) serves
// all 16 rows, each masked causally at its own position (so positions need
// not be consecutive). A tile spanning sequences makes one such pass per
// sequence, each storing that sequence's rows: correct for any batch layout,
// and as many key sweeps as the tile has sequences.
//
// Not done: single staging buffer with plain loads and two barriers per
// 16-key step (no cp.async double buffering, no ldmatrix), no split over
// keys, 16 query rows per warp.
//
//===----------------------------------------------------------------------===//

#include "Generators.h"
#include "KernelBuilder.h"
#include "MmaFragments.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace qtc::codegen {
namespace {

namespace abi = rt::abi::attention;

constexpr int64_t kTileRows = 16; // query rows per block (mma M)
constexpr int64_t kChunkKeys = 16; // keys staged per step (mma K of P V)
constexpr int kMaxGroup = 8;      // warps per block = query heads per KV head
constexpr int64_t kMaxHeadDim = 128;
// Padding (in 32-bit words) of the staged rows: it spreads the 8 rows a B
// load touches over distinct banks.
constexpr int64_t kRowPadWords = 4;

class FlashEmitter {
public:
  FlashEmitter(KernelBuilder &kb, const KernelRequest &r, ValueRange args,
               Value sharedK, Value sharedVt)
      : kb(kb), b(kb.b), args(args), sharedK(sharedK), sharedVt(sharedVt),
        kvHeads(r.kvHeads), group(r.heads / r.kvHeads), headDim(r.headDim),
        blockSize(r.kvBlockSize), kvFp8(r.kvFp8()),
        qkvWidth((r.heads + 2 * r.kvHeads) * r.headDim),
        outWidth(r.heads * r.headDim) {}

  void emit();

private:
  int64_t kWords() const { return headDim / 2 + kRowPadWords; }
  int64_t vtWords() const { return kChunkKeys / 2 + kRowPadWords; }
  int threads() const { return 32 * static_cast<int>(group); }

  // Integer max over the warp's 32 lanes (every lane gets it).
  Value warpMaxI32(Value v);
  // f32 reduction over the 4 lanes of a quad (lanes 4g..4g+3).
  Value quadReduce(Value v, bool max);
  Value tokenAt(Value row); // batch row index, clamped into the batch
  Value loadI32(int param, Value row) {
    return kb.toIndex(kb.load(args[param], tokenAt(row)));
  }
  // Eight cache elements (f16, or e4m3 widened to f16) at element
  // index8 * 8 of the K or V cache.
  Value loadCache8(int param, Value index8) {
    return kvFp8 ? kb.loadE4M3x8(args[param], index8)
                 : kb.loadHalf8(args[param], index8);
  }
  // Stages keys chunk*16 .. +15 of `seq` (zeros at and past keyEnd).
  void stageChunk(Value chunk, Value seq, Value keyEnd);
  // One pass over keys 0..keyEnd-1 of `seq`; rows r (g and g+8) see keys up
  // to rowPos[r]; rows with store[r] set are written.
  void pass(Value seq, Value keyEnd, Value rowPos[2], Value store[2]);

  KernelBuilder &kb;
  ImplicitLocOpBuilder &b;
  ValueRange args;
  Value sharedK, sharedVt;
  int64_t kvHeads, group, headDim, blockSize;
  bool kvFp8;
  int64_t qkvWidth, outWidth;

  Value tid, warp, lane, g, q, kvHead, rowBase, numTokens, lastToken;
  Value tableStride;
  SmallVector<Value> qFrags; // A operands of Q, one per 16 dims
};

Value FlashEmitter::warpMaxI32(Value v) {
  for (int offset = 16; offset > 0; offset /= 2) {
    auto shfl = gpu::ShuffleOp::create(b, v, offset, 32, gpu::ShuffleMode::XOR);
    v = arith::MaxSIOp::create(b, v, shfl.getShuffleResult());
  }
  return v;
}

Value FlashEmitter::quadReduce(Value v, bool max) {
  for (int offset = 1; offset < 4; offset *= 2) {
    auto shfl = gpu::ShuffleOp::create(b, v, offset, 32, gpu::ShuffleMode::XOR);
    v = max ? kb.maxF(v, shfl.getShuffleResult())
            : kb.addF(v, shfl.getShuffleResult());
  }
  return v;
}

Value FlashEmitter::tokenAt(Value row) { return kb.min(row, lastToken); }

void FlashEmitter::stageChunk(Value chunk, Value seq, Value keyEnd) {
  const int64_t vecsPerRow = headDim / 8;
  Value zero8 = kb.zeros(kb.vec(8, kb.f16()));
  Value lastKey = kb.sub(keyEnd, kb.index(1));
  Value tableRow = kb.mul(seq, tableStride);
  // Cache element offset of key j's row for this KV head, and whether j is
  // inside the pass (keys past it are staged as zeros: they may be unwritten
  // memory, and even a zero p times a NaN value would poison the product).
  auto keyRow = [&](Value j, Value *valid) {
    *valid = kb.ult(j, keyEnd);
    Value jc = kb.min(j, lastKey);
    Value block = kb.toIndex(
        kb.load(args[abi::kBlockTables], kb.add(tableRow, kb.div(jc, blockSize))));
    return kb.mul(kb.add(kb.mul(kb.add(kb.mul(block, kvHeads), kvHead), blockSize),
                         kb.rem(jc, blockSize)),
                  headDim);
  };
  Value firstKey = kb.mul(chunk, kChunkKeys);
  // Keys: [key][dim] pairs, 16-byte loads of 8 dims.
  kb.stridedLoop(tid, kChunkKeys * vecsPerRow, threads(), [&](Value item) {
    Value key = kb.div(item, vecsPerRow), d8 = kb.rem(item, vecsPerRow);
    Value valid;
    Value row = keyRow(kb.add(firstKey, key), &valid);
    Value at = kb.add(kb.div(row, 8), d8);
    Value k = kb.select(valid, loadCache8(abi::kKCache, at), zero8);
    Value base = kb.add(kb.mul(key, kWords()), kb.mul(d8, 4));
    for (int64_t w = 0; w < 4; ++w)
      kb.store(kb.shuffle(k, {2 * w, 2 * w + 1}), sharedK, kb.add(base, w));
  });
  // Values, transposed: word (dim, key pair) holds keys (2i, 2i+1) of a dim.
  kb.stridedLoop(tid, kChunkKeys / 2 * vecsPerRow, threads(), [&](Value item) {
    Value pair = kb.div(item, vecsPerRow), d8 = kb.rem(item, vecsPerRow);
    Value v[2];
    for (int e = 0; e < 2; ++e) {
      Value valid;
      Value row = keyRow(kb.add(firstKey, kb.add(kb.mul(pair, 2), e)), &valid);
      Value at = kb.add(kb.div(row, 8), d8);
      v[e] = kb.select(valid, loadCache8(abi::kVCache, at), zero8);
    }
    Value both = vector::ShuffleOp::create(
        b, v[0], v[1],
        ArrayRef<int64_t>{0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15});
    for (int64_t i = 0; i < 8; ++i) {
      Value dim = kb.add(kb.mul(d8, 8), i);
      kb.store(kb.shuffle(both, {2 * i, 2 * i + 1}), sharedVt,
               kb.add(kb.mul(dim, vtWords()), pair));
    }
  });
}

void FlashEmitter::pass(Value seq, Value keyEnd, Value rowPos[2],
                        Value store[2]) {
  VectorType accType = VectorType::get({2, 2}, kb.f32());
  const int64_t dimTiles = headDim / 8, dimSteps = headDim / 16;
  const double lowest = -1.0e30; // finite: max - max never gives inf - inf
  const double qScale = 1.0 / std::sqrt(double(headDim)) / std::log(2.0);

  SmallVector<Value> init;
  for (int r = 0; r < 2; ++r)
    init.push_back(kb.constF32(lowest)); // running max of row g, g+8
  for (int r = 0; r < 2; ++r)
    init.push_back(kb.constF32(0.0)); // this lane's part of the row sums
  for (int64_t t = 0; t < dimTiles; ++t)
    init.push_back(kb.zeros(accType));
  Value numChunks = kb.div(kb.add(keyEnd, kChunkKeys - 1), kChunkKeys);
  auto loop = scf::ForOp::create(b, kb.index(0), numChunks, kb.index(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value chunk = loop.getInductionVar();
    ValueRange state = loop.getRegionIterArgs();
    Value runMax[2] = {state[0], state[1]};
    Value runSum[2] = {state[2], state[3]};
    SmallVector<Value> acc(state.begin() + 4, state.end());

    stageChunk(chunk, seq, keyEnd);
    kb.barrier();

    // S = Q K^T for keys 0..7 and 8..15 of the chunk: B register of key
    // column g holds dims (2q, 2q+1) and (2q+8, 2q+9) of the step.
    Value s[2] = {kb.zeros(accType), kb.zeros(accType)};
    for (int64_t kk = 0; kk < dimSteps; ++kk)
      for (int nt = 0; nt < 2; ++nt) {
        Value row = kb.add(kb.mul(kb.add(g, nt * 8), kWords()),
                           kb.add(q, kk * 8));
        Value bOp = buildOperandB(kb, kb.load(sharedK, row),
                                  kb.load(sharedK, kb.add(row, 4)));
        s[nt] = mmaSync(kb, qFrags[kk], bOp, s[nt]);
      }

    // Online softmax. Element (r, e) of tile nt is row g + 8r, key
    // chunk*16 + 8nt + 2q + e; keys past the row's position get p = 0.
    Value firstKey = kb.mul(chunk, kChunkKeys);
    Value minusInf = kb.constF32(-std::numeric_limits<double>::infinity());
    Value scale = kb.constF32(qScale);
    Value p[2][2][2]; // [nt][r][e]
    Value alpha[2];
    for (int r = 0; r < 2; ++r) {
      Value scores[2][2];
      Value rowMax = minusInf;
      for (int nt = 0; nt < 2; ++nt)
        for (int e = 0; e < 2; ++e) {
          Value key = kb.add(firstKey, kb.add(kb.mul(q, 2), nt * 8 + e));
          Value valid = arith::CmpIOp::create(b, arith::CmpIPredicate::ule, key,
                                              rowPos[r]);
          Value raw = vector::ExtractOp::create(b, s[nt], ArrayRef<int64_t>{r, e});
          scores[nt][e] = kb.select(valid, kb.mulF(raw, scale), minusInf);
          rowMax = kb.maxF(rowMax, scores[nt][e]);
        }
      Value newMax = kb.maxF(runMax[r], quadReduce(rowMax, /*max=*/true));
      alpha[r] = kb.exp2Approx(kb.subF(runMax[r], newMax));
      Value sum = kb.constF32(0.0);
      for (int nt = 0; nt < 2; ++nt)
        for (int e = 0; e < 2; ++e) {
          // exp2(-inf - finite) is +0: masked keys need no select.
          p[nt][r][e] = kb.exp2Approx(kb.subF(scores[nt][e], newMax));
          sum = kb.addF(sum, p[nt][r][e]);
        }
      runSum[r] = kb.fma(runSum[r], alpha[r], sum);
      runMax[r] = newMax;
    }
    // Rescale O rows by alpha: C elements (r, e) belong to row g + 8r.
    Value alphaTile = vector::FromElementsOp::create(
        b, accType, ValueRange{alpha[0], alpha[0], alpha[1], alpha[1]});
    for (Value &a : acc)
      a = kb.mulF(a, alphaTile);

    // P as the A operand: registers (row g, keys 2q..), (row g+8, keys
    // 2q..), (row g, keys 2q+8..), (row g+8, keys 2q+8..).
    auto pairF16 = [&](int nt, int r) {
      return kb.truncF16(vector::FromElementsOp::create(
          b, kb.vec(2, kb.f32()), ValueRange{p[nt][r][0], p[nt][r][1]}));
    };
    Value pOperand = kb.zeros(VectorType::get({4, 2}, kb.f16()));
    pOperand = vector::InsertOp::create(b, pairF16(0, 0), pOperand, 0);
    pOperand = vector::InsertOp::create(b, pairF16(0, 1), pOperand, 1);
    pOperand = vector::InsertOp::create(b, pairF16(1, 0), pOperand, 2);
    pOperand = vector::InsertOp::create(b, pairF16(1, 1), pOperand, 3);

    // O += P V: B register of dim column g holds keys (2q, 2q+1) and
    // (2q+8, 2q+9), i.e. words q and q+4 of the transposed row.
    for (int64_t t = 0; t < dimTiles; ++t) {
      Value row = kb.add(kb.mul(kb.add(g, t * 8), vtWords()), q);
      Value bOp = buildOperandB(kb, kb.load(sharedVt, row),
                                kb.load(sharedVt, kb.add(row, 4)));
      acc[t] = mmaSync(kb, pOperand, bOp, acc[t]);
    }
    kb.barrier(); // before the next chunk overwrites the staged keys

    SmallVector<Value> next = {runMax[0], runMax[1], runSum[0], runSum[1]};
    next.append(acc);
    scf::YieldOp::create(b, next);
  }
  ValueRange results = loop.getResults();

  // O / row sum, stored as f16 for the rows this pass owns.
  Value head = kb.add(kb.mul(kvHead, group), warp);
  for (int r = 0; r < 2; ++r) {
    Value inv = arith::DivFOp::create(b, kb.constF32(1.0),
                                      quadReduce(results[2 + r], /*max=*/false));
    Value token = kb.add(rowBase, kb.add(g, 8 * r));
    kb.ifThen(store[r], [&] {
      Value base = kb.add(kb.mul(token, outWidth), kb.mul(head, headDim));
      for (int64_t t = 0; t < dimTiles; ++t)
        for (int e = 0; e < 2; ++e) {
          Value o = vector::ExtractOp::create(b, results[4 + t],
                                              ArrayRef<int64_t>{r, e});
          Value dim = kb.add(kb.mul(q, 2), t * 8 + e);
          kb.store(kb.truncF16(kb.mulF(o, inv)), args[abi::kOut],
                   kb.add(base, dim));
        }
    });
  }
}

void FlashEmitter::emit() {
  tid = kb.threadIdX();
  warp = kb.div(tid, 32);
  lane = kb.rem(tid, 32);
  g = kb.div(lane, 4);
  q = kb.rem(lane, 4);
  rowBase = kb.mul(kb.blockIdX(), kTileRows);
  kvHead = kb.blockIdY();
  numTokens = kb.toIndex(args[abi::kNumTokens]);
  lastToken = kb.sub(numTokens, kb.index(1));
  tableStride = kb.toIndex(args[abi::kMaxBlocksPerSeq]);
  Value numValid = kb.min(kb.sub(numTokens, rowBase), kTileRows);

  // Q fragments of this warp's head: A registers (row g, dims 2q..),
  // (row g+8, 2q..), (row g, 2q+8..), (row g+8, 2q+8..) per 16 dims. Rows
  // past the batch read its last token and are never stored.
  Value head = kb.add(kb.mul(kvHead, group), warp);
  Value qRow[2];
  for (int r = 0; r < 2; ++r)
    qRow[r] = kb.div(kb.add(kb.mul(tokenAt(kb.add(rowBase, kb.add(g, 8 * r))),
                                   qkvWidth),
                            kb.add(kb.mul(head, headDim), kb.mul(q, 2))),
                     2);
  for (int64_t kk = 0; kk < headDim / 16; ++kk) {
    Value a = kb.zeros(VectorType::get({4, 2}, kb.f16()));
    int64_t pos = 0;
    for (int64_t hi = 0; hi < 2; ++hi)
      for (int r = 0; r < 2; ++r)
        a = vector::InsertOp::create(
            b, kb.load(args[abi::kQkv], kb.add(qRow[r], kk * 8 + hi * 4)), a,
            pos++);
    qFrags.push_back(a);
  }

  // One sequence for the whole tile? Lane l looks at row l % 16 (clamped to
  // the valid rows); every warp reaches the same answer, so the block's
  // control flow stays uniform.
  Value myRow = kb.add(rowBase, kb.min(kb.rem(lane, kTileRows),
                                       kb.sub(numValid, kb.index(1))));
  Value firstSeq = kb.toI32(loadI32(abi::kTokenSeq, rowBase));
  Value mySeq = kb.toI32(loadI32(abi::kTokenSeq, myRow));
  Value differs = arith::ExtUIOp::create(
      b, kb.i32(), arith::CmpIOp::create(b, arith::CmpIPredicate::ne, mySeq, firstSeq));
  Value uniform = arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                                        warpMaxI32(differs), kb.constI32(0));
  Value maxPos = kb.toIndex(warpMaxI32(kb.toI32(loadI32(abi::kPositions, myRow))));

  Value rows[2] = {kb.add(rowBase, g), kb.add(rowBase, kb.add(g, 8))};
  auto ifOp = scf::IfOp::create(b, uniform, /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    Value rowPos[2], store[2];
    for (int r = 0; r < 2; ++r) {
      rowPos[r] = loadI32(abi::kPositions, rows[r]);
      store[r] = kb.ult(rows[r], numTokens);
    }
    pass(kb.toIndex(firstSeq), kb.add(maxPos, 1), rowPos, store);

    // Rows of several sequences: one pass per sequence, started at the
    // sequence's first row in the tile, serving all of its rows.
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    Value myPos = kb.toI32(loadI32(abi::kPositions, myRow));
    Value myIndex = kb.rem(lane, kTileRows);
    kb.forLoop(kb.index(0), numValid, kb.index(1), [&](Value i) {
      Value row = kb.add(rowBase, i);
      Value seq = kb.toI32(loadI32(abi::kTokenSeq, row));
      Value mine = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, mySeq, seq);
      Value seenBefore = arith::AndIOp::create(b, mine, kb.ult(myIndex, i));
      Value first = arith::CmpIOp::create(
          b, arith::CmpIPredicate::eq,
          warpMaxI32(arith::ExtUIOp::create(b, kb.i32(), seenBefore)),
          kb.constI32(0));
      kb.ifThen(first, [&] {
        Value keyEnd = kb.add(
            kb.toIndex(warpMaxI32(kb.select(mine, myPos, kb.constI32(0)))), 1);
        Value anyPos = loadI32(abi::kPositions, row);
        Value rowPos[2], store[2];
        for (int r = 0; r < 2; ++r) {
          Value same = arith::CmpIOp::create(
              b, arith::CmpIPredicate::eq,
              kb.toI32(loadI32(abi::kTokenSeq, rows[r])), seq);
          // Rows of other sequences compute on finite data, never stored.
          rowPos[r] = kb.select(same, loadI32(abi::kPositions, rows[r]), anyPos);
          store[r] = arith::AndIOp::create(b, same, kb.ult(rows[r], numTokens));
        }
        pass(kb.toIndex(seq), keyEnd, rowPos, store);
      });
    });
  }
}

} // namespace

bool usesFlashPrefillAttention(const KernelRequest &r) {
  // int8 pages are read by the per-token kernel only (no flash schedule
  // dequantizes them yet).
  if (r.decode || r.kvInt8() || r.heads <= 0 || r.kvHeads <= 0 || r.heads % r.kvHeads != 0)
    return false;
  int64_t group = r.heads / r.kvHeads;
  return group <= kMaxGroup && r.headDim % 16 == 0 && r.headDim <= kMaxHeadDim &&
         r.kvBlockSize > 0 && r.kvBlockSize % kChunkKeys == 0;
}

FailureOr<KernelIR> buildFlashPrefillAttentionKernel(ImplicitLocOpBuilder &b,
                                                     const KernelRequest &r,
                                                     StringRef entry) {
  if (failed(checkAttentionShape(b, "attention", r)))
    return failure();
  if (!usesFlashPrefillAttention(r))
    return emitError(b.getLoc())
           << "attention kernel: no flash prefill schedule for " << r.heads
           << "/" << r.kvHeads << " heads of " << r.headDim
           << " with KV blocks of " << r.kvBlockSize;
  KernelBuilder kb(b);
  const int64_t group = r.heads / r.kvHeads, headDim = r.headDim;
  VectorType pairType = kb.vec(2, kb.f16());

  SmallVector<KernelParam> params(abi::kCount);
  params[abi::kQkv] = {"qkv", kb.buffer(pairType), true};
  // 16 bytes per 8 f16 elements, 8 per 8 e4m3 ones.
  Type cacheVector = r.kvFp8() ? kb.v2i32() : kb.v4i32();
  params[abi::kKCache] = {"k_cache", kb.buffer(cacheVector), true};
  params[abi::kVCache] = {"v_cache", kb.buffer(cacheVector), true};
  params[abi::kPositions] = {"positions", kb.buffer(kb.i32()), true};
  params[abi::kTokenSeq] = {"token_seq", kb.buffer(kb.i32()), true};
  params[abi::kBlockTables] = {"block_tables", kb.buffer(kb.i32()), true};
  params[abi::kOut] = {"out", kb.buffer(kb.f16()), false};
  params[abi::kNumTokens] = {"num_tokens", kb.i32(), false};
  params[abi::kMaxBlocksPerSeq] = {"max_blocks_per_seq", kb.i32(), false};
  SmallVector<Type> workgroup = {
      kb.workgroupBuffer(pairType, kChunkKeys * (headDim / 2 + kRowPadWords)),
      kb.workgroupBuffer(pairType, headDim * (kChunkKeys / 2 + kRowPadWords)),
  };
  const int threads = 32 * static_cast<int>(group);
  KernelShell shell = createKernelShell(b, entry, params, workgroup, threads);
  FlashEmitter emitter(kb, r, shell.func.getArguments(),
                       shell.func.getWorkgroupAttributions()[0],
                       shell.func.getWorkgroupAttributions()[1]);
  emitter.emit();
  KernelIR ir = finishKernelIR(b, shell, threads);
  ir.tile.tileM = kTileRows;
  return ir;
}

} // namespace qtc::codegen
