//===- MmaFragments.cpp - mma.sync operands of the Linear kernels ---------===//

#include "MmaFragments.h"

#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace qtc::codegen {
namespace {

Value pairOf(KernelBuilder &kb, Value v8, int64_t first, int64_t second) {
  return kb.shuffle(v8, {first, second});
}

Value buildOperandA(KernelBuilder &kb, Value a0, Value a1, Value a2, Value a3) {
  Value a = kb.zeros(VectorType::get({4, 2}, kb.f16()));
  int64_t pos = 0;
  for (Value v : {a0, a1, a2, a3})
    a = vector::InsertOp::create(kb.b, v, a, pos++);
  return a;
}

} // namespace

SmallVector<Value, 8> weightOperandsF16(KernelBuilder &kb, Value row0, Value row1) {
  VectorType half8 = kb.vec(8, kb.f16());
  Value w0 = vector::BitCastOp::create(kb.b, half8, row0);
  Value w1 = vector::BitCastOp::create(kb.b, half8, row1);
  SmallVector<Value, 8> operands;
  for (int64_t m = 0; m < 2; ++m) {
    OperandChannels c = operandChannels(false, m);
    operands.push_back(buildOperandA(kb, pairOf(kb, w0, c.lo[0], c.lo[1]),
                                     pairOf(kb, w1, c.lo[0], c.lo[1]),
                                     pairOf(kb, w0, c.hi[0], c.hi[1]),
                                     pairOf(kb, w1, c.hi[0], c.hi[1])));
  }
  return operands;
}

SmallVector<Value, 8> weightOperandsInt4(KernelBuilder &kb, Value row0, Value row1,
                                         Value scale0, Value scale1, Value zero0,
                                         Value zero1) {
  ImplicitLocOpBuilder &b = kb.b;
  VectorType half8 = kb.vec(8, kb.f16());
  // deq[r][j]: f16 lanes (2w, 2w+1) = channels (8w + j, 8w + j + 4).
  //
  // Nibbles j and j+4 sit at bits 4j and 16 + 4j of a word. OR-ing the
  // exponent of 1024 (0x6400) onto a nibble left in place gives the f16
  // 1024 + q for j = 0 and 1024 + 16 q for j = 1 (the nibble is then the
  // mantissa's bits 4-7), so one and-or (a single LOP3) dequantizes each
  // pair and one shift of the word by 8 serves j = 2 and 3: 5 integer
  // instructions per word instead of 7 (shift, and-or per pair).
  Value deq[2][4];
  Value lowMask = kb.splatI32(4, 0x000F000F);
  Value highMask = kb.splatI32(4, 0x00F000F0);
  Value magic = kb.splatI32(4, 0x64006400);
  Value rows[2] = {row0, row1}, scales[2] = {scale0, scale1}, zeros[2] = {zero0, zero1};
  for (int r = 0; r < 2; ++r) {
    // Symmetric weights subtract 1024 + 8 in the same instruction; other
    // zero points are subtracted after 1024 (exact for q in [0, 15]).
    double offset = zeros[r] ? 0.0 : 8.0;
    Value lowOffset = kb.splatF16(8, 1024.0 + offset);
    Value highOffset = kb.splatF16(8, -(64.0 + offset));
    Value sixteenth = kb.splatF16(8, 1.0 / 16.0);
    Value shifted = arith::ShRUIOp::create(b, rows[r], kb.splatI32(4, 8));
    for (int j = 0; j < 4; ++j) {
      Value word = j < 2 ? rows[r] : shifted;
      Value bits = arith::OrIOp::create(
          b, arith::AndIOp::create(b, word, j % 2 ? highMask : lowMask), magic);
      Value h = vector::BitCastOp::create(b, half8, bits);
      // (1024 + 16 q) / 16 - 64 = q: exact, so one fma.
      Value q = j % 2 ? kb.fma(h, sixteenth, highOffset) : kb.subF(h, lowOffset);
      if (zeros[r])
        q = kb.subF(q, vector::BroadcastOp::create(b, half8, zeros[r]));
      if (scales[r])
        q = kb.mulF(q, vector::BroadcastOp::create(b, half8, scales[r]));
      deq[r][j] = q;
    }
  }
  SmallVector<Value, 8> operands;
  for (int64_t m = 0; m < 8; ++m) {
    int64_t w = m / 2, j = 2 * (m % 2);
    operands.push_back(buildOperandA(kb, pairOf(kb, deq[0][j], 2 * w, 2 * w + 1),
                                     pairOf(kb, deq[1][j], 2 * w, 2 * w + 1),
                                     pairOf(kb, deq[0][j + 1], 2 * w, 2 * w + 1),
                                     pairOf(kb, deq[1][j + 1], 2 * w, 2 * w + 1)));
  }
  return operands;
}

OperandChannels operandChannels(bool int4, int64_t m) {
  if (!int4)
    return {{4 * m, 4 * m + 1}, {4 * m + 2, 4 * m + 3}};
  int64_t w = m / 2, j = 2 * (m % 2);
  return {{8 * w + j, 8 * w + j + 4}, {8 * w + j + 1, 8 * w + j + 5}};
}

Value buildOperandB(KernelBuilder &kb, Value lo, Value hi) {
  Value v = kb.zeros(VectorType::get({2, 2}, kb.f16()));
  v = vector::InsertOp::create(kb.b, lo, v, 0);
  return vector::InsertOp::create(kb.b, hi, v, 1);
}

Value operandBFromHalves(KernelBuilder &kb, ArrayRef<Value> x8, bool int4, int64_t m) {
  OperandChannels c = operandChannels(int4, m);
  Value v = x8[c.lo[0] / 8];
  return buildOperandB(kb, pairOf(kb, v, c.lo[0] % 8, c.lo[1] % 8),
                       pairOf(kb, v, c.hi[0] % 8, c.hi[1] % 8));
}

Value mmaSync(KernelBuilder &kb, Value a, Value b, Value acc) {
  return nvgpu::MmaSyncOp::create(kb.b, a, b, acc, ArrayRef<int64_t>{16, 8, 16});
}

} // namespace qtc::codegen
