//===- LinearW8A8Generator.cpp - 8-bit x 8-bit Linear (W8A8, FP8) ---------===//
//
// out[t, n] = s[t] * scale_w[n] * sum_k qx[t, k] qw[n, k] (+ bias, residual)
// for an input slot of per-token rows (qtc/rt/QuantizedRows.h: codes qx and
// row scales s[t], written by the producer, a quantizing RmsNorm or
// QuantizeRows) and a weight of codes with one scale per row:
//   W8A8 (Int8PerToken, Int8Group weights, f16 scales): mma.sync m16n8k32
//     s8 x s8 -> s32. The integer sum is exact (|sum| <= 128 * 127 * K stays
//     far below 2^31 for any K this accepts, so satfinite never clips).
//   FP8 (Fp8PerToken, Fp8Channel weights, f32 scales): mma.sync m16n8k32
//     e4m3 x e4m3 -> f32 (sm_89+), as inline PTX: NVVM's mma op has no dense
//     e4m3 form. The fragments of the 8-bit types are the same, so only the
//     instruction and the accumulator type differ.
//
// A block owns 64 output features (4 warps x 16 rows) and 8 (decode) or 32
// (prefill) tokens. It keeps its tokens' s[t] in shared memory and, per
// stage of K, copies its tokens' codes into shared memory once per block;
// every warp multiplies its weight rows by them.
//
// Fragments (PTX ISA, m16n8k32 .s8): lane (g = lane / 4, q = lane % 4) holds
// A rows g and g+8 at k 4q..4q+3 (registers 0, 1) and 16+4q.. (2, 3), and B
// column g at the same k. As in MmaFragments.h the kernel chooses which
// channels sit at a lane's k positions: the lane loads 16-byte chunk c of
// rows g and g+8 (16 channels) and the same chunk of token g's codes, and
// feeds words 0, 1 to one mma and words 2, 3 to the next. A and B thus see
// the same channels and the reduction over k is the row's dot product.
//
// Not done: a split-K decode schedule (a decode block spans 64 features, so
// 4096 outputs launch only 64 blocks) and cp.async staging; on sm_90 the
// prefill GEMM is LinearWgmmaGenerator's s8 and e4m3 variants, and this
// kernel serves decode batches (and prefill on sm_89).
//
//===----------------------------------------------------------------------===//

#include "Generators.h"
#include "KernelBuilder.h"
#include "MmaFragments.h"
#include "PtxLowering.h"
#include "RowQuantization.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace qtc::codegen {
namespace {

namespace abi = rt::abi::linear;

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int64_t kWarpRows = 16;     // mma M per warp
constexpr int64_t kChunk = 16;        // int8 channels per 16-byte chunk
constexpr int64_t kStageBytes = 16384; // int8 codes staged per K stage
constexpr int64_t kUnroll = 2;         // chunks per lane per loop iteration

// The block's tile and K staging, shared by the emitter and the shell.
struct W8A8Tile {
  int64_t tokenTiles;   // mma N tiles of 8 tokens
  int64_t tileTokens;
  int64_t chunksPerRow; // 16-byte chunks of a weight row
  int64_t stageChunks;  // chunks of K staged at once
  int64_t rowStride;    // staged vectors per token: a 16-byte pad spreads
                        // the tokens of one load over the banks
};

W8A8Tile w8a8Tile(const KernelRequest &r) {
  W8A8Tile t;
  t.tokenTiles = r.decode ? 1 : 4;
  t.tileTokens = 8 * t.tokenTiles;
  t.chunksPerRow = r.inFeatures / kChunk;
  // Whole loop iterations (4 lanes x kUnroll chunks) per stage, no more
  // than K needs.
  const int64_t step = 4 * kUnroll;
  t.stageChunks = std::min(kStageBytes / t.tileTokens / kChunk,
                           (t.chunksPerRow + step - 1) / step * step);
  t.rowStride = t.stageChunks + 1;
  return t;
}

class W8A8Emitter {
public:
  W8A8Emitter(KernelBuilder &kb, const KernelRequest &r, ValueRange args,
              Value codes, Value tokenScales)
      : kb(kb), b(kb.b), args(args), codes(codes), tokenScales(tokenScales),
        n(r.outFeatures), k(r.inFeatures), bias(r.hasBias),
        residual(r.hasResidual),
        fp8(r.activation == rt::fb::ActivationQuant::Fp8PerToken) {
    W8A8Tile t = w8a8Tile(r);
    tokenTiles = t.tokenTiles;
    tileTokens = t.tileTokens;
    chunksPerRow = t.chunksPerRow;
    stageChunks = t.stageChunks;
    rowStride = t.rowStride;
  }

  void emit();

private:
  void emitTokenScales();
  void stageCodes(Value stage);
  void multiplyStage(Value stage, SmallVector<Value> &acc);
  void storeTile(ArrayRef<Value> acc);
  Value mma(Value a, Value bOperand, Value acc);
  Value zeroAccumulator();
  Value accumulatorSum(Value acc, int i);
  Value token(Value slot) { return kb.min(kb.add(tokenBase, slot), lastToken); }

  KernelBuilder &kb;
  ImplicitLocOpBuilder &b;
  ValueRange args;
  Value codes, tokenScales;
  int64_t n = 0, k = 0;
  bool bias = false, residual = false, fp8 = false;
  int64_t tokenTiles = 1, tileTokens = 8, chunksPerRow = 0, stageChunks = 0,
          rowStride = 0;

  Value tid, warp, lane, g, q, rowBase, tokenBase, numTokens, lastToken;
  Value weightRow[2];
};

void W8A8Emitter::emitTokenScales() {
  // The producer wrote each token's scale after the codes of the call.
  kb.ifThen(kb.ult(tid, tileTokens), [&] {
    kb.store(loadRowScale16(kb, args[abi::kX], numTokens, k, token(tid)), tokenScales, tid);
  });
}

void W8A8Emitter::stageCodes(Value stage) {
  const int64_t items = tileTokens * stageChunks;
  for (int64_t i = 0; i < (items + kThreads - 1) / kThreads; ++i) {
    Value item = kb.add(tid, i * kThreads);
    Value slot = kb.div(item, stageChunks), c = kb.rem(item, stageChunks);
    Value chunkAt = kb.add(kb.mul(stage, stageChunks), c);
    Value valid = arith::AndIOp::create(
        b, kb.ult(kb.add(tokenBase, slot), numTokens), kb.ult(chunkAt, chunksPerRow));
    if (items % kThreads)
      valid = arith::AndIOp::create(b, valid, kb.ult(item, items));
    Value safeSlot = kb.min(slot, tileTokens - 1);
    Value at = kb.add(kb.mul(token(safeSlot), chunksPerRow),
                      kb.min(chunkAt, chunksPerRow - 1));
    Value words = kb.load(args[abi::kX], at);
    // Tokens past the batch and channels past K are zero codes.
    words = kb.select(valid, words, kb.zeros(kb.v4i32()));
    kb.ifThen(kb.ult(item, items), [&] {
      kb.store(words, codes, kb.add(kb.mul(safeSlot, rowStride), c));
    });
  }
}

// Words (vector<R x i32>) as the i8 operand vector<R x 4 x i8>, register
// i = word i. Built row by row: a 2-D shape_cast does not lower here.
static Value asI8(KernelBuilder &kb, Value words, VectorType type) {
  int64_t rows = llvm::cast<VectorType>(words.getType()).getNumElements();
  Value bytes = vector::BitCastOp::create(kb.b, kb.vec(4 * rows, kb.b.getI8Type()), words);
  Value operand = kb.zeros(type);
  for (int64_t i = 0; i < rows; ++i)
    operand = vector::InsertOp::create(
        kb.b, kb.shuffle(bytes, {4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3}), operand, i);
  return operand;
}

void W8A8Emitter::multiplyStage(Value stage, SmallVector<Value> &acc) {
  VectorType aType = VectorType::get({4, 4}, b.getI8Type());
  VectorType bType = VectorType::get({2, 4}, b.getI8Type());
  const int64_t perIteration = 4 * kUnroll;
  auto loop = scf::ForOp::create(b, kb.index(0), kb.index(stageChunks / perIteration),
                                 kb.index(1), acc);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  SmallVector<Value> carried(loop.getRegionIterArgs());
  Value first = kb.mul(loop.getInductionVar(), perIteration);
  // Every load of the iteration first, then the mmas.
  SmallVector<std::array<Value, 2>> weights;
  SmallVector<Value> local;
  for (int64_t u = 0; u < kUnroll; ++u) {
    Value c = kb.add(first, kb.add(q, 4 * u)); // chunk within the stage
    // Chunks past the row read its last chunk; their codes are zero.
    Value at = kb.min(kb.add(kb.mul(stage, stageChunks), c), chunksPerRow - 1);
    weights.push_back({kb.load(args[abi::kWeight], kb.add(weightRow[0], at)),
                       kb.load(args[abi::kWeight], kb.add(weightRow[1], at))});
    local.push_back(c);
  }
  for (int64_t u = 0; u < kUnroll; ++u) {
    // A registers: rows (g, g+8) at k 4q.. then at k 16+4q.., i.e. words
    // (w0 of g, w0 of g+8, w1 of g, w1 of g+8) for the first mma.
    Value a[2];
    for (int h = 0; h < 2; ++h) {
      SmallVector<int64_t> mask = {2 * h, 4 + 2 * h, 2 * h + 1, 4 + 2 * h + 1};
      a[h] = vector::ShuffleOp::create(b, weights[u][0], weights[u][1], mask);
      if (!fp8)
        a[h] = asI8(kb, a[h], aType);
    }
    for (int64_t t = 0; t < tokenTiles; ++t) {
      Value x = kb.load(codes, kb.add(kb.mul(kb.add(g, 8 * t), rowStride), local[u]));
      for (int h = 0; h < 2; ++h) {
        Value bOp = kb.shuffle(x, {2 * h, 2 * h + 1});
        if (!fp8)
          bOp = asI8(kb, bOp, bType);
        carried[t] = mma(a[h], bOp, carried[t]);
      }
    }
  }
  scf::YieldOp::create(b, carried);
  b.setInsertionPointAfter(loop);
  acc.assign(loop.getResults().begin(), loop.getResults().end());
}

// The A operand is vector<4 x i32> (fp8) or vector<4x4xi8>, B vector<2 x
// i32> or vector<2x4xi8>; the accumulator vector<4xf32> or vector<2x2xi32>.
Value W8A8Emitter::mma(Value a, Value bOperand, Value acc) {
  if (!fp8)
    return nvgpu::MmaSyncOp::create(b, a, bOperand, acc, ArrayRef<int64_t>{16, 8, 32});
  SmallVector<Value> operands;
  for (int i = 0; i < 4; ++i)
    operands.push_back(vector::ExtractOp::create(b, a, ArrayRef<int64_t>{i}));
  for (int i = 0; i < 2; ++i)
    operands.push_back(vector::ExtractOp::create(b, bOperand, ArrayRef<int64_t>{i}));
  for (int i = 0; i < 4; ++i)
    operands.push_back(vector::ExtractOp::create(b, acc, ArrayRef<int64_t>{i}));
  Type f32 = kb.f32();
  Type result = LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
  auto op = LLVM::InlineAsmOp::create(
      b, result, operands,
      "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {$0, $1, $2, $3}, "
      "{$4, $5, $6, $7}, {$8, $9}, {$10, $11, $12, $13};",
      "=f,=f,=f,=f,r,r,r,r,r,r,f,f,f,f", /*has_side_effects=*/false,
      /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
      LLVM::AsmDialectAttr(), ArrayAttr());
  Value out = kb.zeros(VectorType::get({4}, f32));
  for (int64_t i = 0; i < 4; ++i)
    out = vector::InsertOp::create(
        b, LLVM::ExtractValueOp::create(b, op.getRes(), ArrayRef<int64_t>{i}), out, i);
  return out;
}

Value W8A8Emitter::zeroAccumulator() {
  return kb.zeros(fp8 ? VectorType::get({4}, kb.f32()) : VectorType::get({2, 2}, kb.i32()));
}

// C fragment element i (feature g + 8 (i / 2), token 2q + i % 2) as f32.
Value W8A8Emitter::accumulatorSum(Value acc, int i) {
  if (fp8)
    return vector::ExtractOp::create(b, acc, ArrayRef<int64_t>{i});
  Value sum = vector::ExtractOp::create(b, acc, ArrayRef<int64_t>{i / 2, i % 2});
  return arith::SIToFPOp::create(b, kb.f32(), sum);
}

void W8A8Emitter::storeTile(ArrayRef<Value> acc) {
  WeightChunk chunk = weightChunk(rt::fb::WeightFormat::Int8Group);
  Value rowScale[2];
  for (int r = 0; r < 2; ++r) {
    Value row = kb.min(kb.add(rowBase, kb.add(kb.mul(warp, kWarpRows), kb.add(g, 8 * r))),
                       n - 1);
    // fp8: the f32 scale as stored, in no other unit (as the wgmma GEMM).
    rowScale[r] = fp8 ? kb.load(args[abi::kScales], row)
                      : loadRowScale(kb, chunk, args[abi::kScales], row);
  }
  // C fragment element (i / 2, i % 2) of token tile t: feature g + 8 (i / 2),
  // token 8t + 2q + i % 2.
  for (int64_t t = 0; t < tokenTiles; ++t)
    for (int i = 0; i < 4; ++i) {
      Value slot = kb.add(kb.mul(q, 2), 8 * t + i % 2);
      Value row = kb.add(rowBase, kb.add(kb.mul(warp, kWarpRows), kb.add(g, 8 * (i / 2))));
      Value tok = kb.add(tokenBase, slot);
      Value sum = accumulatorSum(acc[t], i);
      Value inside = arith::AndIOp::create(b, kb.ult(tok, numTokens), kb.ult(row, n));
      kb.ifThen(inside, [&] {
        Value at = kb.add(kb.mul(tok, n), row);
        // Rounded operations (no fma contraction): kernel-check replicates
        // this arithmetic bit for bit.
        Value scale = kb.mulRn(kb.load(tokenScales, slot), rowScale[i / 2]);
        Value v = kb.mulRn(sum, scale);
        if (bias)
          v = kb.addRn(v, kb.extF32(kb.load(args[abi::kBias], row)));
        if (residual)
          v = kb.addRn(v, kb.extF32(kb.load(args[abi::kResidual], at)));
        kb.store(kb.truncF16(v), args[abi::kOut], at);
      });
    }
}

void W8A8Emitter::emit() {
  tid = kb.threadIdX();
  warp = kb.div(tid, 32);
  lane = kb.rem(tid, 32);
  g = kb.div(lane, 4);
  q = kb.rem(lane, 4);
  rowBase = kb.mul(kb.blockIdX(), kWarpRows * kWarps);
  tokenBase = kb.mul(kb.blockIdY(), tileTokens);
  numTokens = kb.toIndex(args[abi::kNumTokens]);
  lastToken = kb.sub(numTokens, kb.index(1));
  for (int r = 0; r < 2; ++r) {
    Value row = kb.add(rowBase, kb.add(kb.mul(warp, kWarpRows), kb.add(g, 8 * r)));
    row = kb.min(row, n - 1); // rows past N compute on row N-1, not stored
    weightRow[r] = kb.mul(row, chunksPerRow);
  }

  emitTokenScales();
  kb.barrier();
  SmallVector<Value> acc(tokenTiles, zeroAccumulator());
  const int64_t stages = (chunksPerRow + stageChunks - 1) / stageChunks;
  auto loop = scf::ForOp::create(b, kb.index(0), kb.index(stages), kb.index(1), acc);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    SmallVector<Value> carried(loop.getRegionIterArgs());
    stageCodes(loop.getInductionVar());
    kb.barrier();
    multiplyStage(loop.getInductionVar(), carried);
    kb.barrier(); // before the next stage overwrites the codes
    scf::YieldOp::create(b, carried);
  }
  acc.assign(loop.getResults().begin(), loop.getResults().end());
  storeTile(acc);
}

} // namespace

FailureOr<KernelIR> buildW8A8Kernel(ImplicitLocOpBuilder &b, const KernelRequest &r,
                                    StringRef entry) {
  if (failed(checkLinearRequest(b, r)))
    return failure();
  auto fail = [&](const Twine &msg) {
    return emitError(b.getLoc()) << "linear W8A8 kernel: " << msg;
  };
  if (r.activation == rt::fb::ActivationQuant::None)
    return fail("needs int8 or fp8 per-token activations");
  // PTX ISA 8.4 introduced mma.sync with e4m3 operands.
  if (r.activation == rt::fb::ActivationQuant::Fp8PerToken &&
      ptxIsaVersion(r.features) < 84)
    return fail("e4m3 mma.sync needs PTX ISA 8.4 (+ptx84), got '" + r.features + "'");
  if (r.splitK || r.unroll || r.dequant || r.programmaticWait || r.pipelineStages)
    return fail("has no tuning knobs (split-K, unroll, dequant, programmatic "
                "wait, pipeline stages) yet");
  KernelBuilder kb(b);
  SmallVector<KernelParam> params = linearParams(kb, r);
  W8A8Tile tile = w8a8Tile(r);
  Type staged = kb.workgroupBuffer(kb.v4i32(), tile.tileTokens * tile.rowStride);
  Type scales = kb.workgroupBuffer(kb.f32(), tile.tileTokens);
  KernelShell shell = createKernelShell(b, entry, params, {staged, scales}, kThreads);
  if (r.maxRegisters > 0)
    shell.func->setAttr("nvvm.maxnreg", b.getI32IntegerAttr(r.maxRegisters));
  W8A8Emitter emitter(kb, r, shell.func.getArguments(),
                      shell.func.getWorkgroupAttributions()[0],
                      shell.func.getWorkgroupAttributions()[1]);
  emitter.emit();
  KernelIR ir = finishKernelIR(b, shell, kThreads);
  ir.tile.tileM = static_cast<int>(tile.tileTokens);
  ir.tile.tileN = static_cast<int>(kWarpRows * kWarps);
  ir.tile.splitK = 1;
  return ir;
}

} // namespace qtc::codegen
