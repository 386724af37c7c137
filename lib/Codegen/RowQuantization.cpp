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

void storeInt8Row(KernelBuilder &kb, const RowPieces &row, Value out, Value rowIndex,
                  Value numRows, int64_t width, Value scratch, int warps) {
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
  Value scale = kb.select(positive, arith::DivFOp::create(b, absMax, kb.constF32(127.0)),
                          kb.constF32(1.0));
  Value splat = vector::BroadcastOp::create(b, f32x8, scale);
  Value rowBase = kb.mul(rowIndex, width / 4); // in i32 words
  for (size_t j = 0; j < row.values.size(); ++j) {
    auto write = [&, j] {
      Value ratio = arith::DivFOp::create(b, row.values[j], splat);
      Value words = kb.zeros(kb.vec(2, kb.i32()));
      for (int64_t w = 0; w < 2; ++w) {
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
        words = vector::InsertOp::create(b, word, words, w);
      }
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
