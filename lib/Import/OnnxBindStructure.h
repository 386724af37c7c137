//===- OnnxBindStructure.h - The raised decoder's layers --------*- C++ -*-===//
//
// After raising, @main is a chain of tfm ops joined by the ONNX ops the
// raising passes leave to the binding: residual `onnx.Add`s, activation
// `onnx.Cast`s and the tensor reshapes between [1, T, F] and [T, F]. This
// finds the decoder in it by data flow alone (no node or tensor names):
// the embedding, each layer's ops by the role they play, the final norm and
// the head.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_LIB_IMPORT_ONNXBINDSTRUCTURE_H
#define QTC_LIB_IMPORT_ONNXBINDSTRUCTURE_H

#include "dialects/tfm/TfmOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"

namespace qtc {

/// One pre-norm decoder layer:
/// x + o(attn(rope(q(n1 x)), rope(k(n1 x)), v(n1 x))), then
/// h + down(swiglu(gate(n2 h), up(n2 h))).
struct RaisedLayer {
  tfm::RmsNormOp inputNorm;
  tfm::LinearOp query, key, value;
  tfm::RopeOp queryRope, keyRope;
  tfm::AttentionOp attention;
  tfm::LinearOp output;
  tfm::RmsNormOp postAttentionNorm;
  tfm::LinearOp gate, up;
  tfm::SwigluOp swiglu;
  tfm::LinearOp down;
  /// Interleaved RoPE: the feature permutation (of the whole q / k
  /// projection, per head the same) that the raising put before each rope
  /// (its inverse after); empty for rotate-half.
  llvm::SmallVector<int64_t> queryPermutation, keyPermutation;
};

struct RaisedDecoder {
  tfm::EmbeddingOp embedding;
  llvm::SmallVector<RaisedLayer> layers;
  tfm::RmsNormOp finalNorm;
  tfm::LinearOp head;
  /// Every op the structure accounts for, the residual Adds and activation
  /// Casts and reshapes between them included.
  llvm::DenseSet<mlir::Operation *> ops;
};

/// Finds the decoder computing @main's single result. A part that does not
/// fit is an error at the op where the structure breaks, saying what was
/// expected there.
mlir::FailureOr<RaisedDecoder> findRaisedDecoder(mlir::func::FuncOp main);

} // namespace qtc

#endif // QTC_LIB_IMPORT_ONNXBINDSTRUCTURE_H
