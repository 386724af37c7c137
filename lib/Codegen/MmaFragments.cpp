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
  Value deq[2][4];
  Value mask = kb.splatI32(4, 0x000F000F);
  Value magic = kb.splatI32(4, 0x64006400);
  Value rows[2] = {row0, row1}, scales[2] = {scale0, scale1}, zeros[2] = {zero0, zero1};
  for (int r = 0; r < 2; ++r) {
    Value scale = vector::BroadcastOp::create(b, half8, scales[r]);
    // 1024 + q - (1024 + zero) is exact in f16 for integer zero points;
    // other zero points are subtracted after 1024.
    Value offset = kb.splatF16(8, zeros[r] ? 1024.0 : 1024.0 + 8.0);
    for (int j = 0; j < 4; ++j) {
      Value word = rows[r];
      if (j > 0)
        word = arith::ShRUIOp::create(b, word, kb.splatI32(4, 4 * j));
      word = arith::OrIOp::create(b, arith::AndIOp::create(b, word, mask), magic);
      Value q = kb.subF(vector::BitCastOp::create(b, half8, word), offset);
      if (zeros[r])
        q = kb.subF(q, vector::BroadcastOp::create(b, half8, zeros[r]));
      deq[r][j] = kb.mulF(q, scale);
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
