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
// Int4 weights are dequantized in registers with the magic-number trick:
// (word >> 4j) & 0x000F000F | 0x64006400 is the f16 pair (1024 + q_j,
// 1024 + q_{j+4}); subtracting 1024 + zero is exact (MmaFragments.cpp). The
// pair holds channels (j, j+4) of the word, so x is paired the same way with
// a register shuffle. When a step's 128 channels lie in one quantization
// group (group size a multiple of 128), the mma multiplies the unscaled
// q - zero and the group scale is applied once to the step's f32 tile: 8
// fma per 8 mma instead of 32 f16x2 multiplies, and the product is rounded
// once, in f32. Smaller groups scale the f16 operands.
//
// Work split: a block owns 16 output rows and 8 tokens; its warps split the
// K range (interleaved steps, so the block reads neighbouring memory) and add
// their partial tiles through shared memory. One step of a warp covers
// 4 chunks (one per quad lane) of 8 (f16) or 32 (int4) channels, and `unroll`
// steps are issued before their first use to keep loads in flight.
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

constexpr int64_t kTileRows = 16;  // mma M
constexpr int64_t kTileTokens = 8; // mma N
constexpr int64_t kQuadLanes = 4;

struct GemvPlan {
  int64_t n = 0, k = 0;
  bool int4 = false;
  int64_t group = 0;
  bool symmetric = true;
  int64_t chunkK = 0;       // channels per 16-byte weight chunk
  int64_t chunksPerRow = 0; // k / chunkK
  int64_t steps = 0;        // ceil(chunksPerRow / 4)
  int warps = 1;
  int unroll = 1;
  int64_t stepsPerWarp = 0;
  int64_t iterations = 0;
  bool guardChunks = false; // some (step, lane) pairs fall past the row
  bool scaleAfterMma = false; // int4: a step's chunks share one group
  bool bias = false, residual = false;
  // sm_90+: the kernel waits for its stream predecessor (griddepcontrol.wait)
  // at its start, or after requesting the first weights; see emit().
  bool programmatic = false;
  bool prefetchBeforeWait = false;
  int maxRegisters = 0; // .maxnreg for ptxas; 0: none
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
// <= 128 registers, and crossing that costs a third of the speed.
struct TunedShape {
  bool int4;
  int64_t n, k;
  int warps, unroll;
  int dequant = 0, wait = 0, maxRegisters = 0;
};
constexpr TunedShape kTunedSm90[] = {
    {false, 12288, 4096, 4, 4},       {false, 4096, 4096, 4, 8},
    {false, 22016, 4096, 8, 2},       {false, 4096, 11008, 8, 4},
    {true, 12288, 4096, 4, 8, 2, 1},  {true, 4096, 4096, 8, 2, 1, 1},
    {true, 22016, 4096, 4, 8, 2, 1},  {true, 4096, 11008, 8, 8, 1, 1, 128},
};

// Other shapes and chips: fp16 4 warps x 4 steps; int4 issues 8 steps per
// iteration (its chunks carry 4x the channels of fp16's, so it needs more
// bytes in flight per instruction) with 8 warps when there are few row tiles,
// scales the f16 operands (fewer registers) and waits at its start.
GemvPlan planGemv(const KernelRequest &r) {
  GemvPlan p;
  p.n = r.outFeatures;
  p.k = r.inFeatures;
  p.int4 = r.format == WeightFormat::Int4Group;
  p.group = r.groupSize;
  p.symmetric = r.symmetric;
  p.bias = r.hasBias;
  p.residual = r.hasResidual;
  p.chunkK = p.int4 ? 32 : 8;
  p.chunksPerRow = p.k / p.chunkK;
  p.steps = ceilDiv(p.chunksPerRow, kQuadLanes);
  int64_t tiles = ceilDiv(p.n, kTileRows);
  int warps = p.int4 ? (tiles < 512 ? 8 : 4) : 4;
  int unroll = p.int4 ? 8 : 4;
  int dequant = 1, wait = 1, maxRegisters = 0;
  if (r.chip == "sm_90")
    for (const TunedShape &t : kTunedSm90)
      if (t.int4 == p.int4 && t.n == p.n && t.k == p.k && (!p.int4 || r.groupSize == 128)) {
        warps = t.warps;
        unroll = t.unroll;
        dequant = t.dequant ? t.dequant : dequant;
        wait = t.wait ? t.wait : wait;
        maxRegisters = t.maxRegisters;
      }
  if (r.splitK > 0)
    warps = r.splitK;
  if (r.unroll > 0)
    unroll = r.unroll;
  if (r.dequant > 0)
    dequant = r.dequant;
  if (r.programmaticWait != 0)
    wait = r.programmaticWait;
  if (r.maxRegisters > 0)
    maxRegisters = r.maxRegisters;
  bool stepInOneGroup = p.int4 && p.group % (kQuadLanes * p.chunkK) == 0;
  p.scaleAfterMma = stepInOneGroup && dequant == 2;
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

LogicalResult checkLinearRequest(ImplicitLocOpBuilder &b, const KernelRequest &r) {
  auto fail = [&](const Twine &msg) {
    return emitError(b.getLoc()) << "linear kernel: " << msg;
  };
  if (r.inFeatures <= 0 || r.outFeatures <= 0)
    return fail("in_features and out_features must be positive");
  if (r.format == WeightFormat::Dense) {
    if (r.inFeatures % 8 != 0)
      return fail("dense weights need in_features divisible by 8 (16-byte "
                  "rows), got " + Twine(r.inFeatures));
    return success();
  }
  if (r.groupSize <= 0 || r.groupSize % 32 != 0)
    return fail("int4 group size must be a positive multiple of 32, got " +
                Twine(r.groupSize));
  if (r.inFeatures % r.groupSize != 0)
    return fail("in_features " + Twine(r.inFeatures) +
                " is not a multiple of the group size " + Twine(r.groupSize));
  return success();
}

namespace {

// The registers of one step: its weights (and group scales) come from an
// earlier iteration's prefetch, its x (an L1 hit) is loaded just before use.
struct StepLoads {
  Value valid;                 // chunk inside the row (null: always)
  Value weights[2];            // rows g and g+8: vector<4xi32>
  SmallVector<Value, 4> x;     // vector<8xf16> per 8 channels of the chunk
  Value scale[2], zero[2];     // int4: f16 scalars
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
    return 2 + (p.int4 ? 2 : 0) + (p.int4 && !p.symmetric ? 2 : 0);
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
    if (!p.int4)
      continue;
    Value groupIndex = kb.div(chunk, p.group / p.chunkK);
    for (int r = 0; r < 2; ++r)
      regs.push_back(kb.load(args[abi::kScales], kb.add(scaleRow[r], groupIndex)));
    if (!p.symmetric)
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
    s.weights[0] = regs[0];
    s.weights[1] = regs[1];
    if (p.int4) {
      s.scale[0] = regs[2];
      s.scale[1] = regs[3];
      if (!p.symmetric) {
        s.zero[0] = regs[4];
        s.zero[1] = regs[5];
      }
    }
    Value chunk = chunkAt(kb.add(kb.mul(iteration, p.unroll), u), &s.valid);
    Value xBase = kb.add(xRow, kb.mul(chunk, p.chunkK / 8));
    for (int64_t j = 0; j < p.chunkK / 8; ++j) {
      Value x = kb.loadHalf8(args[abi::kX], kb.add(xBase, j));
      // A chunk past the row contributes nothing: its x is zero (its weights
      // were read from the row's last chunk, so they are finite).
      s.x.push_back(s.valid ? kb.select(s.valid, x, zeroX) : x);
    }
    mmaStep(s, acc, counter);
  }
}

void GemvEmitter::mmaStep(const StepLoads &s, Value acc[2], int &counter) {
  if (p.scaleAfterMma) {
    // Two independent mma chains of q - zero from zero, then
    // acc += tile * scale with the scales of the fragment's rows (g, g+8).
    VectorType tileType = VectorType::get({2, 2}, kb.f32());
    Value tile[2] = {kb.zeros(tileType), kb.zeros(tileType)};
    SmallVector<Value, 8> operands = weightOperandsInt4(
        kb, s.weights[0], s.weights[1], Value(), Value(), s.zero[0], s.zero[1]);
    for (auto [m, a] : llvm::enumerate(operands))
      tile[m % 2] = mmaSync(kb, a, operandBFromHalves(kb, s.x, true, m), tile[m % 2]);
    Value s0 = kb.extF32(s.scale[0]), s1 = kb.extF32(s.scale[1]);
    Value scale = vector::FromElementsOp::create(b, tileType, ValueRange{s0, s0, s1, s1});
    for (int c = 0; c < 2; ++c)
      acc[c] = kb.fma(tile[c], scale, acc[c]);
    return;
  }
  SmallVector<Value, 8> operands =
      p.int4 ? weightOperandsInt4(kb, s.weights[0], s.weights[1], s.scale[0],
                                  s.scale[1], s.zero[0], s.zero[1])
             : weightOperandsF16(kb, s.weights[0], s.weights[1]);
  for (auto [m, a] : llvm::enumerate(operands)) {
    Value &c = acc[counter++ % 2];
    c = mmaSync(kb, a, operandBFromHalves(kb, s.x, p.int4, m), c);
  }
}

void GemvEmitter::storeResult(Value row, Value token, Value value) {
  Value inside = kb.ult(token, numTokens);
  if (p.n % kTileRows != 0)
    inside = arith::AndIOp::create(b, inside, kb.ult(row, p.n));
  kb.ifThen(inside, [&] {
    Value at = kb.add(kb.mul(token, p.n), row);
    Value v = value;
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
    if (p.int4)
      scaleRow[r] = kb.mul(row, p.k / p.group);
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
  int64_t groups = p.int4 ? p.k / p.group : 1;

  SmallVector<KernelParam> params(abi::kCount);
  params[abi::kX] = {"x", kb.buffer(kb.v4i32()), true};
  params[abi::kWeight] = {"weight", kb.buffer(kb.v4i32(), p.n * p.chunksPerRow), true};
  params[abi::kScales] = {"scales", kb.buffer(kb.f16(), p.int4 ? p.n * groups : 1), true};
  params[abi::kZeros] = {"zeros", kb.buffer(kb.f16(), p.int4 && !p.symmetric ? p.n * groups : 1), true};
  params[abi::kBias] = {"bias", kb.buffer(kb.f16(), r.hasBias ? p.n : 1), true};
  // The residual may be the output itself: no read-only promise.
  params[abi::kResidual] = {"residual", kb.buffer(kb.f16()), false};
  params[abi::kOut] = {"out", kb.buffer(kb.f16()), false};
  params[abi::kNumTokens] = {"num_tokens", kb.i32(), false};

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
