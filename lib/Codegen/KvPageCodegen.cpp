//===- KvPageCodegen.cpp - The int8 KV page as the kernels address it -----===//

#include "KvPageCodegen.h"

#include "qtc/Codegen/KernelGenerator.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace qtc::codegen {

rt::KvPageLayout int8KvPage(const KernelRequest &r, bool keys) {
  return rt::KvPageLayout::make(r.kvBlockSize, r.headDim, /*bits=*/8, /*perChannel=*/false,
                                keys ? r.kvKeySymmetric : r.kvValueSymmetric,
                                /*sinkTokens=*/0);
}

MemRefType kvPageBuffer(KernelBuilder &kb) { return kb.buffer(kb.b.getI8Type()); }

Value KvPageRef::page(KernelBuilder &kb, Value pageIndex) const {
  return kb.mul(pageIndex, static_cast<int64_t>(layout.pageBytes));
}
Value KvPageRef::codes(KernelBuilder &kb, Value page, Value slot) const {
  return kb.add(page, kb.mul(slot, layout.headDim));
}
Value KvPageRef::scale(KernelBuilder &kb, Value page, Value slot) const {
  return kb.add(kb.add(page, static_cast<int64_t>(layout.scalesOffset)), kb.mul(slot, 2));
}
Value KvPageRef::zero(KernelBuilder &kb, Value page, Value slot) const {
  return kb.add(kb.add(page, static_cast<int64_t>(layout.zerosOffset)), kb.mul(slot, 2));
}

Value loadBytes(KernelBuilder &kb, Value buffer, Value at, int64_t n) {
  return vector::LoadOp::create(kb.b, kb.vec(n, kb.b.getI8Type()), buffer, ValueRange{at},
                                /*nontemporal=*/false, llvm::MaybeAlign(n));
}

void storeBytes(KernelBuilder &kb, Value bytes, Value buffer, Value at) {
  int64_t n = cast<VectorType>(bytes.getType()).getNumElements();
  vector::StoreOp::create(kb.b, bytes, buffer, ValueRange{at}, /*nontemporal=*/false,
                          llvm::MaybeAlign(n));
}

Value loadHalfAsF32(KernelBuilder &kb, Value buffer, Value at) {
  ImplicitLocOpBuilder &b = kb.b;
  Value bytes = loadBytes(kb, buffer, at, 2);
  Value half = vector::BitCastOp::create(b, kb.vec(1, kb.f16()), bytes);
  return kb.extF32(kb.extract(half, 0));
}

void storeHalf(KernelBuilder &kb, Value half, Value buffer, Value at) {
  ImplicitLocOpBuilder &b = kb.b;
  Value v = vector::BroadcastOp::create(b, kb.vec(1, kb.f16()), half);
  storeBytes(kb, vector::BitCastOp::create(b, kb.vec(2, b.getI8Type()), v), buffer, at);
}

Value decodeInt8(KernelBuilder &kb, Value codes, Value scale, Value zero) {
  ImplicitLocOpBuilder &b = kb.b;
  int64_t n = cast<VectorType>(codes.getType()).getNumElements();
  VectorType f32s = kb.vec(n, kb.f32());
  Value wide = arith::ExtUIOp::create(b, kb.vec(n, kb.i32()), codes);
  Value c = arith::UIToFPOp::create(b, f32s, wide);
  Value s = vector::BroadcastOp::create(b, f32s, scale);
  if (!zero)
    return kb.mulF(kb.subF(c, vector::BroadcastOp::create(b, f32s, kb.constF32(128.0))), s);
  return kb.fma(c, s, vector::BroadcastOp::create(b, f32s, zero));
}

void encodeInt8Token(KernelBuilder &kb, const KvPageRef &ref, Value page, Value slot,
                     Value lane, Value x) {
  ImplicitLocOpBuilder &b = kb.b;
  const int64_t n = cast<VectorType>(x.getType()).getNumElements();
  const bool symmetric = ref.symmetric();
  SmallVector<Value> xs;
  for (int64_t i = 0; i < n; ++i)
    xs.push_back(kb.extract(x, i));
  auto negate = [&](Value v) { return arith::NegFOp::create(b, v); };
  Value scale, zero;
  if (symmetric) {
    Value amax = kb.constF32(0.0);
    for (Value v : xs)
    {
      // |v|: the sign bit cleared.
      Value bits = arith::AndIOp::create(b, arith::BitcastOp::create(b, kb.i32(), v),
                                         kb.constI32(0x7FFFFFFF));
      amax = kb.maxF(amax, arith::BitcastOp::create(b, kb.f32(), bits));
    }
    amax = kb.warpMax(amax);
    scale = kb.truncF16(arith::DivFOp::create(b, amax, kb.constF32(127.0)));
  } else {
    Value hi = xs[0], negLo = negate(xs[0]);
    for (Value v : ArrayRef<Value>(xs).drop_front()) {
      hi = kb.maxF(hi, v);
      negLo = kb.maxF(negLo, negate(v));
    }
    hi = kb.warpMax(hi);
    Value lo = negate(kb.warpMax(negLo));
    scale = kb.truncF16(arith::DivFOp::create(b, kb.subF(hi, lo), kb.constF32(255.0)));
    zero = kb.truncF16(lo);
  }
  Value s = kb.extF32(scale), z = zero ? kb.extF32(zero) : Value();
  Value positive = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, s, kb.constF32(0.0));
  SmallVector<Value> codes;
  for (Value v : xs) {
    Value ratio = arith::DivFOp::create(b, symmetric ? v : kb.subF(v, z), s);
    Value code;
    if (symmetric) {
      // q in [-127, 127] (cvt saturates to -128), stored q + 128.
      code = arith::MaxSIOp::create(b, kb.cvtRniSatS8(ratio), kb.constI32(-127));
      code = arith::AddIOp::create(b, code, kb.constI32(128));
    } else {
      code = kb.cvtRniSatU8(ratio);
    }
    // A zero scale stores code 0 (symmetric: q = 0).
    code = kb.select(positive, code, kb.constI32(symmetric ? 128 : 0));
    codes.push_back(arith::TruncIOp::create(b, b.getI8Type(), code));
  }
  Value bytes = vector::FromElementsOp::create(b, kb.vec(n, b.getI8Type()), codes);
  storeBytes(kb, bytes, ref.cache, kb.add(ref.codes(kb, page, slot), kb.mul(lane, n)));
  Value isLaneZero = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, kb.index(0));
  kb.ifThen(isLaneZero, [&] {
    storeHalf(kb, scale, ref.cache, ref.scale(kb, page, slot));
    if (zero)
      storeHalf(kb, zero, ref.cache, ref.zero(kb, page, slot));
  });
}

} // namespace qtc::codegen
