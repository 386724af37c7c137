//===- LinearGemvGenerator.cpp - Linear for few token rows on tensor cores ===//
//
// out[t, n] = sum_k x[t, k] W[n, k] for up to 8 tokens per block, reading the
// weights once from device memory. The product is computed with
// mma.sync.m16n8k16 (f16 x f16 -> f32): a warp's A operand is a tile of 16
// weight rows, its B operand the x values of 8 tokens, so the accumulation is
// in f32 and the few-token batch rides in the otherwise idle N dimension.
//
// Register layout. Lane (g = lane / 4, q = lane % 4) holds A rows g and g+8
// and B column (token) g. The mma reduces over its 16 k positions, so which
// physical input channel sits in which k position is free as long as A and B
// agree: lane q of each quad supplies positions {2q, 2q+1, 2q+8, 2q+9}, and we
// feed it channels of the 16-byte chunk it loaded itself. Each lane thus
// issues plain 16-byte loads of its own rows (ld.global.nc.v4.b32) and no
// shared memory or ldmatrix is needed.
//
// Quantized weights are dequantized in registers with integer bit tricks
// (WeightDequant.cpp): int4 with the magic number 0x64006400 ((word >> 4j) &
// 0x000F000F | 0x64006400 is the f16 pair (1024 + q_j, 1024 + q_{j+4})),
// int8 the same way a byte at a time, fp8 by moving the e4m3 bits into f16
// positions. Each trick yields pairs of channels (j, j + W/2) of a word, so
// x is paired the same way with a register shuffle (MmaFragments.h). Where
// the scales go (ScalePlacement):
//   - a step's chunks all in one group (int4 with groups of a multiple of
//     128 channels and dequant 2, int8 groups of a multiple of 64): the mma
//     multiplies the unscaled codes and the group scale is applied once to
//     the step's f32 tile, 8 fma per 8 mma instead of 32 f16x2 multiplies,
//     and the product is rounded once, in f32;
//   - one scale per row (int8 with group = K, fp8 always): the unscaled
//     codes accumulate over all of K and the scale multiplies the f32 result
//     before it is stored;
//   - otherwise the f16 operands are scaled before the mma.
//
// Work split: a block owns 16 output rows and 8 tokens; its warps split the
// K range (interleaved steps, so the block reads neighbouring memory) and add
// their partial tiles through shared memory. One step of a warp covers
// 4 chunks (one per quad lane) of 8 (f16), 16 (int8, fp8) or 32 (int4)
// channels, and `unroll` steps are issued before their first use to keep
// loads in flight.
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

constexpr int64_t kTileRows = 16;  // mma M
constexpr int64_t kTileTokens = 8; // mma N
constexpr int64_t kQuadLanes = 4;

struct GemvPlan {
  int64_t n = 0, k = 0;
  WeightChunk chunk;
  int64_t group = 0;
  bool symmetric = true;
  ScalePlacement scales = ScalePlacement::None;
  int64_t chunksPerRow = 0; // k / chunk.channels
  int64_t steps = 0;        // ceil(chunksPerRow / 4)
  int warps = 1;
  int unroll = 1;
  int64_t stepsPerWarp = 0;
  int64_t iterations = 0;
  bool guardChunks = false; // some (step, lane) pairs fall past the row
  bool bias = false, residual = false;
  // sm_90+: the kernel waits for its stream predecessor (griddepcontrol.wait)
  // at its start, or after requesting the first weights; see emit().
  bool programmatic = false;
  bool prefetchBeforeWait = false;
  int maxRegisters = 0; // .maxnreg for ptxas; 0: none

  bool quantized() const { return chunk.format != WeightFormat::Dense; }
  // Scales (and int4 zeros) travel with each chunk through the K loop.
  bool scalesPerChunk() const {
    return scales == ScalePlacement::Operands || scales == ScalePlacement::StepTile;
  }
  bool zeros() const { return chunk.format == WeightFormat::Int4Group && !symmetric; }
  int64_t scaleGroups() const { return quantized() ? k / group : 1; } // per row
};

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The fastest schedule measured per Llama-2-7B decode shape on an H100
// (sm_90): warps per tile, K steps per iteration, and for int4 how the group
// scale is applied (1: to the f16 operands, 2: to the f32 tile) and when the
// kernel waits for its predecessor (1: at its start, 2: after requesting its
// first weights, -1: plain launch), and a register cap where the wait would
// push ptxas past 128. From the sweeps of bench/decode_linear.py and
// bench/int4_gemv_variants.py (bench/results/, bench/NOTES.md). The choice
// swings with ptxas' register allocation: two 256-thread blocks per SM need
// <= 128 registers, and crossing that costs a third of the speed. Int8 and
// fp8 have no entries yet: they take the defaults below until their sweeps
// (prepare-carry.sh's ptx-bench) are measured.
struct TunedShape {
  WeightFormat format;
  int64_t n, k;
  int warps, unroll;
  int dequant = 0, wait = 0, maxRegisters = 0;
};
constexpr WeightFormat kF16 = WeightFormat::Dense, kInt4 = WeightFormat::Int4Group;
constexpr TunedShape kTunedSm90[] = {
    {kF16, 12288, 4096, 4, 4},       {kF16, 4096, 4096, 4, 8},
    {kF16, 22016, 4096, 8, 2},       {kF16, 4096, 11008, 8, 4},
    {kInt4, 12288, 4096, 4, 8, 2, 1},  {kInt4, 4096, 4096, 8, 2, 1, 1},
    {kInt4, 22016, 4096, 4, 8, 2, 1},  {kInt4, 4096, 11008, 8, 8, 1, 1, 128},
};

// Where the scales go (see the file comment). `dequant` is the request's
// choice: 1 the f16 operands, 2 the f32 tile or result (0: the default,
// measured for int4 as operands; int8 defaults to the f32 side, which rounds
// the product once).
ScalePlacement placeScales(const GemvPlan &p, int dequant) {
  bool stepInOneGroup = p.group % (kQuadLanes * p.chunk.channels) == 0;
  switch (p.chunk.format) {
  case WeightFormat::Dense:
    return ScalePlacement::None;
  case WeightFormat::Int4Group:
    return stepInOneGroup && dequant == 2 ? ScalePlacement::StepTile
                                          : ScalePlacement::Operands;
  case WeightFormat::Int8Group:
    if (dequant == 1)
      return ScalePlacement::Operands;
    if (p.group == p.k)
      return ScalePlacement::Output;
    return stepInOneGroup ? ScalePlacement::StepTile : ScalePlacement::Operands;
  case WeightFormat::Fp8Channel:
    return ScalePlacement::Output;
  }
  return ScalePlacement::None;
}

// Other shapes and chips: fp16 4 warps x 4 steps; quantized formats issue 8
// steps per iteration (int4 measured: its chunks carry 4x the channels of
// fp16's, so it needs more bytes in flight per instruction; int8 and fp8
// move the same 1 KB per warp and step) with 8 warps when there are few row
// tiles, and wait at their start; int4 scales the f16 operands (fewer
// registers).
GemvPlan planGemv(const KernelRequest &r) {
  GemvPlan p;
  p.n = r.outFeatures;
  p.k = r.inFeatures;
  p.chunk = weightChunk(r.format);
  p.group = r.groupSize;
  p.symmetric = r.symmetric;
  p.bias = r.hasBias;
  p.residual = r.hasResidual;
  p.chunksPerRow = p.k / p.chunk.channels;
  p.steps = ceilDiv(p.chunksPerRow, kQuadLanes);
  int64_t tiles = ceilDiv(p.n, kTileRows);
  int warps = p.quantized() ? (tiles < 512 ? 8 : 4) : 4;
  int unroll = p.quantized() ? 8 : 4;
  int dequant = 0, wait = 1, maxRegisters = 0;
  bool tuned = false;
  if (r.chip == "sm_90")
    for (const TunedShape &t : kTunedSm90)
      if (t.format == r.format && t.n == p.n && t.k == p.k &&
          (t.format != kInt4 || r.groupSize == 128)) {
        tuned = true;
        warps = t.warps;
        unroll = t.unroll;
        dequant = t.dequant;
        wait = t.wait ? t.wait : wait;
        maxRegisters = t.maxRegisters;
      }
  if (r.unroll > 0)
    unroll = r.unroll;
  // Int8 and fp8 cover 64 channels per step, half of int4's, so long rows
  // take many iterations per warp. At K = 11008 and 8 steps per iteration,
  // 4 or 8 warps (3 to 6 iterations, the loop carrying the next one's
  // weights) took ptxas (CUDA 13.0) to 249-255 registers, fp8 with spills;
  // 16 warps (two iterations) to 56-72. So more warps per tile keep the
  // iterations at two or fewer, up to 16 warps (512 threads): a choice by
  // register count, to be replaced by measured entries above.
  bool wideFormat = r.format == WeightFormat::Int8Group ||
                    r.format == WeightFormat::Fp8Channel;
  if (wideFormat && !tuned && r.splitK == 0)
    while (warps < 16 && ceilDiv(ceilDiv(p.steps, warps), unroll) > 2)
      warps *= 2;
  if (r.splitK > 0)
    warps = r.splitK;
  if (r.dequant > 0)
    dequant = r.dequant;
  if (r.programmaticWait != 0)
    wait = r.programmaticWait;
  if (r.maxRegisters > 0)
    maxRegisters = r.maxRegisters;
  p.scales = placeScales(p, dequant);
  p.programmatic = smVersion(r.chip) >= 90 && wait > 0;
  p.prefetchBeforeWait = p.programmatic && wait == 2;
  p.maxRegisters = maxRegisters;
  while (warps > 1 && warps > p.steps)
    warps /= 2;
  p.warps = warps;
  p.stepsPerWarp = ceilDiv(p.steps, p.warps);
  p.unroll = static_cast<int>(std::min<int64_t>(unroll, p.stepsPerWarp));
  p.iterations = ceilDiv(p.stepsPerWarp, p.unroll);
  p.guardChunks = p.chunksPerRow % kQuadLanes != 0 ||
                  p.steps % p.warps != 0 ||
                  p.stepsPerWarp % p.unroll != 0;
  return p;
}

} // namespace

namespace {

// The registers of one step: its weights (and group scales) come from an
// earlier iteration's prefetch, its x (an L1 hit) is loaded just before use.
struct StepLoads {
  Value valid;             // chunk inside the row (null: always)
  ChunkRegisters weights;  // rows g and g+8, with per-chunk scales and zeros
  SmallVector<Value, 4> x; // vector<8xf16> per 8 channels of the chunk
};

class GemvEmitter {
public:
  GemvEmitter(KernelBuilder &kb, const GemvPlan &p, ValueRange args)
      : kb(kb), b(kb.b), p(p), args(args) {}

  void emit(Value workgroup);

private:
  // Chunk of this lane at a warp-local step, clamped into the row; `valid`
  // is set when clamping can happen.
  Value chunkAt(Value stepInWarp, Value *valid);
  int weightsPerStep() const {
    return 2 + (p.scalesPerChunk() ? 2 : 0) + (p.zeros() ? 2 : 0);
  }
  // The weight registers of one iteration (unroll steps), flattened so that
  // they can be carried through the loop as the next iteration's prefetch.
  SmallVector<Value> loadIterationWeights(Value iteration);
  void computeIteration(Value iteration, ValueRange weights, Value acc[2]);
  void mmaStep(const StepLoads &s, Value acc[2], int &counter);
  void storeResult(Value row, Value token, Value value);

  KernelBuilder &kb;
  ImplicitLocOpBuilder &b;
  const GemvPlan &p;
  ValueRange args;

  Value warp, quad, rowBase, tokenBase, numTokens;
  Value weightRow[2], scaleRow[2], xRow;
};

Value GemvEmitter::chunkAt(Value stepInWarp, Value *valid) {
  // Steps are interleaved over the warps: step = stepInWarp * warps + warp.
  Value step = kb.add(kb.mul(stepInWarp, p.warps), warp);
  Value chunk = kb.add(kb.mul(step, kQuadLanes), quad);
  if (!p.guardChunks)
    return chunk;
  if (valid)
    *valid = kb.ult(chunk, p.chunksPerRow);
  return kb.min(chunk, p.chunksPerRow - 1);
}

SmallVector<Value> GemvEmitter::loadIterationWeights(Value iteration) {
  SmallVector<Value> regs;
  for (int u = 0; u < p.unroll; ++u) {
    Value chunk = chunkAt(kb.add(kb.mul(iteration, p.unroll), u), nullptr);
    for (int r = 0; r < 2; ++r)
      regs.push_back(kb.load(args[abi::kWeight], kb.add(weightRow[r], chunk)));
    if (!p.scalesPerChunk())
      continue;
    Value groupIndex = kb.div(chunk, p.group / p.chunk.channels);
    for (int r = 0; r < 2; ++r)
      regs.push_back(kb.load(args[abi::kScales], kb.add(scaleRow[r], groupIndex)));
    if (p.zeros())
      for (int r = 0; r < 2; ++r)
        regs.push_back(kb.load(args[abi::kZeros], kb.add(scaleRow[r], groupIndex)));
  }
  return regs;
}

void GemvEmitter::computeIteration(Value iteration, ValueRange weights,
                                   Value acc[2]) {
  int counter = 0;
  Value zeroX = kb.zeros(kb.vec(8, kb.f16()));
  for (int u = 0; u < p.unroll; ++u) {
    StepLoads s;
    ValueRange regs = weights.slice(u * weightsPerStep(), weightsPerStep());
    for (int r = 0; r < 2; ++r) {
      s.weights.words[r] = regs[r];
      if (p.scalesPerChunk())
        s.weights.scale[r] = regs[2 + r];
      if (p.zeros())
        s.weights.zero[r] = regs[4 + r];
    }
    Value chunk = chunkAt(kb.add(kb.mul(iteration, p.unroll), u), &s.valid);
    Value xBase = kb.add(xRow, kb.mul(chunk, p.chunk.channels / 8));
    for (int64_t j = 0; j < p.chunk.channels / 8; ++j) {
      Value x = kb.loadHalf8(args[abi::kX], kb.add(xBase, j));
      // A chunk past the row contributes nothing: its x is zero (its weights
      // were read from the row's last chunk, so they are finite).
      s.x.push_back(s.valid ? kb.select(s.valid, x, zeroX) : x);
    }
    mmaStep(s, acc, counter);
  }
}

void GemvEmitter::mmaStep(const StepLoads &s, Value acc[2], int &counter) {
  if (p.scales == ScalePlacement::StepTile) {
    // Two independent mma chains of the unscaled codes from zero, then
    // acc += tile * scale with the scales of the fragment's rows (g, g+8).
    VectorType tileType = VectorType::get({2, 2}, kb.f32());
    Value tile[2] = {kb.zeros(tileType), kb.zeros(tileType)};
    ChunkRegisters unscaled = s.weights;
    unscaled.scale[0] = unscaled.scale[1] = Value();
    for (auto [m, a] : llvm::enumerate(weightOperands(kb, p.chunk, unscaled)))
      tile[m % 2] = mmaSync(kb, a, operandBFromHalves(kb, s.x, p.chunk, m), tile[m % 2]);
    Value s0 = kb.extF32(s.weights.scale[0]), s1 = kb.extF32(s.weights.scale[1]);
    Value scale = vector::FromElementsOp::create(b, tileType, ValueRange{s0, s0, s1, s1});
    for (int c = 0; c < 2; ++c)
      acc[c] = kb.fma(tile[c], scale, acc[c]);
    return;
  }
  // Operands: the scales are in s.weights; Output: none are (the codes
  // accumulate, storeResult scales); None: f16 weights.
  for (auto [m, a] : llvm::enumerate(weightOperands(kb, p.chunk, s.weights))) {
    Value &c = acc[counter++ % 2];
    c = mmaSync(kb, a, operandBFromHalves(kb, s.x, p.chunk, m), c);
  }
}

void GemvEmitter::storeResult(Value row, Value token, Value value) {
  Value inside = kb.ult(token, numTokens);
  if (p.n % kTileRows != 0)
    inside = arith::AndIOp::create(b, inside, kb.ult(row, p.n));
  kb.ifThen(inside, [&] {
    Value at = kb.add(kb.mul(token, p.n), row);
    Value v = value;
    if (p.scales == ScalePlacement::Output)
      v = kb.mulF(v, loadRowScale(kb, p.chunk, args[abi::kScales], row));
    if (p.bias)
      v = kb.addF(v, kb.extF32(kb.load(args[abi::kBias], row)));
    if (p.residual)
      v = kb.addF(v, kb.extF32(kb.load(args[abi::kResidual], at)));
    kb.store(kb.truncF16(v), args[abi::kOut], at);
  });
}

void GemvEmitter::emit(Value workgroup) {
  Value tid = kb.threadIdX();
  Value lane = kb.rem(tid, 32);
  warp = kb.div(tid, 32);
  Value group = kb.div(lane, kQuadLanes);
  quad = kb.rem(lane, kQuadLanes);
  rowBase = kb.mul(kb.blockIdX(), kTileRows);
  tokenBase = kb.mul(kb.blockIdY(), kTileTokens);
  numTokens = kb.toIndex(args[abi::kNumTokens]);

  // Rows past N (last tile) read row N-1 and are not stored.
  Value rows[2] = {kb.add(rowBase, group), kb.add(rowBase, kb.add(group, 8))};
  for (int r = 0; r < 2; ++r) {
    Value row = p.n % kTileRows ? kb.min(rows[r], p.n - 1) : rows[r];
    weightRow[r] = kb.mul(row, p.chunksPerRow);
    if (p.scalesPerChunk())
      scaleRow[r] = kb.mul(row, p.scaleGroups());
  }
  // Token columns past the batch read the last token and are not stored.
  Value lastToken = arith::SubIOp::create(b, numTokens, kb.index(1));
  xRow = kb.mul(kb.min(kb.add(tokenBase, group), lastToken), p.k / 8);

  VectorType accType = VectorType::get({2, 2}, kb.f32());
  Value acc[2] = {kb.zeros(accType), kb.zeros(accType)};
  // Software pipeline: the weights of iteration i+1 are requested before
  // iteration i is dequantized and multiplied, so memory keeps streaming
  // while the warp computes. The last iteration is peeled (no prefetch).
  // Programmatic launch: this grid may start while the kernel before it
  // (which writes x, the residual or out) is still running; x, the residual
  // and out are touched only after the wait. Dependents may launch as soon
  // as every block has passed it: they wait for this grid in turn.
  if (p.programmatic && !p.prefetchBeforeWait) {
    kb.gridDependencyWait();
    kb.launchDependents();
  }
  SmallVector<Value> weights = loadIterationWeights(kb.index(0));
  if (p.prefetchBeforeWait) {
    // The first iteration's weights are requested before the wait, so their
    // DRAM latency overlaps the predecessor's tail.
    kb.gridDependencyWait();
    kb.launchDependents();
  }
  if (p.iterations > 1) {
    SmallVector<Value> init = {acc[0], acc[1]};
    init.append(weights);
    auto loop = scf::ForOp::create(b, kb.index(0), kb.index(p.iterations - 1),
                                   kb.index(1), init);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value it = loop.getInductionVar();
      Value carried[2] = {loop.getRegionIterArg(0), loop.getRegionIterArg(1)};
      SmallVector<Value> next = loadIterationWeights(kb.add(it, 1));
      computeIteration(it, loop.getRegionIterArgs().drop_front(2), carried);
      SmallVector<Value> yield = {carried[0], carried[1]};
      yield.append(next);
      scf::YieldOp::create(b, yield);
    }
    acc[0] = loop.getResult(0);
    acc[1] = loop.getResult(1);
    weights.assign(loop.getResults().begin() + 2, loop.getResults().end());
  }
  computeIteration(kb.index(p.iterations - 1), weights, acc);
  Value total = kb.addF(acc[0], acc[1]);

  // C fragment: element (i / 2, i % 2) is row g + 8 * (i / 2), token
  // 2q + i % 2 of the tile.
  auto element = [&](int i) {
    return vector::ExtractOp::create(b, total, ArrayRef<int64_t>{i / 2, i % 2})
        .getResult();
  };
  if (p.warps == 1) {
    for (int i = 0; i < 4; ++i) {
      Value row = kb.add(rowBase, kb.add(group, 8 * (i / 2)));
      Value token = kb.add(tokenBase, kb.add(kb.mul(quad, 2), i % 2));
      storeResult(row, token, element(i));
    }
    return;
  }
  // Warps add their partial tiles: 128 values each; the block's threads sum
  // value v over the warps and store it, for v = tid, tid + threads, ...
  Value slot = kb.add(kb.mul(warp, 128), kb.mul(lane, 4));
  for (int i = 0; i < 4; ++i)
    kb.store(element(i), workgroup, kb.add(slot, i));
  kb.barrier();
  kb.stridedLoop(tid, 128, 32 * p.warps, [&](Value v) {
    Value sum = kb.load(workgroup, v);
    for (int w = 1; w < p.warps; ++w)
      sum = arith::AddFOp::create(b, sum, kb.load(workgroup, kb.add(v, 128 * w)));
    Value srcLane = kb.div(v, 4), i = kb.rem(v, 4);
    Value row = kb.add(rowBase, kb.add(kb.div(srcLane, 4),
                                       kb.mul(kb.div(i, 2), 8)));
    Value token = kb.add(tokenBase, kb.add(kb.mul(kb.rem(srcLane, 4), 2),
                                           kb.rem(i, 2)));
    storeResult(row, token, sum);
  });
}

} // namespace

FailureOr<KernelIR> buildGemvKernel(ImplicitLocOpBuilder &b,
                                    const KernelRequest &r, StringRef entry) {
  if (failed(checkLinearRequest(b, r)))
    return failure();
  KernelBuilder kb(b);
  GemvPlan p = planGemv(r);
  SmallVector<KernelParam> params = linearParams(kb, r);
  SmallVector<Type> workgroup;
  if (p.warps > 1)
    workgroup.push_back(kb.workgroupBuffer(kb.f32(), 128 * p.warps));
  KernelShell shell = createKernelShell(b, entry, params, workgroup, 32 * p.warps);
  if (p.maxRegisters > 0) // e.g. to stay under an occupancy cliff
    shell.func->setAttr("nvvm.maxnreg", b.getI32IntegerAttr(p.maxRegisters));
  ValueRange args = shell.func.getArguments();
  Value scratch;
  if (p.warps > 1)
    scratch = shell.func.getWorkgroupAttributions()[0];

  GemvEmitter emitter(kb, p, args);
  emitter.emit(scratch);
  KernelIR ir = finishKernelIR(b, shell, 32 * p.warps);
  ir.tile.tileM = kTileTokens;
  ir.tile.tileN = kTileRows;
  ir.tile.splitK = p.warps;
  ir.tile.programmaticLaunch = p.programmatic;
  return ir;
}

} // namespace qtc::codegen
