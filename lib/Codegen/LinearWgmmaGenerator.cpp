//===- LinearWgmmaGenerator.cpp - Hopper (sm_90a) prefill GEMM -------------===//
//
// out[t, n] = sum_k x[t, k] W[n, k] (+ bias[n]) (+ residual[t, n]) for
// prompt-sized row counts on the warpgroup tensor cores of sm_90:
// wgmma.mma_async.m64n128k16 f16 x f16 -> f32, both operands read from
// shared memory through matrix descriptors. W8A8 (int8 weights with one f16
// scale per row, an input slot of int8 per-token rows, qtc/rt/
// QuantizedRows.h) multiplies the codes as they are: m64n128k32 s8 x s8 ->
// s32, exact, then s[t] * scale_w[n] in the epilogue with the rounded f32
// operations of the mma.sync W8A8 kernel (kernel-check replicates them).
// FP8 (e4m3 weights with an f32 scale per row, an input slot of e4m3
// per-token rows) likewise: m64n128k32 e4m3 x e4m3 -> f32. Hopper's e4m3
// wgmma accumulates with fewer bits than f32 (about 14 by DeepSeek-V3's
// measurements; an H100 kernel-check gave rel_l2 1.3e-3 at K = 4096 and
// 1.6e-3 at K = 11008 against 2.8e-4 at K = 208, where the f16 store
// dominates), so each K tile of 128 channels is summed into fresh registers
// and added to the f32 accumulator with FADD (DeepGEMM's promotion): the
// fp8 loop waits for each tile's wgmma instead of keeping one in flight.
//
// Tile: a block of two warpgroups (256 threads) owns 128 tokens x 128
// output features; warpgroup w multiplies tokens 64w..64w+63 (wgmma's M)
// by all 128 features (its N). The token tile is the A operand, the weight
// tile the B operand; both are "K-major" (channels contiguous), which is
// how x and W lie in memory.
//
// K is walked in tiles of 128 bytes (64 f16 or 128 int8 channels). Each K tile of x
// (128 rows) and W (128 rows) is staged in shared memory in the layout
// wgmma's 128-byte swizzle expects: row r at byte 128 r, its 16-byte chunk
// c at chunk c ^ (r mod 8), tiles 1024-byte aligned (descriptor: SBO 1024,
// swizzle mode 1). The four k16 (f16) or k32 (s8) steps of a tile advance
// the descriptors' start address by 32 bytes.
//
// Staging: cp.async.cg (16 bytes per thread and copy, 8 copies per thread
// per tile), `stages` tiles of shared memory in a ring. Tile kt + S - 2 is
// requested while tile kt is multiplied, so S - 2 tiles are in flight while
// the tensor cores work on one (S = stages). One barrier per tile: every warpgroup
// has retired the wgmma group of tile kt - 2 (wgmma.wait_group 1 after
// issuing tile kt - 1) before reaching the barrier of tile kt, so the slot
// of tile kt - 2 is free for the copies issued after it. The copies go
// through the generic proxy, the wgmma reads through the async proxy:
// fence.proxy.async between them. Rows past the batch or past N and chunks
// past K are copied as zeros (cp.async's source size 0).
//
// Epilogue: accumulator element j of a thread is token 16 w' + lane / 4
// (+ 8 for j % 4 >= 2) and feature 8 (j / 4) + 2 (lane % 4) + j % 2 of the
// warpgroup's tile (w' the warp within the warpgroup).
//
// Not done yet: TMA staging with a producer warp (cp.async spends the
// consumers' issue slots on addresses), a persistent or stream-K schedule,
// int4 weights dequantized into the staged tile, and a shared-memory staged
// epilogue for wide stores.
//
//===----------------------------------------------------------------------===//

#include "Generators.h"
#include "KernelBuilder.h"
#include "RowQuantization.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace qtc::codegen {
namespace {

namespace abi = rt::abi::linear;

constexpr int kWarpgroups = 2;
constexpr int kThreads = 128 * kWarpgroups;
constexpr int64_t kWarpgroupTokens = 64;                     // wgmma M
constexpr int64_t kTileTokens = kWarpgroupTokens * kWarpgroups;
constexpr int64_t kTileFeatures = 128;                       // wgmma N
constexpr int64_t kRowBytes = 128;                           // one swizzle row
constexpr int64_t kChunksPerRow = kRowBytes / 16;
constexpr int64_t kStageBytes = (kTileTokens + kTileFeatures) * kRowBytes;
constexpr int64_t kCopiesPerThread =
    (kTileTokens + kTileFeatures) * kChunksPerRow / kThreads;
constexpr int64_t kAccumulators = kWarpgroupTokens * kTileFeatures / 128;
// Six stages of 32 KB (193 KB of the 227 KB a block may have): four tiles
// in flight while one is multiplied and one retired. Measured best of 3-6
// on the Llama-2-7B prefill shapes at 512 and 2048 tokens (H200).
constexpr int kDefaultStages = 6;
// Dynamic shared memory is 16-byte aligned; the swizzle atoms need 1024.
constexpr int64_t kAlignSlack = 1024;

class WgmmaEmitter {
public:
  WgmmaEmitter(KernelBuilder &kb, const KernelRequest &r, ValueRange args,
               int stages)
      : kb(kb), b(kb.b), args(args), n(r.outFeatures), k(r.inFeatures),
        bias(r.hasBias), residual(r.hasResidual), stages(stages),
        int8(r.activation == rt::fb::ActivationQuant::Int8PerToken),
        fp8(r.activation == rt::fb::ActivationQuant::Fp8PerToken) {}

  void emit();

private:
  Value i32(int64_t v) { return kb.constI32(v); }
  Value i64(Value indexValue) {
    return arith::IndexCastOp::create(b, b.getI64Type(), indexValue);
  }
  // The address of a memref's first element as an i64.
  Value baseAddress(Value memref) {
    return i64(memref::ExtractAlignedPointerAsIndexOp::create(b, memref));
  }
  // Issues the copies of K tile `tile` into ring slot `slot` (i32 values).
  void copyTile(Value tile, Value slot);
  Value descriptor(Value address);
  Value multiplyTile(Value slot, Value acc);
  void storeTile(Value acc);

  KernelBuilder &kb;
  ImplicitLocOpBuilder &b;
  ValueRange args;
  int64_t n, k;
  bool bias, residual;
  int stages;
  // s8 x s8 -> s32 (W8A8) instead of f16 x f16 -> f32: one byte per channel.
  bool int8;
  // e4m3 x e4m3 -> f32 (FP8 activations and weights).
  bool fp8;
  bool codes() const { return int8 || fp8; }
  int64_t elementBytes() const { return codes() ? 1 : 2; }

  Value tid, warpgroup, numTokens, tokenBase, featureBase;
  Value sharedBase; // i32 shared-window address of slot 0
  Value xBase, wBase; // i64 generic addresses
};

void WgmmaEmitter::copyTile(Value tile, Value slot) {
  MLIRContext *ctx = b.getContext();
  Type shared = LLVM::LLVMPointerType::get(ctx, 3);
  Type global = LLVM::LLVMPointerType::get(ctx, 1);
  const int64_t kChunks = k * elementBytes() / 16; // 16-byte chunks per row of x and W
  Value slotBase = arith::AddIOp::create(
      b, sharedBase, arith::MulIOp::create(b, slot, i32(kStageBytes)));
  for (int64_t i = 0; i < kCopiesPerThread; ++i) {
    // 8 consecutive threads copy one 128-byte row: coalesced reads.
    Value item = kb.add(tid, i * kThreads);
    Value row = kb.div(item, kChunksPerRow), c = kb.rem(item, kChunksPerRow);
    Value chunk = kb.add(kb.mul(tile, kChunksPerRow), c); // along K
    Value inK = kb.ult(chunk, kChunks);
    Value chunkAt = kb.min(chunk, kChunks - 1);
    // Rows 0..127 are tokens (x), 128..255 output features (W).
    Value isX = kb.ult(row, kTileTokens);
    Value token = kb.add(tokenBase, row);
    // (Past the x rows only: for an x row this wraps and is never used.)
    Value feature = kb.add(featureBase, kb.sub(row, kb.index(kTileTokens)));
    Value lastToken = kb.sub(numTokens, kb.index(1));
    Value xValid = arith::AndIOp::create(b, inK, kb.ult(token, numTokens));
    Value xAt = kb.add(kb.mul(kb.min(token, lastToken), kChunks), chunkAt);
    Value featureAt = kb.min(kb.select(isX, kb.index(0), feature), n - 1);
    Value wValid = arith::AndIOp::create(b, inK, kb.ult(feature, n));
    Value wAt = kb.add(kb.mul(featureAt, kChunks), chunkAt);
    Value valid = kb.select(isX, xValid, wValid);
    Value src = kb.select(isX, kb.mul(xAt, 16), kb.mul(wAt, 16));
    Value srcBase = arith::SelectOp::create(b, isX, xBase, wBase);
    Value srcAddress = arith::AddIOp::create(b, srcBase, i64(src));
    // Swizzled destination: chunk c of row r at chunk c ^ (r mod 8).
    Value row32 = kb.toI32(row);
    Value swizzled = arith::XOrIOp::create(
        b, kb.toI32(c), arith::AndIOp::create(b, row32, i32(7)));
    Value dstOffset = arith::AddIOp::create(
        b, arith::MulIOp::create(b, row32, i32(kRowBytes)),
        arith::ShLIOp::create(b, swizzled, i32(4)));
    Value dst = arith::AddIOp::create(b, slotBase, dstOffset);
    Value dstPtr = LLVM::IntToPtrOp::create(b, shared, dst);
    Value srcPtr = LLVM::IntToPtrOp::create(b, global, srcAddress);
    Value srcBytes = arith::SelectOp::create(b, valid, i32(16), i32(0));
    NVVM::CpAsyncOp::create(b, dstPtr, srcPtr, 16, NVVM::LoadCacheModifierKind::CG,
                            srcBytes);
  }
}

// Shared-memory matrix descriptor of a K-major, 128-byte swizzled operand
// (PTX ISA "Matrix Descriptor"): start address >> 4 in bits 0-13, stride
// byte offset (1024, between 8-row groups) >> 4 in bits 32-45, swizzle mode
// 1 (128 bytes) in bits 62-63. The leading byte offset is unused for
// swizzled K-major layouts whose K extent fits one swizzle row.
Value WgmmaEmitter::descriptor(Value address) {
  Type i64Type = b.getI64Type();
  Value start = arith::AndIOp::create(
      b, arith::ShRUIOp::create(b, address, i32(4)), i32(0x3fff));
  Value wide = arith::ExtUIOp::create(b, i64Type, start);
  uint64_t fixed = (uint64_t(1024 >> 4) << 32) | (uint64_t(1) << 62);
  Value constant = arith::ConstantOp::create(
      b, i64Type, b.getI64IntegerAttr(static_cast<int64_t>(fixed)));
  return arith::OrIOp::create(b, wide, constant);
}

Value WgmmaEmitter::multiplyTile(Value slot, Value acc) {
  MLIRContext *ctx = b.getContext();
  Value slotBase = arith::AddIOp::create(
      b, sharedBase, arith::MulIOp::create(b, slot, i32(kStageBytes)));
  Value aBase = arith::AddIOp::create(
      b, slotBase,
      arith::MulIOp::create(b, kb.toI32(warpgroup), i32(kWarpgroupTokens * kRowBytes)));
  Value bBase = arith::AddIOp::create(b, slotBase, i32(kTileTokens * kRowBytes));
  NVVM::WgmmaFenceAlignedOp::create(b);
  // 32 bytes of K per instruction: k16 of f16, k32 of s8.
  auto shape = NVVM::MMAShapeAttr::get(ctx, 64, kTileFeatures, 32 / elementBytes());
  NVVM::WGMMATypes in = int8  ? NVVM::WGMMATypes::s8
                        : fp8 ? NVVM::WGMMATypes::e4m3
                              : NVVM::WGMMATypes::f16;
  NVVM::WGMMATypes out = int8 ? NVVM::WGMMATypes::s32 : NVVM::WGMMATypes::f32;
  // |sum| <= 127 * 127 * K stays far below 2^31: wrapping never happens.
  auto overflow = int8 ? NVVM::MMAIntOverflowAttr::get(ctx, NVVM::MMAIntOverflow::wrapped)
                       : NVVM::MMAIntOverflowAttr();
  for (int64_t step = 0; step < kRowBytes / 32; ++step) {
    Value descA = descriptor(arith::AddIOp::create(b, aBase, i32(32 * step)));
    Value descB = descriptor(arith::AddIOp::create(b, bBase, i32(32 * step)));
    acc = NVVM::WgmmaMmaAsyncOp::create(
        b, acc.getType(), acc, descA, descB, shape, in, in, out, NVVM::WGMMAScaleOut::one,
        NVVM::WGMMAScaleIn::one, NVVM::WGMMAScaleIn::one, NVVM::MMALayout::row,
        NVVM::MMALayout::col, overflow);
  }
  NVVM::WgmmaGroupSyncAlignedOp::create(b);
  return acc;
}

void WgmmaEmitter::storeTile(Value acc) {
  Value inGroup = kb.rem(tid, 128);
  Value warp = kb.div(inGroup, 32), lane = kb.rem(inGroup, 32);
  Value rowOfLane = kb.add(kb.add(tokenBase, kb.mul(warpgroup, kWarpgroupTokens)),
                           kb.add(kb.mul(warp, 16), kb.div(lane, 4)));
  Value colOfLane = kb.add(featureBase, kb.mul(kb.rem(lane, 4), 2));
  // W8A8: the row scales of this thread's two tokens (clamped: rows past the
  // batch are not stored).
  Value tokenScale[2];
  if (codes()) {
    Value lastToken = kb.sub(numTokens, kb.index(1));
    for (int h = 0; h < 2; ++h)
      tokenScale[h] = loadRowScale16(kb, args[abi::kX], numTokens, k,
                                     kb.min(kb.add(rowOfLane, 8 * h), lastToken));
  }
  for (int64_t j = 0; j < kAccumulators; ++j) {
    Value token = kb.add(rowOfLane, 8 * ((j % 4) / 2));
    Value feature = kb.add(colOfLane, 8 * (j / 4) + j % 2);
    Value value = LLVM::ExtractValueOp::create(b, acc, ArrayRef<int64_t>{j});
    Value inside = arith::AndIOp::create(b, kb.ult(token, numTokens),
                                         kb.ult(feature, n));
    kb.ifThen(inside, [&] {
      Value at = kb.add(kb.mul(token, n), feature);
      Value v = value;
      if (codes()) {
        // As the mma.sync W8A8 kernel rounds: float(sum) * (s[t] * scale_w[n]).
        // The row's scale as stored (f16 for int8, f32 for fp8): the codes
        // are multiplied as they are, in no other unit.
        Value ws = kb.load(args[abi::kScales], feature);
        if (!ws.getType().isF32())
          ws = kb.extF32(ws);
        Value scale = kb.mulRn(tokenScale[(j % 4) / 2], ws);
        Value sum = int8 ? arith::SIToFPOp::create(b, kb.f32(), value).getResult() : value;
        v = kb.mulRn(sum, scale);
        if (bias)
          v = kb.addRn(v, kb.extF32(kb.load(args[abi::kBias], feature)));
        if (residual)
          v = kb.addRn(v, kb.extF32(kb.load(args[abi::kResidual], at)));
      } else {
        if (bias)
          v = kb.addF(v, kb.extF32(kb.load(args[abi::kBias], feature)));
        if (residual)
          v = kb.addF(v, kb.extF32(kb.load(args[abi::kResidual], at)));
      }
      kb.store(kb.truncF16(v), args[abi::kOut], at);
    });
  }
}

void WgmmaEmitter::emit() {
  MLIRContext *ctx = b.getContext();
  tid = kb.threadIdX();
  warpgroup = kb.div(tid, 128);
  numTokens = kb.toIndex(args[abi::kNumTokens]);
  // Blocks run in launch order (x fastest); renumber them token tile first,
  // so the blocks resident at once share weight tiles: each weight tile is
  // read from DRAM about once and the token tiles (x) stay in L2. In the
  // launch order (feature tile first) every token tile rereads all of W,
  // which made the wide projections bandwidth-bound.
  Value featureTiles = kb.index((n + kTileFeatures - 1) / kTileFeatures);
  Value tokenTiles = gpu::GridDimOp::create(b, gpu::Dimension::y);
  Value block = kb.add(kb.mul(kb.blockIdY(), featureTiles), kb.blockIdX());
  featureBase = kb.mul(arith::DivUIOp::create(b, block, tokenTiles).getResult(),
                       kTileFeatures);
  tokenBase = kb.mul(arith::RemUIOp::create(b, block, tokenTiles).getResult(),
                     kTileTokens);
  xBase = baseAddress(args[abi::kX]);
  wBase = baseAddress(args[abi::kWeight]);

  auto sharedType = MemRefType::get(
      {ShapedType::kDynamic}, b.getI8Type(), MemRefLayoutAttrInterface(),
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup));
  Value shared = gpu::DynamicSharedMemoryOp::create(b, sharedType);
  Value raw = arith::TruncIOp::create(b, b.getI32Type(), baseAddress(shared));
  sharedBase = arith::AndIOp::create(
      b, arith::AddIOp::create(b, raw, i32(kAlignSlack - 1)), i32(-kAlignSlack));

  const int64_t tileChannels = kRowBytes / elementBytes();
  const int64_t tiles = (k + tileChannels - 1) / tileChannels;
  const int64_t ahead = stages - 2; // tiles requested before the first multiply
  for (int64_t t = 0; t < ahead; ++t) {
    if (t < tiles)
      copyTile(kb.index(t), i32(t));
    NVVM::CpAsyncCommitGroupOp::create(b);
  }

  auto accType = LLVM::LLVMStructType::getLiteral(
      ctx, SmallVector<Type>(kAccumulators, int8 ? kb.i32() : kb.f32()));
  Value zero = LLVM::ZeroOp::create(b, accType);
  auto loop = scf::ForOp::create(b, kb.index(0), kb.index(tiles), kb.index(1),
                                 ValueRange{zero});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value tile = loop.getInductionVar();
    Value acc = loop.getRegionIterArgs()[0];
    // Tile `tile` has landed once at most `ahead - 1` later groups are
    // pending; the barrier makes every thread's copies visible and orders
    // the slot reuse below.
    NVVM::CpAsyncWaitGroupOp::create(b, ahead - 1);
    NVVM::FenceProxyOp::create(b, NVVM::ProxyKind::async_shared,
                               NVVM::SharedSpaceAttr::get(ctx, NVVM::SharedSpace::shared_cta));
    kb.barrier();
    Value next = kb.add(tile, ahead);
    kb.ifThen(kb.ult(next, tiles), [&] {
      copyTile(next, kb.toI32(kb.rem(next, stages)));
    });
    NVVM::CpAsyncCommitGroupOp::create(b);
    if (fp8) {
      // Promotion: this tile's sum alone, then added in f32.
      Value partial = multiplyTile(kb.toI32(kb.rem(tile, stages)), zero);
      NVVM::WgmmaWaitGroupSyncOp::create(b, 0);
      for (int64_t j = 0; j < kAccumulators; ++j) {
        Value sum = arith::AddFOp::create(
            b, LLVM::ExtractValueOp::create(b, acc, ArrayRef<int64_t>{j}),
            LLVM::ExtractValueOp::create(b, partial, ArrayRef<int64_t>{j}));
        acc = LLVM::InsertValueOp::create(b, acc, sum, ArrayRef<int64_t>{j});
      }
    } else {
      acc = multiplyTile(kb.toI32(kb.rem(tile, stages)), acc);
      // Keep one wgmma group in flight: the previous tile's is retired, so
      // its slot may be refilled after the next barrier.
      NVVM::WgmmaWaitGroupSyncOp::create(b, 1);
    }
    scf::YieldOp::create(b, ValueRange{acc});
  }
  NVVM::WgmmaWaitGroupSyncOp::create(b, 0);
  storeTile(loop.getResult(0));
}

} // namespace

bool acceptsWgmmaGemm(const KernelRequest &r) {
  if (r.decode || r.family != KernelFamily::Linear || smVersion(r.chip) != 90)
    return false;
  const bool f16 = r.format == rt::fb::WeightFormat::Dense &&
                   r.activation == rt::fb::ActivationQuant::None && r.inFeatures % 8 == 0;
  const bool w8a8 = r.format == rt::fb::WeightFormat::Int8Group &&
                    r.groupSize == r.inFeatures &&
                    r.activation == rt::fb::ActivationQuant::Int8PerToken &&
                    r.inFeatures % 16 == 0;
  const bool fp8 = r.format == rt::fb::WeightFormat::Fp8Channel &&
                   r.activation == rt::fb::ActivationQuant::Fp8PerToken &&
                   r.inFeatures % 16 == 0;
  return f16 || w8a8 || fp8;
}

// The default where it applies: 2.6-4.1x the mma.sync GEMM on the Llama-2-7B
// prefill shapes with 6 stages (bench/results/prefill_linear_wgmma_h200_*.md). wgmma = 1 forces it
// (and reports why when it does not apply), -1 keeps the mma.sync GEMM.
bool usesWgmmaGemm(const KernelRequest &r) {
  if (r.decode || r.wgmma < 0)
    return false;
  return r.wgmma > 0 || acceptsWgmmaGemm(r);
}

FailureOr<KernelIR> buildWgmmaGemmKernel(ImplicitLocOpBuilder &b,
                                         const KernelRequest &r,
                                         StringRef entry) {
  if (failed(checkLinearRequest(b, r)))
    return failure();
  if (!acceptsWgmmaGemm(r))
    return emitError(b.getLoc())
           << "linear wgmma GEMM: needs f16 weights and activations, int8 "
              "weights with one scale per row and int8 per-token activations "
              "(W8A8), or fp8 weights and activations, and an sm_90 target "
              "(wgmma is sm_90a only), got chip '"
           << r.chip << "'";
  const int stages = r.pipelineStages > 0 ? r.pipelineStages : kDefaultStages;
  if (stages < 3 || stages > 6)
    return emitError(b.getLoc())
           << "linear wgmma GEMM: pipeline stages must be 3 to 6, got " << stages;
  KernelBuilder kb(b);
  SmallVector<KernelParam> params = linearParams(kb, r);
  KernelShell shell = createKernelShell(b, entry, params, {}, kThreads);
  if (r.maxRegisters > 0)
    shell.func->setAttr("nvvm.maxnreg", b.getI32IntegerAttr(r.maxRegisters));
  WgmmaEmitter emitter(kb, r, shell.func.getArguments(), stages);
  emitter.emit();
  KernelIR ir = finishKernelIR(b, shell, kThreads);
  ir.tile.tileM = kTileTokens;
  ir.tile.tileN = kTileFeatures;
  ir.tile.splitK = 1;
  ir.tile.sharedBytes = static_cast<int>(stages * kStageBytes + kAlignSlack);
  // wgmma exists only in the arch-specific sm_90a PTX target.
  ir.ptxChip = "sm_90a";
  return ir;
}

} // namespace qtc::codegen
