//===- LinearGemmGenerator.cpp - Linear for many token rows (prefill) -----===//
//
// out[t, n] = sum_k x[t, k] W[n, k] for prompt-sized row counts, on tensor
// cores (mma.sync.m16n8k16, f32 accumulation). A block computes a tile of
// 64 output features x 64 tokens: each of its 4 warps owns 16 features and
// all 8 token columns of the tile. Per K step of 128 channels the block
// stages x[64 tokens, 128 channels] in shared memory once, and every warp
// loads its weights straight into A fragments (int4, int8 and fp8
// dequantized in registers, as in the decode GEMV, see MmaFragments.h) and
// reuses each A fragment for the 8 token columns, reading B from shared
// memory. The weights are thus read once per 64 tokens instead of once per 8
// (GEMV).
//
// Scales: groups smaller than K scale the f16 operands. Each A fragment
// serves 8 mma here, so that costs 1/8 of what it costs the GEMV, while a
// per-step f32 tile (the GEMV's StepTile) would need a second set of 8
// accumulator tiles. One scale per row (int8 with group = K, fp8) leaves the
// codes unscaled and multiplies each output row's f32 sum before the store.
//
// x is staged with the channel order the A fragments use (WeightChunk's pair
// order: for int4 the pairs (j, j+4) of each 8-channel word, for int8 and
// fp8 (j, j+2) of each 4-channel word), so a B register is one 32-bit
// shared-memory load. Tokens past the batch and channels past K are staged
// as zeros.
//
// Software pipeline (the default, two stages): while a K step is multiplied,
// the next step's weights and x are already being loaded into registers
// (carried through the loop), and x goes to the other of two staging
// buffers after the multiply, so one barrier per step suffices and no warp
// waits on a load it just issued. One stage (`KernelRequest::pipelineStages
// = 1`) is the first version: load, barrier, multiply, barrier.
//
// Not done yet: cp.async/TMA staging, wgmma, larger token tiles.
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
using rt::fb::WeightFormat;

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
        chunk(weightChunk(r.format)), n(r.outFeatures), k(r.inFeatures),
        group(r.groupSize), bias(r.hasBias), residual(r.hasResidual),
        pipelined(r.pipelineStages != 1) {
    chunksPerRow = k / chunk.channels;
    chunksPerStep = kStepChannels / chunk.channels; // per row per K step
    zeros = r.format == WeightFormat::Int4Group && !r.symmetric;
    if (r.format == WeightFormat::Dense)
      scales = ScalePlacement::None;
    else if (r.format == WeightFormat::Fp8Channel ||
             (r.format == WeightFormat::Int8Group && group == k))
      scales = ScalePlacement::Output;
    else
      scales = ScalePlacement::Operands;
  }

  void emit();

private:
  // x of one K step for this thread's share of the staging buffer.
  SmallVector<Value> loadX(Value step);
  void storeX(ArrayRef<Value> x, Value buffer);
  // A step's weights (and per-chunk scales and zeros) for this warp's rows.
  SmallVector<Value> loadWeights(Value step);
  // Multiplies the step staged in `buffer` with `weights` into `acc`.
  void multiplyStep(ArrayRef<Value> weights, Value buffer, SmallVector<Value> &acc);
  void storeTile(ArrayRef<Value> acc);
  void emitSingleStage(SmallVector<Value> &acc, int64_t steps);
  void emitPipelined(SmallVector<Value> &acc, int64_t steps);

  KernelBuilder &kb;
  ImplicitLocOpBuilder &b;
  ValueRange args;
  Value shared;
  WeightChunk chunk;
  int64_t n, k, group;
  bool bias, residual, pipelined;
  ScalePlacement scales = ScalePlacement::None;
  bool zeros = false; // int4 asymmetric
  int64_t chunksPerRow, chunksPerStep;
  // Values per round of 4 chunks in loadWeights' result: w0, w1, then with
  // operand scales s0, s1 and, with zeros, z0, z1.

  Value tid, warp, lane, g, q, rowBase, tokenBase, numTokens;
  Value weightRow[2], scaleRow[2];
};

// 64 tokens x 16 vectors of 8 channels per step, 8 vectors per thread.
constexpr int64_t kVectorsPerRow = kStepChannels / 8;
constexpr int64_t kXPerThread = kTileTokens * kVectorsPerRow / (32 * kWarps);

SmallVector<Value> GemmEmitter::loadX(Value step) {
  Value zero8 = kb.zeros(kb.vec(8, kb.f16()));
  Value lastToken = kb.sub(numTokens, kb.index(1));
  SmallVector<Value> x;
  for (int64_t i = 0; i < kXPerThread; ++i) {
    Value item = kb.add(tid, i * 32 * kWarps);
    Value row = kb.div(item, kVectorsPerRow), v = kb.rem(item, kVectorsPerRow);
    Value token = kb.add(tokenBase, row);
    Value channel8 = kb.add(kb.mul(step, kVectorsPerRow), v); // in units of 8
    Value valid = arith::AndIOp::create(b, kb.ult(token, numTokens),
                                        kb.ult(channel8, k / 8));
    Value at = kb.add(kb.mul(kb.min(token, lastToken), k / 8),
                      kb.min(channel8, k / 8 - 1));
    x.push_back(kb.select(valid, kb.loadHalf8(args[abi::kX], at), zero8));
  }
  return x;
}

void GemmEmitter::storeX(ArrayRef<Value> x, Value buffer) {
  Value bufferBase = kb.mul(buffer, kTileTokens * kRowWords);
  for (int64_t i = 0; i < kXPerThread; ++i) {
    Value item = kb.add(tid, i * 32 * kWarps);
    Value row = kb.div(item, kVectorsPerRow), v = kb.rem(item, kVectorsPerRow);
    Value value = x[i];
    if (chunk.format != WeightFormat::Dense)
      value = kb.shuffle(value, chunk.pairOrder8());
    Value base = kb.add(bufferBase, kb.add(kb.mul(row, kRowWords), kb.mul(v, 4)));
    for (int64_t w = 0; w < 4; ++w)
      kb.store(kb.shuffle(value, {2 * w, 2 * w + 1}), shared, kb.add(base, w));
  }
}

SmallVector<Value> GemmEmitter::loadWeights(Value step) {
  SmallVector<Value> loaded;
  for (int64_t round = 0; round < chunksPerStep / 4; ++round) {
    Value at = kb.add(kb.mul(step, chunksPerStep), kb.add(q, round * 4));
    // Chunks past the row read its last chunk; their x is staged as zeros.
    Value clamped = chunksPerRow % chunksPerStep ? kb.min(at, chunksPerRow - 1) : at;
    loaded.push_back(kb.load(args[abi::kWeight], kb.add(weightRow[0], clamped)));
    loaded.push_back(kb.load(args[abi::kWeight], kb.add(weightRow[1], clamped)));
    if (scales == ScalePlacement::Operands) {
      Value groupIndex = kb.div(clamped, group / chunk.channels);
      loaded.push_back(kb.load(args[abi::kScales], kb.add(scaleRow[0], groupIndex)));
      loaded.push_back(kb.load(args[abi::kScales], kb.add(scaleRow[1], groupIndex)));
      if (zeros) {
        loaded.push_back(kb.load(args[abi::kZeros], kb.add(scaleRow[0], groupIndex)));
        loaded.push_back(kb.load(args[abi::kZeros], kb.add(scaleRow[1], groupIndex)));
      }
    }
  }
  return loaded;
}

void GemmEmitter::multiplyStep(ArrayRef<Value> weights, Value buffer,
                               SmallVector<Value> &acc) {
  // Each K step covers chunksPerStep chunks per row, i.e. chunksPerStep / 4
  // rounds of the 4 quad lanes.
  const size_t perRound = weights.size() / (chunksPerStep / 4);
  Value bufferBase = kb.mul(buffer, kTileTokens * kRowWords);
  for (int64_t round = 0; round < chunksPerStep / 4; ++round) {
    Value chunkInStep = kb.add(q, round * 4);
    ArrayRef<Value> w = weights.slice(round * perRound, perRound);
    ChunkRegisters regs;
    for (int r = 0; r < 2; ++r) {
      regs.words[r] = w[r];
      if (scales == ScalePlacement::Operands)
        regs.scale[r] = w[2 + r];
      if (zeros)
        regs.zero[r] = w[4 + r];
    }
    // The chunk's first word in a staged row.
    Value chunkWord = kb.mul(chunkInStep, chunk.channels / 2);
    for (auto [m, a] : llvm::enumerate(weightOperands(kb, chunk, regs))) {
      // Staged words hold the chunk's pairs in pair order (pairOrder8), and
      // operand m multiplies pairs 2m (k 2q..) and 2m+1 (k 2q+8..).
      int64_t lo = 2 * static_cast<int64_t>(m), hi = lo + 1;
      for (int64_t t = 0; t < kTokenTiles; ++t) {
        Value row = kb.add(bufferBase,
                           kb.add(kb.mul(kb.add(g, t * 8), kRowWords), chunkWord));
        Value bOp = buildOperandB(kb, kb.load(shared, kb.add(row, lo)),
                                  kb.load(shared, kb.add(row, hi)));
        acc[t] = mmaSync(kb, a, bOp, acc[t]);
      }
    }
  }
}

void GemmEmitter::storeTile(ArrayRef<Value> acc) {
  // The lane's two feature rows (g, g + 8) share one scale each over the
  // token tiles; rows past N read row N-1's (not stored).
  Value scaleOf[2];
  if (scales == ScalePlacement::Output)
    for (int r = 0; r < 2; ++r)
      scaleOf[r] = loadRowScale(kb, chunk, args[abi::kScales], kb.min(
          kb.add(rowBase, kb.add(kb.mul(warp, kWarpRows), kb.add(g, 8 * r))), n - 1));
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
        if (scales == ScalePlacement::Output)
          v = kb.mulF(v, scaleOf[i / 2]);
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
    if (scales == ScalePlacement::Operands)
      scaleRow[r] = kb.mul(row, k / group);
  }

  VectorType accType = VectorType::get({2, 2}, kb.f32());
  SmallVector<Value> acc(kTokenTiles, kb.zeros(accType));
  int64_t steps = (k + kStepChannels - 1) / kStepChannels;
  if (pipelined)
    emitPipelined(acc, steps);
  else
    emitSingleStage(acc, steps);
  storeTile(acc);
}

void GemmEmitter::emitSingleStage(SmallVector<Value> &acc, int64_t steps) {
  auto loop = scf::ForOp::create(b, kb.index(0), kb.index(steps), kb.index(1), acc);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value step = loop.getInductionVar();
  SmallVector<Value> carried(loop.getRegionIterArgs());
  storeX(loadX(step), kb.index(0));
  kb.barrier();
  multiplyStep(loadWeights(step), kb.index(0), carried);
  kb.barrier(); // before the next step overwrites the staged x
  scf::YieldOp::create(b, carried);
  b.setInsertionPointAfter(loop);
  acc.assign(loop.getResults().begin(), loop.getResults().end());
}

void GemmEmitter::emitPipelined(SmallVector<Value> &acc, int64_t steps) {
  // Prologue: step 0's x staged in buffer 0, its weights in registers.
  storeX(loadX(kb.index(0)), kb.index(0));
  SmallVector<Value> weights = loadWeights(kb.index(0));
  kb.barrier();
  SmallVector<Value> init(acc);
  init.append(weights);
  auto loop = scf::ForOp::create(b, kb.index(0), kb.index(steps), kb.index(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value step = loop.getInductionVar();
    SmallVector<Value> carried(loop.getRegionIterArgs());
    SmallVector<Value> accIn(carried.begin(), carried.begin() + kTokenTiles);
    ArrayRef<Value> current = ArrayRef<Value>(carried).drop_front(kTokenTiles);
    // The next step's loads go out first (the last step reloads itself:
    // harmless, and no branch in the loop).
    Value next = kb.min(kb.add(step, 1), steps - 1);
    SmallVector<Value> nextX = loadX(next);
    SmallVector<Value> nextWeights = loadWeights(next);
    Value buffer = kb.rem(step, 2);
    multiplyStep(current, buffer, accIn);
    // The other buffer was last read in the previous step, before the
    // barrier that ended it; this step's readers of `buffer` are done once
    // every thread reaches the barrier below.
    storeX(nextX, kb.sub(kb.index(1), buffer));
    kb.barrier();
    SmallVector<Value> yielded(accIn);
    yielded.append(nextWeights);
    scf::YieldOp::create(b, yielded);
  }
  acc.assign(loop.getResults().begin(), loop.getResults().begin() + kTokenTiles);
}

} // namespace

FailureOr<KernelIR> buildGemmKernel(ImplicitLocOpBuilder &b,
                                    const KernelRequest &r, StringRef entry) {
  if (failed(checkLinearRequest(b, r)))
    return failure();
  if (r.pipelineStages < 0 || r.pipelineStages > 2)
    return emitError(b.getLoc()) << "linear GEMM: pipeline stages must be 1 or 2, got "
                                 << r.pipelineStages;
  KernelBuilder kb(b);
  SmallVector<KernelParam> params = linearParams(kb, r);
  // Two staging buffers when pipelined (35 KB), else one.
  const int64_t buffers = r.pipelineStages == 1 ? 1 : 2;
  Type staged = kb.workgroupBuffer(kb.vec(2, kb.f16()), buffers * kTileTokens * kRowWords);
  KernelShell shell = createKernelShell(b, entry, params, {staged}, 32 * kWarps);
  if (r.maxRegisters > 0) // e.g. three 128-thread blocks per SM need <= 168
    shell.func->setAttr("nvvm.maxnreg", b.getI32IntegerAttr(r.maxRegisters));

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
