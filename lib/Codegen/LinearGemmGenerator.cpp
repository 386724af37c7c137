//===- LinearGemmGenerator.cpp - Linear for many token rows (prefill) -----===//
//
// out[t, n] = sum_k x[t, k] W[n, k] for prompt-sized row counts, on tensor
// cores (mma.sync.m16n8k16, f32 accumulation). A block computes a tile of
// 64 output features x 64 tokens: each of its 4 warps owns 16 features and
// all 8 token columns of the tile. Per K step of 128 channels the block
// stages x[64 tokens, 128 channels] in shared memory once, and every warp
// loads its weights straight into A fragments (int4 dequantized in
// registers, as in the decode GEMV, see MmaFragments.h) and reuses each A
// fragment for the 8 token columns, reading B from shared memory. The
// weights are thus read once per 64 tokens instead of once per 8 (GEMV).
//
// x is staged with the channel order the A fragments use (for int4, the
// pairs (j, j+4) of each 8-channel word), so a B register is one 32-bit
// shared-memory load. Tokens past the batch and channels past K are staged
// as zeros.
//
// Not done yet (plain loads, one staging buffer, no cp.async/TMA pipeline,
// no wgmma): this is the first tiled version, well ahead of re-running the
// GEMV per 8 tokens, not a tuned GEMM.
//
//===----------------------------------------------------------------------===//

#include "Generators.h"
#include "KernelBuilder.h"
#include "MmaFragments.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace qtc::codegen {
namespace {

namespace abi = rt::abi::linear;

constexpr int kWarps = 4;
constexpr int64_t kWarpRows = 16;      // mma M per warp
constexpr int64_t kTokenTiles = 8;     // mma N tiles per warp
constexpr int64_t kTileTokens = 8 * kTokenTiles;
constexpr int64_t kStepChannels = 128; // channels per staged K step
// Shared x row: 64 words of f16 pairs plus 4 words of padding, which spreads
// the rows of one B load over the banks.
constexpr int64_t kRowWords = kStepChannels / 2 + 4;

class GemmEmitter {
public:
  GemmEmitter(KernelBuilder &kb, const KernelRequest &r, ValueRange args,
              Value shared)
      : kb(kb), b(kb.b), args(args), shared(shared),
        int4(r.format == WeightFormat::Int4Group), n(r.outFeatures),
        k(r.inFeatures), group(r.groupSize), symmetric(r.symmetric),
        bias(r.hasBias), residual(r.hasResidual) {
    chunkK = int4 ? 32 : 8;
    chunksPerRow = k / chunkK;
    chunksPerStep = kStepChannels / chunkK; // per row per K step
  }

  void emit();

private:
  void stageX(Value step);
  // Multiplies the staged step into the accumulators.
  void multiplyStep(Value step, SmallVector<Value> &acc);
  void storeTile(ArrayRef<Value> acc);

  KernelBuilder &kb;
  ImplicitLocOpBuilder &b;
  ValueRange args;
  Value shared;
  bool int4;
  int64_t n, k, group;
  bool symmetric, bias, residual;
  int64_t chunkK, chunksPerRow, chunksPerStep;

  Value tid, warp, lane, g, q, rowBase, tokenBase, numTokens;
  Value weightRow[2], scaleRow[2];
};

void GemmEmitter::stageX(Value step) {
  // 64 tokens x 16 vectors of 8 channels, 8 per thread.
  const int64_t vectorsPerRow = kStepChannels / 8;
  const int64_t items = kTileTokens * vectorsPerRow;
  Value zero8 = kb.zeros(kb.vec(8, kb.f16()));
  Value lastToken = kb.sub(numTokens, kb.index(1));
  for (int64_t i = 0; i < items / (32 * kWarps); ++i) {
    Value item = kb.add(tid, i * 32 * kWarps);
    Value row = kb.div(item, vectorsPerRow), v = kb.rem(item, vectorsPerRow);
    Value token = kb.add(tokenBase, row);
    Value channel8 = kb.add(kb.mul(step, vectorsPerRow), v); // in units of 8
    Value valid = arith::AndIOp::create(b, kb.ult(token, numTokens),
                                        kb.ult(channel8, k / 8));
    Value at = kb.add(kb.mul(kb.min(token, lastToken), k / 8),
                      kb.min(channel8, k / 8 - 1));
    Value x = kb.select(valid, kb.loadHalf8(args[abi::kX], at), zero8);
    // int4 A fragments pair channels (j, j+4) of each 8-channel word.
    if (int4)
      x = kb.shuffle(x, {0, 4, 1, 5, 2, 6, 3, 7});
    Value base = kb.add(kb.mul(row, kRowWords), kb.mul(v, 4));
    for (int64_t w = 0; w < 4; ++w)
      kb.store(kb.shuffle(x, {2 * w, 2 * w + 1}), shared, kb.add(base, w));
  }
}

void GemmEmitter::multiplyStep(Value step, SmallVector<Value> &acc) {
  // Each K step covers chunksPerStep chunks per row, i.e. chunksPerStep / 4
  // rounds of the 4 quad lanes.
  for (int64_t round = 0; round < chunksPerStep / 4; ++round) {
    Value chunkInStep = kb.add(q, round * 4);
    Value chunk = kb.add(kb.mul(step, chunksPerStep), chunkInStep);
    // Chunks past the row read its last chunk; their x is staged as zeros.
    Value clamped = chunksPerRow % chunksPerStep ? kb.min(chunk, chunksPerRow - 1) : chunk;
    Value w0 = kb.load(args[abi::kWeight], kb.add(weightRow[0], clamped));
    Value w1 = kb.load(args[abi::kWeight], kb.add(weightRow[1], clamped));
    SmallVector<Value, 8> operands;
    if (int4) {
      Value groupIndex = kb.div(clamped, group / chunkK);
      Value s0 = kb.load(args[abi::kScales], kb.add(scaleRow[0], groupIndex));
      Value s1 = kb.load(args[abi::kScales], kb.add(scaleRow[1], groupIndex));
      Value z0, z1;
      if (!symmetric) {
        z0 = kb.load(args[abi::kZeros], kb.add(scaleRow[0], groupIndex));
        z1 = kb.load(args[abi::kZeros], kb.add(scaleRow[1], groupIndex));
      }
      operands = weightOperandsInt4(kb, w0, w1, s0, s1, z0, z1);
    } else {
      operands = weightOperandsF16(kb, w0, w1);
    }
    // The chunk's first word in a staged row.
    Value chunkWord = kb.mul(chunkInStep, chunkK / 2);
    for (auto [m, a] : llvm::enumerate(operands)) {
      OperandChannels c = operandChannels(int4, m);
      // Staged words hold the pairs in A order: f16 channels (2i, 2i+1) in
      // word i; int4 channels (8w+j, 8w+j+4) in word 4w+j.
      auto wordOf = [&](const int64_t pair[2]) {
        return int4 ? (pair[0] / 8) * 4 + pair[0] % 8 : pair[0] / 2;
      };
      int64_t lo = wordOf(c.lo), hi = wordOf(c.hi);
      for (int64_t t = 0; t < kTokenTiles; ++t) {
        Value row = kb.add(kb.mul(kb.add(g, t * 8), kRowWords), chunkWord);
        Value bOp = buildOperandB(kb, kb.load(shared, kb.add(row, lo)),
                                  kb.load(shared, kb.add(row, hi)));
        acc[t] = mmaSync(kb, a, bOp, acc[t]);
      }
    }
  }
}

void GemmEmitter::storeTile(ArrayRef<Value> acc) {
  // C fragment element (i / 2, i % 2) of token tile t: feature g + 8 (i / 2),
  // token 8t + 2q + i % 2.
  for (int64_t t = 0; t < kTokenTiles; ++t)
    for (int i = 0; i < 4; ++i) {
      Value row = kb.add(rowBase, kb.add(kb.mul(warp, kWarpRows),
                                         kb.add(g, 8 * (i / 2))));
      Value token = kb.add(tokenBase, kb.add(kb.mul(q, 2), 8 * t + i % 2));
      Value value = vector::ExtractOp::create(b, acc[t],
                                              ArrayRef<int64_t>{i / 2, i % 2});
      Value inside = arith::AndIOp::create(b, kb.ult(token, numTokens),
                                           kb.ult(row, n));
      kb.ifThen(inside, [&] {
        Value at = kb.add(kb.mul(token, n), row);
        Value v = value;
        if (bias)
          v = kb.addF(v, kb.extF32(kb.load(args[abi::kBias], row)));
        if (residual)
          v = kb.addF(v, kb.extF32(kb.load(args[abi::kResidual], at)));
        kb.store(kb.truncF16(v), args[abi::kOut], at);
      });
    }
}

void GemmEmitter::emit() {
  tid = kb.threadIdX();
  warp = kb.div(tid, 32);
  lane = kb.rem(tid, 32);
  g = kb.div(lane, 4);
  q = kb.rem(lane, 4);
  rowBase = kb.mul(kb.blockIdX(), kWarpRows * kWarps);
  tokenBase = kb.mul(kb.blockIdY(), kTileTokens);
  numTokens = kb.toIndex(args[abi::kNumTokens]);
  for (int r = 0; r < 2; ++r) {
    Value row = kb.add(rowBase, kb.add(kb.mul(warp, kWarpRows), kb.add(g, 8 * r)));
    row = kb.min(row, n - 1); // rows past N compute on row N-1, not stored
    weightRow[r] = kb.mul(row, chunksPerRow);
    if (int4)
      scaleRow[r] = kb.mul(row, k / group);
  }

  VectorType accType = VectorType::get({2, 2}, kb.f32());
  SmallVector<Value> acc(kTokenTiles, kb.zeros(accType));
  int64_t steps = (k + kStepChannels - 1) / kStepChannels;
  auto loop = scf::ForOp::create(b, kb.index(0), kb.index(steps), kb.index(1), acc);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value step = loop.getInductionVar();
    SmallVector<Value> carried(loop.getRegionIterArgs());
    stageX(step);
    kb.barrier();
    multiplyStep(step, carried);
    kb.barrier(); // before the next step overwrites the staged x
    scf::YieldOp::create(b, carried);
  }
  storeTile(SmallVector<Value>(loop.getResults()));
}

} // namespace

FailureOr<KernelIR> buildGemmKernel(ImplicitLocOpBuilder &b,
                                    const KernelRequest &r, StringRef entry) {
  if (failed(checkLinearRequest(b, r)))
    return failure();
  KernelBuilder kb(b);
  bool int4 = r.format == WeightFormat::Int4Group;
  int64_t chunkK = int4 ? 32 : 8;
  int64_t groups = int4 ? r.inFeatures / r.groupSize : 1;
  int64_t n = r.outFeatures;

  SmallVector<KernelParam> params(abi::kCount);
  params[abi::kX] = {"x", kb.buffer(kb.v4i32()), true};
  params[abi::kWeight] = {"weight", kb.buffer(kb.v4i32(), n * (r.inFeatures / chunkK)), true};
  params[abi::kScales] = {"scales", kb.buffer(kb.f16(), int4 ? n * groups : 1), true};
  params[abi::kZeros] = {"zeros", kb.buffer(kb.f16(), int4 && !r.symmetric ? n * groups : 1), true};
  params[abi::kBias] = {"bias", kb.buffer(kb.f16(), r.hasBias ? n : 1), true};
  params[abi::kResidual] = {"residual", kb.buffer(kb.f16()), false};
  params[abi::kOut] = {"out", kb.buffer(kb.f16()), false};
  params[abi::kNumTokens] = {"num_tokens", kb.i32(), false};
  Type staged = kb.workgroupBuffer(kb.vec(2, kb.f16()), kTileTokens * kRowWords);
  KernelShell shell = createKernelShell(b, entry, params, {staged}, 32 * kWarps);

  GemmEmitter emitter(kb, r, shell.func.getArguments(),
                      shell.func.getWorkgroupAttributions()[0]);
  emitter.emit();
  KernelIR ir = finishKernelIR(b, shell, 32 * kWarps);
  ir.tile.tileM = kTileTokens;
  ir.tile.tileN = kWarpRows * kWarps;
  ir.tile.splitK = 1;
  return ir;
}

} // namespace qtc::codegen
