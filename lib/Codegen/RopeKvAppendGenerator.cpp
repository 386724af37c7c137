//===- RopeKvAppendGenerator.cpp - RoPE in place + paged KV-cache append --===//
//
// One block per token: rotates the q and k heads of the token's qkv row
// (rotate-half convention) and writes its rotated k and its v into the
// layer's cache block for the token's position. An int8 cache is written
// after a barrier, a warp per kv head's k or v: the rotated k as rounded to
// f16 in the qkv row, v from the row, each quantized per token into its
// page (KvPageCodegen.h, qtc/rt/KvPage.h).
//
//===----------------------------------------------------------------------===//

#include "Generators.h"
#include "KernelBuilder.h"
#include "KvPageCodegen.h"
#include "PtxLowering.h"

#include "qtc/rt/RopeFrequencies.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace qtc::codegen {
namespace {

namespace abi = rt::abi::rope_kv_append;

// The request's RoPE fields for the one frequency definition the host
// backend uses too (qtc/rt/RopeFrequencies.h), so both rotate by
// bit-identical angles: the request holds the artifact's f32 config values.
std::vector<float> inverseFrequencies(const KernelRequest &r) {
  rt::RopeFrequencySpec spec = r.rope;
  spec.headDim = r.headDim;
  return rt::ropeInverseFrequencies(spec);
}

} // namespace

// Shared with the attention generator: checks heads, head_dim, block size,
// the cache format and that the target has the fp8 conversions an fp8 KV
// cache needs.
LogicalResult checkAttentionShape(ImplicitLocOpBuilder &b, StringRef what,
                                  const KernelRequest &r) {
  auto fail = [&](const Twine &msg) {
    return emitError(b.getLoc()) << what << " kernel: " << msg;
  };
  if (r.heads <= 0 || r.kvHeads <= 0 || r.heads % r.kvHeads != 0)
    return fail("heads (" + Twine(r.heads) + ") must be a positive multiple "
                "of kv_heads (" + Twine(r.kvHeads) + ")");
  if (r.headDim <= 0 || r.headDim % 32 != 0)
    return fail("head_dim must be a positive multiple of 32, got " +
                Twine(r.headDim));
  if (r.kvBlockSize <= 0)
    return fail("KV block size must be positive");
  if (r.kvDType != rt::fb::KvDType::F16 && !r.kvFp8() && !r.kvInt8())
    return fail(Twine("no kernels for a ") + rt::fb::EnumNameKvDType(r.kvDType) +
                " KV cache (f16, fp8 e4m3 and int8 per-token pages have them)");
  // A lane holds head_dim / 32 of a row's values.
  if (r.kvInt8() && r.headDim > 256)
    return fail("an int8 KV cache needs head_dim <= 256, got " + Twine(r.headDim));
  // The e4m3 conversions (cvt ... e4m3x2) exist from sm_89 on; ptxas takes
  // them on sm_89 from PTX ISA 8.1, on sm_90 from 7.8.
  if (!r.kvFp8())
    return success();
  int sm = smVersion(r.chip);
  if (sm < 89)
    return fail("fp8 KV cache needs sm_89 or newer (cvt e4m3), got " + r.chip);
  if (sm < 90 && ptxIsaVersion(r.features) < 81)
    return fail("fp8 KV cache on " + r.chip + " needs PTX ISA 8.1 or newer "
                "(+ptx81), got '" + r.features + "'");
  return success();
}

FailureOr<KernelIR> buildRopeKvAppendKernel(ImplicitLocOpBuilder &b,
                                            const KernelRequest &r,
                                            StringRef entry) {
  if (failed(checkAttentionShape(b, "rope_kv_append", r)))
    return failure();
  if (r.rope.scaling == rt::RopeFrequencySpec::Scaling::Llama3 &&
      (r.rope.originalMaxPositions <= 0 ||
       r.rope.highFreqFactor == r.rope.lowFreqFactor))
    return emitError(b.getLoc())
           << "rope_kv_append kernel: llama3 RoPE scaling needs original max "
              "positions and distinct low/high frequency factors";
  KernelBuilder kb(b);
  const int64_t heads = r.heads, kvHeads = r.kvHeads, headDim = r.headDim;
  const int64_t half = headDim / 2, blockSize = r.kvBlockSize;
  const int64_t qkvWidth = (heads + 2 * kvHeads) * headDim;
  const int threads = 128;

  SmallVector<KernelParam> params(abi::kCount);
  params[abi::kQkv] = {"qkv", kb.buffer(kb.f16()), false};
  // fp8: K is stored a byte at a time (the two elements of an item are
  // half a row apart), V two bytes at a time.
  // int8: byte buffers of pages.
  const bool int8 = r.kvInt8();
  Type kElem = r.kvFp8() ? kb.e4m3Packed(1) : kb.f16();
  Type vElem = r.kvFp8() ? kb.e4m3Packed(2) : kb.f16();
  params[abi::kKCache] = {"k_cache", int8 ? kvPageBuffer(kb) : kb.buffer(kElem), false};
  params[abi::kVCache] = {"v_cache", int8 ? kvPageBuffer(kb) : kb.buffer(vElem), false};
  params[abi::kPositions] = {"positions", kb.buffer(kb.i32()), true};
  params[abi::kTokenSeq] = {"token_seq", kb.buffer(kb.i32()), true};
  params[abi::kBlockTables] = {"block_tables", kb.buffer(kb.i32()), true};
  params[abi::kNumTokens] = {"num_tokens", kb.i32(), false};
  params[abi::kMaxBlocksPerSeq] = {"max_blocks_per_seq", kb.i32(), false};
  KernelShell shell = createKernelShell(b, entry, params, {}, threads);
  ValueRange args = shell.func.getArguments();

  // The frequencies as a constant table in the module.
  auto freqType = MemRefType::get({half}, kb.f32());
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(shell.func);
    std::vector<float> inv = inverseFrequencies(r);
    auto init = DenseElementsAttr::get(
        RankedTensorType::get({half}, kb.f32()), ArrayRef<float>(inv));
    memref::GlobalOp::create(b, "inv_freq", b.getStringAttr("private"),
                             freqType, init, /*constant=*/true,
                             /*alignment=*/IntegerAttr());
  }
  Value freqs = memref::GetGlobalOp::create(b, freqType, "inv_freq");

  Value token = kb.blockIdX();
  Value tid = kb.threadIdX();
  Value positionI32 = kb.load(args[abi::kPositions], token);
  Value position = kb.toIndex(positionI32);
  Value seq = kb.toIndex(kb.load(args[abi::kTokenSeq], token));
  Value maxBlocks = kb.toIndex(args[abi::kMaxBlocksPerSeq]);
  Value tableAt = kb.add(kb.mul(seq, maxBlocks), kb.div(position, blockSize));
  Value block = kb.toIndex(kb.load(args[abi::kBlockTables], tableAt));
  Value slot = kb.rem(position, blockSize);
  // Element offset of (block, kv head, slot) in the layer's K or V array.
  auto cacheRow = [&](Value kvHead) {
    Value row = kb.add(kb.mul(kb.add(kb.mul(block, kvHeads), kvHead), blockSize),
                       slot);
    return kb.mul(row, headDim);
  };
  Value rowBase = kb.mul(token, qkvWidth);
  Value positionF = arith::UIToFPOp::create(b, kb.f32(), positionI32);

  kb.stridedLoop(tid, (heads + kvHeads) * half, threads, [&](Value item) {
    Value head = kb.div(item, half);
    Value i = kb.rem(item, half);
    Value first = kb.add(kb.add(rowBase, kb.mul(head, headDim)), i);
    Value second = kb.add(first, half);
    Value x1 = kb.extF32(kb.load(args[abi::kQkv], first));
    Value x2 = kb.extF32(kb.load(args[abi::kQkv], second));
    Value angle = arith::MulFOp::create(b, positionF, kb.load(freqs, i));
    Value cos = kb.cosReduced(angle);
    Value sin = kb.sinReduced(angle);
    Value y1F32 = kb.subF(kb.mulF(x1, cos), kb.mulF(x2, sin));
    Value y1 = kb.truncF16(y1F32);
    Value y2F32 = kb.addF(kb.mulF(x2, cos), kb.mulF(x1, sin));
    Value y2 = kb.truncF16(y2F32);
    kb.store(y1, args[abi::kQkv], first);
    kb.store(y2, args[abi::kQkv], second);
    if (int8)
      return;
    Value isKey = arith::CmpIOp::create(b, arith::CmpIPredicate::uge, head,
                                        kb.index(heads));
    kb.ifThen(isKey, [&] {
      Value at = kb.add(cacheRow(kb.sub(head, kb.index(heads))), i);
      if (!r.kvFp8()) {
        kb.store(y1, args[abi::kKCache], at);
        kb.store(y2, args[abi::kKCache], kb.add(at, half));
        return;
      }
      // From f32, so the key is rounded once.
      Value pair = kb.packE4M3x2(y1F32, y2F32);
      Type byte = b.getI8Type();
      kb.store(arith::TruncIOp::create(b, byte, pair), args[abi::kKCache], at);
      Value upper = arith::ShRUIOp::create(
          b, pair, arith::ConstantOp::create(b, b.getI16IntegerAttr(8)));
      kb.store(arith::TruncIOp::create(b, byte, upper), args[abi::kKCache],
               kb.add(at, half));
    });
  });
  if (int8) {
    // The rotated keys are in the qkv row: visible to the block after the
    // barrier. Group g < kv_heads is k head g, the others v head g -
    // kv_heads: row head heads + g either way.
    kb.barrier();
    const int64_t perLane = headDim / 32;
    Value lane = kb.rem(tid, 32), warp = kb.div(tid, 32);
    KvPageRef keys{int8KvPage(r, true), args[abi::kKCache]};
    KvPageRef values{int8KvPage(r, false), args[abi::kVCache]};
    auto loop = scf::ForOp::create(b, warp, kb.index(2 * kvHeads), kb.index(threads / 32));
    b.setInsertionPointToStart(loop.getBody());
    Value g = loop.getInductionVar();
    Value first = kb.add(kb.add(rowBase, kb.mul(kb.add(g, heads), headDim)),
                         kb.mul(lane, perLane));
    SmallVector<Value> xs;
    for (int64_t e = 0; e < perLane; ++e)
      xs.push_back(kb.extF32(kb.load(args[abi::kQkv], kb.add(first, e))));
    Value x = vector::FromElementsOp::create(b, kb.vec(perLane, kb.f32()), xs);
    Value isKey = kb.ult(g, kvHeads);
    Value notKey = arith::XOrIOp::create(
        b, isKey, arith::ConstantOp::create(b, b.getBoolAttr(true)));
    for (auto [cond, ref, headOf] :
         {std::tuple{isKey, &keys, g}, std::tuple{notKey, &values, Value()}}) {
      kb.ifThen(cond, [&, ref = ref, headOf = headOf] {
        Value kvHead = headOf ? headOf : kb.sub(g, kb.index(kvHeads));
        Value page = ref->page(kb, kb.add(kb.mul(block, kvHeads), kvHead));
        encodeInt8Token(kb, *ref, page, slot, lane, x);
      });
    }
    b.setInsertionPointAfter(loop);
    return finishKernelIR(b, shell, threads);
  }
  Value valueBase = kb.add(rowBase, (heads + kvHeads) * headDim);
  if (!r.kvFp8()) {
    kb.stridedLoop(tid, kvHeads * headDim, threads, [&](Value item) {
      Value kvHead = kb.div(item, headDim);
      Value d = kb.rem(item, headDim);
      Value v = kb.load(args[abi::kQkv], kb.add(valueBase, item));
      kb.store(v, args[abi::kVCache], kb.add(cacheRow(kvHead), d));
    });
    return finishKernelIR(b, shell, threads);
  }
  // fp8 values: a pair of adjacent dims per item (head_dim is even), one
  // i16 store of their two bytes.
  kb.stridedLoop(tid, kvHeads * headDim / 2, threads, [&](Value item) {
    Value at = kb.mul(item, 2);
    Value kvHead = kb.div(at, headDim);
    Value d = kb.rem(at, headDim);
    Value lo = kb.load(args[abi::kQkv], kb.add(valueBase, at));
    Value hi = kb.load(args[abi::kQkv], kb.add(valueBase, kb.add(at, 1)));
    Value pair = kb.packE4M3x2(kb.extF32(lo), kb.extF32(hi));
    kb.store(pair, args[abi::kVCache], kb.div(kb.add(cacheRow(kvHead), d), 2));
  });
  return finishKernelIR(b, shell, threads);
}

} // namespace qtc::codegen
