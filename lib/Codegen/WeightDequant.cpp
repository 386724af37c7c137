//===- WeightDequant.cpp - Weight chunks to f16 in registers --------------===//

#include "WeightDequant.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cassert>

using namespace mlir;

namespace qtc::codegen {
namespace {

// Int4: nibbles j and j+4 sit at bits 4j and 16 + 4j of a word. OR-ing the
// exponent of 1024 (0x6400) onto a nibble left in place gives the f16
// 1024 + q for j = 0 and 1024 + 16 q for j = 1 (the nibble is then the
// mantissa's bits 4-7), so one and-or (a single LOP3) dequantizes each pair
// and one shift of the word by 8 serves j = 2 and 3: 5 integer instructions
// per word instead of 7 (shift, and-or per pair).
SmallVector<Value, 4> int4Planes(KernelBuilder &kb, Value words, Value scale,
                                 Value zero) {
  ImplicitLocOpBuilder &b = kb.b;
  VectorType half8 = kb.vec(8, kb.f16());
  Value lowMask = kb.splatI32(4, 0x000F000F);
  Value highMask = kb.splatI32(4, 0x00F000F0);
  Value magic = kb.splatI32(4, 0x64006400);
  // Symmetric weights subtract 1024 + 8 in the same instruction; other zero
  // points are subtracted after 1024 (exact for q in [0, 15]).
  double offset = zero ? 0.0 : 8.0;
  Value lowOffset = kb.splatF16(8, 1024.0 + offset);
  Value highOffset = kb.splatF16(8, -(64.0 + offset));
  Value sixteenth = kb.splatF16(8, 1.0 / 16.0);
  Value shifted = arith::ShRUIOp::create(b, words, kb.splatI32(4, 8));
  SmallVector<Value, 4> planes;
  for (int j = 0; j < 4; ++j) {
    Value word = j < 2 ? words : shifted;
    Value bits = arith::OrIOp::create(
        b, arith::AndIOp::create(b, word, j % 2 ? highMask : lowMask), magic);
    Value h = vector::BitCastOp::create(b, half8, bits);
    // (1024 + 16 q) / 16 - 64 = q: exact, so one fma.
    Value q = j % 2 ? kb.fma(h, sixteenth, highOffset) : kb.subF(h, lowOffset);
    if (zero)
      q = kb.subF(q, vector::BroadcastOp::create(b, half8, zero));
    if (scale)
      q = kb.mulF(q, vector::BroadcastOp::create(b, half8, scale));
    planes.push_back(q);
  }
  return planes;
}

// Int8: u = q + 128 (q xor 0x80 per byte) is an unsigned byte, and the f16
// with exponent bits 0x6400 and u in the low mantissa byte is 1024 + u
// exactly (the f16 spacing in [1024, 2048) is 1). Bytes 0 and 2 of a word
// are the low bytes of its halves already, bytes 1 and 3 after a shift by
// 8, so per word: ((w ^ 0x80808080) & 0x00FF00FF) | 0x64006400, written
// (w & 0x00FF00FF) ^ 0x64806480 (one LOP3), the same after the shift, and
// one exact f16 subtraction of 1152 per pair: 5 instructions per 4 codes.
SmallVector<Value, 4> int8Planes(KernelBuilder &kb, Value words, Value scale) {
  ImplicitLocOpBuilder &b = kb.b;
  VectorType half8 = kb.vec(8, kb.f16());
  Value mask = kb.splatI32(4, 0x00FF00FF);
  Value flipAndMagic = kb.splatI32(4, 0x64806480);
  Value offset = kb.splatF16(8, 1024.0 + 128.0);
  Value shifted = arith::ShRUIOp::create(b, words, kb.splatI32(4, 8));
  SmallVector<Value, 4> planes;
  for (Value word : {words, shifted}) {
    Value bits = arith::XOrIOp::create(b, arith::AndIOp::create(b, word, mask),
                                       flipAndMagic);
    Value q = kb.subF(vector::BitCastOp::create(b, half8, bits), offset);
    if (scale)
      q = kb.mulF(q, vector::BroadcastOp::create(b, half8, scale));
    planes.push_back(q);
  }
  return planes;
}

// Fp8 (OCP E4M3, qtc/rt/Float8.h): a byte b = s eeee mmm placed as the f16
// bits s 0eeee mmm0000000, i.e. ((b & 0x80) << 8) | ((b & 0x7F) << 7), is
// e4m3(b) / 256 for every finite code: a normal code's f16 exponent field is
// e (bias 15 instead of 7: 2^-8), a subnormal one (e = 0) is f16 subnormal
// with the same mantissa bits, 2^-14 m/8 = 2^-8 (2^-6 m/8). No conversion
// instruction is needed (cvt from e4m3 exists only from sm_89), and the
// kernels fold the 256 into the f32 per-row scale. Bytes 0 and 2 of a word
// move into the halves with shifts by 8 (sign) and 7 (exponent and
// mantissa), bytes 1 and 3 stay (sign) or shift right by 1.
SmallVector<Value, 4> fp8Planes(KernelBuilder &kb, Value words) {
  ImplicitLocOpBuilder &b = kb.b;
  VectorType half8 = kb.vec(8, kb.f16());
  Value signs = kb.splatI32(4, static_cast<int32_t>(0x80008000u));
  Value magnitudes = kb.splatI32(4, 0x3F803F80);
  auto field = [&](Value w, Value mask) { return arith::AndIOp::create(b, w, mask); };
  auto shl = [&](int64_t n) { return arith::ShLIOp::create(b, words, kb.splatI32(4, n)); };
  Value even = arith::OrIOp::create(b, field(shl(8), signs), field(shl(7), magnitudes));
  Value odd = arith::OrIOp::create(
      b, field(words, signs),
      field(arith::ShRUIOp::create(b, words, kb.splatI32(4, 1)), magnitudes));
  return {vector::BitCastOp::create(b, half8, even),
          vector::BitCastOp::create(b, half8, odd)};
}

} // namespace

SmallVector<Value, 4> dequantizeChunk(KernelBuilder &kb, const WeightChunk &chunk,
                                      Value words, Value scale, Value zero) {
  switch (chunk.format) {
  case rt::fb::WeightFormat::Dense:
    return {vector::BitCastOp::create(kb.b, kb.vec(8, kb.f16()), words)};
  case rt::fb::WeightFormat::Int4Group:
    return int4Planes(kb, words, scale, zero);
  case rt::fb::WeightFormat::Int8Group:
    return int8Planes(kb, words, scale);
  case rt::fb::WeightFormat::Fp8Channel:
    assert(!scale && "fp8 scales are f32 per row, applied after the mma");
    return fp8Planes(kb, words);
  }
  return {};
}

} // namespace qtc::codegen
