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
// Every format is dequantized a 32-bit word at a time, and the bit tricks
// work on both 16-bit halves of the word at once: they extract the same
// field from each half, so one result is an f16 pair of channels (j, j + W/2)
// of the word (W channels per word, j < W/2). A chunk of 4 words thus yields
// 2W pairs; pair p = (j, w) with j = p % (W/2), w = p / (W/2) holds channels
// (W w + j, W w + j + W/2), and operand m of the chunk takes pair 2m at
// k 2q.. and pair 2m + 1 at k 2q+8..:
//
//   f16   W = 2,  8 channels, 2 operands: pair p = (2p, 2p+1) (no trick)
//   int4  W = 8, 32 channels, 8 operands: nibbles j and j+4 of a word
//   int8  W = 4, 16 channels, 4 operands: bytes (0, 2) and (1, 3)
//   fp8   W = 4, 16 channels, 4 operands: as int8
//
//===----------------------------------------------------------------------===//
#ifndef QTC_LIB_CODEGEN_MMAFRAGMENTS_H
#define QTC_LIB_CODEGEN_MMAFRAGMENTS_H

#include "KernelBuilder.h"

#include "qtc/rt/artifact_generated.h"

#include "llvm/ADT/SmallVector.h"

#include <array>

namespace qtc::codegen {

// Channels (relative to the chunk) of the two f16 pairs of operand m:
// {first, second} of the pair at k 2q.. and of the pair at k 2q+8...
struct OperandChannels {
  int64_t lo[2];
  int64_t hi[2];
};

// How a format's 16-byte weight chunk maps onto mma operands.
struct WeightChunk {
  rt::fb::WeightFormat format = rt::fb::WeightFormat::Dense;
  int64_t channels = 8; // input channels per 16-byte chunk

  int64_t channelsPerWord() const { return channels / 4; }
  int64_t pairsPerWord() const { return channelsPerWord() / 2; }
  // A operands (16 k positions of rows g and g+8) per chunk.
  int64_t operands() const { return channels / 4; }
  // Channels of pair p of the chunk (see the file comment).
  std::array<int64_t, 2> pair(int64_t p) const;
  OperandChannels operandChannels(int64_t m) const;
  // The 8 channels of each 8-channel run in pair order: pairs 4r .. 4r+3 of
  // a chunk lie in run r. The prefill GEMM stages x in this order so that a
  // B register is one 32-bit word. Identity for f16.
  llvm::SmallVector<int64_t, 8> pairOrder8() const;
  // What the f16 operands are in units of the stored value: fp8 operands
  // hold e4m3 / 256 (its bit trick), the others the value itself.
  double operandUnit() const;
};

// The chunk layout of a Linear weight format.
WeightChunk weightChunk(rt::fb::WeightFormat format);

// Where a Linear kernel multiplies the weight scales in.
enum class ScalePlacement {
  None,     // dense f16 weights
  Operands, // the f16 A operands of each chunk, before the mma (any group)
  StepTile, // the f32 tile of one K step's mmas: the step's chunks share a group
  Output,   // the f32 result of each output row: one group spans all of K
};

// The registers of one chunk of rows g and g+8: the 16-byte words
// (vector<4xi32>) and, where the operands are scaled or shifted before the
// mma, their f16 scale and zero scalars (null otherwise: the operands are
// then the unscaled codes, exact in f16, for a caller that scales the mma's
// f32 result; null zeros are the format's implicit one, 8 for int4).
struct ChunkRegisters {
  mlir::Value words[2];
  mlir::Value scale[2];
  mlir::Value zero[2];
};

// A operands (vector<4x2xf16>) of one chunk, chunk.operands() of them:
//   f16  the weights as stored;
//   int4 (q - zero) * scale, q in [0, 15] (symmetric: zero 8);
//   int8 q * scale, q in [-128, 127] (symmetric only);
//   fp8  e4m3 / 256, never scaled here (its scale is f32 per output row).
llvm::SmallVector<mlir::Value, 8> weightOperands(KernelBuilder &kb,
                                                 const WeightChunk &chunk,
                                                 const ChunkRegisters &regs);

// The f32 factor that turns output row `row`'s sum of unscaled operands
// into its result (ScalePlacement::Output): the row's scale (f16 widened,
// or f32) over chunk.operandUnit(), i.e. times 256 for fp8 (exact).
mlir::Value loadRowScale(KernelBuilder &kb, const WeightChunk &chunk,
                         mlir::Value scales, mlir::Value row);

// B operand (vector<2x2xf16>) from two f16 pairs (vector<2xf16>).
mlir::Value buildOperandB(KernelBuilder &kb, mlir::Value lo, mlir::Value hi);

// B operand m of a chunk whose x is held as vector<8xf16> per 8 channels.
mlir::Value operandBFromHalves(KernelBuilder &kb, llvm::ArrayRef<mlir::Value> x8,
                               const WeightChunk &chunk, int64_t m);

// acc + a * b (vector<2x2xf32> accumulators).
mlir::Value mmaSync(KernelBuilder &kb, mlir::Value a, mlir::Value b,
                    mlir::Value acc);

} // namespace qtc::codegen

#endif // QTC_LIB_CODEGEN_MMAFRAGMENTS_H
