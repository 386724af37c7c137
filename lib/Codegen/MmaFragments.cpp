//===- MmaFragments.cpp - mma.sync operands of the Linear kernels ---------===//

#include "MmaFragments.h"
#include "WeightDequant.h"

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

WeightChunk weightChunk(rt::fb::WeightFormat format) {
  WeightChunk c;
  c.format = format;
  switch (format) {
  case rt::fb::WeightFormat::Dense: c.channels = 8; break;
  case rt::fb::WeightFormat::Int4Group: c.channels = 32; break;
  case rt::fb::WeightFormat::Int8Group:
  case rt::fb::WeightFormat::Fp8Channel: c.channels = 16; break;
  }
  return c;
}

std::array<int64_t, 2> WeightChunk::pair(int64_t p) const {
  int64_t w = p / pairsPerWord(), j = p % pairsPerWord();
  int64_t first = channelsPerWord() * w + j;
  return {first, first + channelsPerWord() / 2};
}

OperandChannels WeightChunk::operandChannels(int64_t m) const {
  std::array<int64_t, 2> lo = pair(2 * m), hi = pair(2 * m + 1);
  return {{lo[0], lo[1]}, {hi[0], hi[1]}};
}

SmallVector<int64_t, 8> WeightChunk::pairOrder8() const {
  SmallVector<int64_t, 8> order;
  for (int64_t p = 0; p < 4; ++p)
    for (int64_t c : pair(p))
      order.push_back(c);
  return order;
}

double WeightChunk::operandUnit() const {
  return format == rt::fb::WeightFormat::Fp8Channel ? 1.0 / 256.0 : 1.0;
}

SmallVector<Value, 8> weightOperands(KernelBuilder &kb, const WeightChunk &chunk,
                                     const ChunkRegisters &regs) {
  SmallVector<Value, 4> planes[2];
  for (int r = 0; r < 2; ++r)
    planes[r] = dequantizeChunk(kb, chunk, regs.words[r], regs.scale[r], regs.zero[r]);
  // Pair p is lanes (2w, 2w+1) of plane j, p = w * pairsPerWord + j.
  auto pairValue = [&](int r, int64_t p) {
    int64_t w = p / chunk.pairsPerWord(), j = p % chunk.pairsPerWord();
    return pairOf(kb, planes[r][j], 2 * w, 2 * w + 1);
  };
  SmallVector<Value, 8> operands;
  for (int64_t m = 0; m < chunk.operands(); ++m)
    operands.push_back(buildOperandA(kb, pairValue(0, 2 * m), pairValue(1, 2 * m),
                                     pairValue(0, 2 * m + 1), pairValue(1, 2 * m + 1)));
  return operands;
}

Value loadRowScale(KernelBuilder &kb, const WeightChunk &chunk, Value scales,
                   Value row) {
  Value scale = kb.load(scales, row);
  if (!scale.getType().isF32())
    scale = kb.extF32(scale);
  if (chunk.operandUnit() != 1.0)
    scale = kb.mulF(scale, kb.constF32(1.0 / chunk.operandUnit()));
  return scale;
}

Value buildOperandB(KernelBuilder &kb, Value lo, Value hi) {
  Value v = kb.zeros(VectorType::get({2, 2}, kb.f16()));
  v = vector::InsertOp::create(kb.b, lo, v, 0);
  return vector::InsertOp::create(kb.b, hi, v, 1);
}

Value operandBFromHalves(KernelBuilder &kb, ArrayRef<Value> x8,
                         const WeightChunk &chunk, int64_t m) {
  // A pair never straddles two runs of 8 channels (its channels are W/2
  // apart inside one word's W <= 8).
  OperandChannels c = chunk.operandChannels(m);
  return buildOperandB(kb, pairOf(kb, x8[c.lo[0] / 8], c.lo[0] % 8, c.lo[1] % 8),
                       pairOf(kb, x8[c.hi[0] / 8], c.hi[0] % 8, c.hi[1] % 8));
}

Value mmaSync(KernelBuilder &kb, Value a, Value b, Value acc) {
  return nvgpu::MmaSyncOp::create(kb.b, a, b, acc, ArrayRef<int64_t>{16, 8, 16});
}

} // namespace qtc::codegen
