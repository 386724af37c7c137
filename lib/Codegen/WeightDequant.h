//===- WeightDequant.h - Weight chunks to f16 in registers ----------------===//
//
// The integer bit tricks that turn one 16-byte chunk of a row's stored
// weights into f16 values for the tensor cores, one per format. Each works
// on whole 32-bit words and yields, per word, f16 pairs of channels
// (j, j + W/2) (MmaFragments.h explains the pair order).
//
//===----------------------------------------------------------------------===//
#ifndef QTC_LIB_CODEGEN_WEIGHTDEQUANT_H
#define QTC_LIB_CODEGEN_WEIGHTDEQUANT_H

#include "MmaFragments.h"

namespace qtc::codegen {

// The chunk `words` (vector<4xi32>) of one row as chunk.pairsPerWord()
// planes of vector<8xf16>: lanes (2w, 2w+1) of plane j are pair j of word w.
// `scale` and `zero` (f16 scalars) may be null, as in ChunkRegisters.
llvm::SmallVector<mlir::Value, 4> dequantizeChunk(KernelBuilder &kb,
                                                  const WeightChunk &chunk,
                                                  mlir::Value words,
                                                  mlir::Value scale,
                                                  mlir::Value zero);

} // namespace qtc::codegen

#endif // QTC_LIB_CODEGEN_WEIGHTDEQUANT_H
