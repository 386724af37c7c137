//===- RowQuantization.h - Writing and reading quantized rows ---*- C++ -*-===//
//
// The GPU side of quantized activation slots (runtime/include/qtc/rt/
// QuantizedRows.h): the row kernels that produce them (QuantizeRows, a
// quantizing RmsNorm) store a row's int8 codes and scale, and the W8A8
// linears read the scales back. One place computes the layout's offsets.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_LIB_CODEGEN_ROWQUANTIZATION_H
#define QTC_LIB_CODEGEN_ROWQUANTIZATION_H

#include "KernelBuilder.h"

namespace qtc::codegen {

// The pieces of one row a thread of a row kernel holds: f32x8 values at
// 8-element position index[j] of the row, valid[j] (null: always) saying
// whether the piece is inside the row.
struct RowPieces {
  llvm::SmallVector<mlir::Value> values, index, valid;
};

// Stores row `rowIndex` of a quantized slot `out` (an i32 buffer) of
// `width`: the block's absmax of the row (through `scratch`, a workgroup f32
// buffer of `warps` words that no other reduction uses concurrently), s =
// absmax / G (1 for a zero row; G = 127, or 448 for e4m3), the codes of v /
// s (f32 division, as the host divides: int8 round_half_even clamped to
// [-127, 127], or e4m3 round-to-nearest-even saturating, sm_89+), and s at
// the scales offset for `numRows` rows (an index value).
void storeQuantizedRow(KernelBuilder &kb, const RowPieces &row, bool fp8, mlir::Value out,
                       mlir::Value rowIndex, mlir::Value numRows, int64_t width,
                       mlir::Value scratch, int warps);

// The f32 scale of token `token` (index) of a quantized slot `x` (a
// vector<4xi32> buffer) of `width` written for `numTokens` rows.
mlir::Value loadRowScale16(KernelBuilder &kb, mlir::Value x, mlir::Value numTokens,
                           int64_t width, mlir::Value token);

} // namespace qtc::codegen

#endif // QTC_LIB_CODEGEN_ROWQUANTIZATION_H
