//===- RowQuantization.cpp - Writing and reading quantized rows -----------===//

#include "RowQuantization.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace qtc::codegen {

// Where the scales start, in units of `unitBytes`: align16(rows * width).
static Value scalesStart(KernelBuilder &kb, Value numRows, int64_t width, int64_t unitBytes) {
  Value bytes16 = kb.div(kb.add(kb.mul(numRows, width), 15), 16);
  return kb.mul(bytes16, 16 / unitBytes);
}

// Four codes of ratio[4w..4w+3] as one word, byte 0 first.
static Value codeWord(KernelBuilder &kb, Value ratio, int64_t w, bool fp8) {
  ImplicitLocOpBuilder &b = kb.b;
  if (fp8) {
    Value lo = kb.packE4M3x2(kb.extract(ratio, 4 * w), kb.extract(ratio, 4 * w + 1));
    Value hi = kb.packE4M3x2(kb.extract(ratio, 4 * w + 2), kb.extract(ratio, 4 * w + 3));
    Value word = arith::ExtUIOp::create(b, kb.i32(), lo);
    Value upper = arith::ShLIOp::create(b, arith::ExtUIOp::create(b, kb.i32(), hi),
                                        kb.constI32(16));
    return arith::OrIOp::create(b, word, upper);
  }
  Value word = kb.constI32(0);
  for (int64_t i = 0; i < 4; ++i) {
    Value code = kb.cvtRniSatS8(kb.extract(ratio, 4 * w + i));
    // The grid is symmetric: -128 never occurs.
    code = arith::MaxSIOp::create(b, code, kb.constI32(-127));
    code = arith::AndIOp::create(b, code, kb.constI32(0xFF));
    if (i > 0)
      code = arith::ShLIOp::create(b, code, kb.constI32(8 * i));
    word = arith::OrIOp::create(b, word, code);
  }
  return word;
}

void storeQuantizedRow(KernelBuilder &kb, const RowPieces &row, bool fp8, Value out,
                       Value rowIndex, Value numRows, int64_t width, Value scratch, int warps) {
  ImplicitLocOpBuilder &b = kb.b;
  VectorType f32x8 = kb.vec(8, kb.f32());
  Value absMax = kb.constF32(0.0);
  for (size_t j = 0; j < row.values.size(); ++j) {
    // |v|: the sign bits cleared.
    Value bits = vector::BitCastOp::create(b, kb.vec(8, kb.i32()), row.values[j]);
    bits = arith::AndIOp::create(b, bits, kb.splatI32(8, 0x7FFFFFFF));
    Value magnitude = vector::BitCastOp::create(b, f32x8, bits);
    Value m = kb.extract(magnitude, 0);
    for (int64_t i = 1; i < 8; ++i)
      m = kb.maxF(m, kb.extract(magnitude, i));
    if (row.valid[j])
      m = kb.select(row.valid[j], m, kb.constF32(0.0));
    absMax = kb.maxF(absMax, m);
  }
  absMax = kb.blockMax(absMax, scratch, warps);
  Value positive =
      arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, absMax, kb.constF32(0.0));
  Value scale = kb.select(positive,
                          arith::DivFOp::create(b, absMax, kb.constF32(fp8 ? 448.0 : 127.0)),
                          kb.constF32(1.0));
  Value splat = vector::BroadcastOp::create(b, f32x8, scale);
  Value rowBase = kb.mul(rowIndex, width / 4); // in i32 words
  for (size_t j = 0; j < row.values.size(); ++j) {
    auto write = [&, j] {
      Value ratio = arith::DivFOp::create(b, row.values[j], splat);
      Value words = kb.zeros(kb.vec(2, kb.i32()));
      for (int64_t w = 0; w < 2; ++w)
        words = vector::InsertOp::create(b, codeWord(kb, ratio, w, fp8), words, w);
      Value at = kb.add(rowBase, kb.mul(row.index[j], 2));
      // Eight codes at a multiple of 8 bytes (width % 8 == 0): one st.v2.
      vector::StoreOp::create(b, words, out, ValueRange{at}, /*nontemporal=*/false,
                              llvm::MaybeAlign(8));
    };
    if (row.valid[j])
      kb.ifThen(row.valid[j], write);
    else
      write();
  }
  kb.ifThen(arith::CmpIOp::create(b, arith::CmpIPredicate::eq, kb.threadIdX(), kb.index(0)),
            [&] {
              Value at = kb.add(scalesStart(kb, numRows, width, 4), rowIndex);
              kb.store(arith::BitcastOp::create(b, kb.i32(), scale), out, at);
            });
}

Value loadRowScale16(KernelBuilder &kb, Value x, Value numTokens, int64_t width, Value token) {
  ImplicitLocOpBuilder &b = kb.b;
  Value words = kb.load(x, kb.add(scalesStart(kb, numTokens, width, 16), kb.div(token, 4)));
  Value lane = kb.rem(token, 4);
  Value word = kb.extract(words, 0);
  for (int64_t i = 1; i < 4; ++i)
    word = kb.select(arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, kb.index(i)),
                     kb.extract(words, i), word);
  return arith::BitcastOp::create(b, kb.f32(), word);
}

} // namespace qtc::codegen
