//===- MmaFragments.h - mma.sync operands of the Linear kernels -----------===//
//
// The Linear kernels multiply with mma.sync.m16n8k16 (f16 x f16 -> f32). In
// a warp, lane (g = lane / 4, q = lane % 4) holds A rows g and g+8 at k
// positions {2q, 2q+1} (registers 0, 1) and {2q+8, 2q+9} (registers 2, 3),
// and B column g at the same k positions. The product reduces over k, so the
// kernels choose which input channels sit at a lane's k positions: those of
// the 16-byte weight chunk the lane loaded itself. These helpers build the A
// operands of one chunk of rows g and g+8, and say which x channels the
// matching B operands need.
//
//   f16 chunk (8 channels):  operand m in {0, 1}: k 2q.. <- channels
//                            (4m, 4m+1), k 2q+8.. <- (4m+2, 4m+3).
//   int4 chunk (32 channels, 4 words of 8): operand m in 0..7, word w = m/2,
//                            j = 2 (m % 2): k 2q.. <- (8w+j, 8w+j+4),
//                            k 2q+8.. <- (8w+j+1, 8w+j+5)
//   (the magic-number dequantization yields channels j and j+4 of a word as
//   one f16 pair).
//
//===----------------------------------------------------------------------===//
#ifndef QTC_LIB_CODEGEN_MMAFRAGMENTS_H
#define QTC_LIB_CODEGEN_MMAFRAGMENTS_H

#include "KernelBuilder.h"

#include "llvm/ADT/SmallVector.h"

namespace qtc::codegen {

// Operands per 16-byte weight chunk.
inline int64_t operandsPerChunk(bool int4) { return int4 ? 8 : 2; }

// A operands (vector<4x2xf16>) of the f16 chunks (vector<4xi32>) of rows g
// and g+8.
llvm::SmallVector<mlir::Value, 8> weightOperandsF16(KernelBuilder &kb,
                                                    mlir::Value row0,
                                                    mlir::Value row1);

// A operands of int4 chunks: (q - zero) * scale per channel, in f16. `zero`
// entries are null for symmetric weights (zero point 8); null `scale`
// entries leave the operands unscaled, q - zero (exact small integers), for
// a caller that scales the mma's f32 result instead.
llvm::SmallVector<mlir::Value, 8>
weightOperandsInt4(KernelBuilder &kb, mlir::Value row0, mlir::Value row1,
                   mlir::Value scale0, mlir::Value scale1, mlir::Value zero0,
                   mlir::Value zero1);

// Channels (relative to the chunk) of the two f16 pairs of B operand m:
// {first, second} of the pair at k 2q.. and of the pair at k 2q+8...
struct OperandChannels {
  int64_t lo[2];
  int64_t hi[2];
};
OperandChannels operandChannels(bool int4, int64_t m);

// B operand (vector<2x2xf16>) from two f16 pairs (vector<2xf16>).
mlir::Value buildOperandB(KernelBuilder &kb, mlir::Value lo, mlir::Value hi);

// B operand m of a chunk whose x is held as vector<8xf16> per 8 channels.
mlir::Value operandBFromHalves(KernelBuilder &kb, llvm::ArrayRef<mlir::Value> x8,
                               bool int4, int64_t m);

// acc + a * b (vector<2x2xf32> accumulators).
mlir::Value mmaSync(KernelBuilder &kb, mlir::Value a, mlir::Value b,
                    mlir::Value acc);

} // namespace qtc::codegen

#endif // QTC_LIB_CODEGEN_MMAFRAGMENTS_H
